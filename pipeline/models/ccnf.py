"""Reader of OpenFace's binary CCNF patch-expert files (``ccnf_patches_*.txt``).

Reproduces ``Patch_experts.cpp::Patch_experts::Read_CCNF_patch_experts``,
``CCNF_patch_expert.cpp::CCNF_patch_expert::Read`` and ``CCNF_neuron::Read``.
Despite the ``.txt`` suffix these files are little-endian binary:

* ``float64`` patch scaling, ``int32`` number of views;
* per view a 3x1 matrix (degrees; converted to radians here, as OpenFace does);
* per view an n x 1 ``int32`` visibility matrix;
* ``int32`` number of window sizes, then per window size ``int32`` window, ``int32``
  number of sigma components and that many (w^2 x w^2) ``float32`` matrices;
* per view, per landmark one patch expert: ``int32`` 5, ``int32`` width, height and
  number of neurons (0 = empty expert, followed by one padding ``int32``); per neuron
  ``int32`` 2, ``int32`` type, ``float64`` norm_weights, bias, alpha and a weights
  matrix; then one ``float64`` beta per sigma component and the ``float64`` confidence.

A matrix is ``int32`` rows, cols, OpenCV type (0 u8, 4 i32, 5 f32, 6 f64), then the data
row-major (``LandmarkDetectorUtils.cpp::ReadMatBin``).
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aubench.pipeline import cache
from aubench.pipeline.errors import ModelFormatError

_CV_TYPES = {0: np.uint8, 1: np.int8, 2: np.uint16, 3: np.int16, 4: np.int32, 5: np.float32, 6: np.float64}


@dataclass(frozen=True)
class CCNFPatchExpert:
    """One landmark's CCNF patch expert at one scale and view (``CCNF_patch_expert``).

    Attributes
    ----------
    width, height : int
        Support of the expert in reference-frame pixels (11 x 11 for the main model).
    neuron_types, norm_weights, biases, alphas : (k,) arrays
        Per neuron (k neurons; k = 0 for an expert of an invisible landmark).
    weights : (k, height, width) float32
        Neuron filters.
    betas : (n_sigma_components,) float64
        Weights of the sigma components (the CRF edge potentials).
    patch_confidence : float
    """

    width: int
    height: int
    neuron_types: np.ndarray
    norm_weights: np.ndarray
    biases: np.ndarray
    alphas: np.ndarray
    weights: np.ndarray
    betas: np.ndarray
    patch_confidence: float

    @property
    def empty(self) -> bool:
        return len(self.alphas) == 0

    def weight_matrix(self) -> np.ndarray:
        """(k, 1 + h*w) float32: bias, then the column-major filter times norm_weights.

        As ``CCNF_patch_expert::Read`` packs it for ``ResponseOpenBlas`` (the column
        order matches ``im2colContrastNormBias``: index ``x*height + y``).
        """
        k = len(self.alphas)
        out = np.empty((k, 1 + self.width * self.height), np.float32)
        out[:, 0] = self.biases.astype(np.float32)
        flat = self.weights.transpose(0, 2, 1).reshape(k, -1)  # column-major per filter
        out[:, 1:] = flat * self.norm_weights.astype(np.float32)[:, None]
        return out


@dataclass(frozen=True)
class CCNFScale:
    """All CCNF patch experts of one scale (one ``ccnf_patches_<scale>_*.txt`` file).

    Attributes
    ----------
    patch_scaling : float
        Scale of the reference frame (0.25, 0.35, 0.5 for the main model).
    centers : (n_views, 3) float64
        View orientations (Euler x, y, z) in radians.
    visibilities : (n_views, n) int32
    sigma_components : dict window_size -> (n_components, w^2, w^2) float32
    experts : tuple over views of tuple over landmarks of :class:`CCNFPatchExpert`
    sha256 : hex digest of the file's bytes (names what is derived from it, e.g. cached Sigmas)
    """

    path: str
    patch_scaling: float
    centers: np.ndarray
    visibilities: np.ndarray
    sigma_components: dict
    experts: tuple
    sha256: str = ""

    @property
    def n_views(self) -> int:
        return len(self.centers)

    @property
    def n_points(self) -> int:
        return self.visibilities.shape[1]


_STRUCT = {np.int32: "<i", np.float64: "<d", np.float32: "<f"}


class _Cursor:
    def __init__(self, path: Path, data: bytes):
        self.path, self.data, self.off = path, data, 0

    def _need(self, nbytes: int, what: str) -> None:
        if self.off + nbytes > len(self.data):
            raise ModelFormatError(self.path, f"{what} at byte {self.off}",
                                   f"end of file after {len(self.data)} bytes (truncated)")

    def scalar(self, dtype, what: str):
        fmt = _STRUCT[dtype]
        size = struct.calcsize(fmt)
        self._need(size, what)
        (v,) = struct.unpack_from(fmt, self.data, self.off)
        self.off += size
        return v

    def neuron_header(self, what: str) -> tuple[int, int, float, float, float]:
        """marker (int32), type (int32), norm, bias, alpha (float64) in one read."""
        self._need(32, what)
        values = struct.unpack_from("<iiddd", self.data, self.off)
        self.off += 32
        return values

    def mat(self, what: str) -> np.ndarray:
        rows = self.scalar(np.int32, what)
        cols = self.scalar(np.int32, what)
        cv_type = self.scalar(np.int32, what)
        if cv_type not in _CV_TYPES or rows < 0 or cols < 0:
            raise ModelFormatError(self.path, f"{what}: a matrix header (rows, cols, OpenCV depth)",
                                   f"rows={rows} cols={cols} type={cv_type}")
        dt = np.dtype(_CV_TYPES[cv_type]).newbyteorder("<")
        self._need(rows * cols * dt.itemsize, what)
        arr = np.frombuffer(self.data, dt, rows * cols, self.off).reshape(rows, cols)
        self.off += rows * cols * dt.itemsize
        return arr.astype(dt.newbyteorder("="))


def _read_expert(cur: _Cursor, n_betas: int, where: str) -> CCNFPatchExpert:
    marker = cur.scalar(np.int32, where)
    if marker != 5:
        raise ModelFormatError(cur.path, f"{where}: patch-expert marker 5", str(marker))
    width = cur.scalar(np.int32, where)
    height = cur.scalar(np.int32, where)
    n_neurons = cur.scalar(np.int32, where)
    if n_neurons == 0:
        cur.scalar(np.int32, where)  # padding int written for empty experts
        z = np.zeros(0)
        return CCNFPatchExpert(width, height, np.zeros(0, np.int32), z, z, z,
                               np.zeros((0, height, width), np.float32), z, 0.0)
    types, norms, biases, alphas, weights = [], [], [], [], []
    for k in range(n_neurons):
        w_where = f"{where} neuron {k}"
        marker, kind, norm, bias, alpha = cur.neuron_header(w_where)
        if marker != 2:
            raise ModelFormatError(cur.path, f"{w_where}: neuron marker 2", "another value")
        types.append(kind)
        norms.append(norm)
        biases.append(bias)
        alphas.append(alpha)
        w = cur.mat(w_where)
        if w.shape != (height, width):
            raise ModelFormatError(cur.path, f"{w_where}: a {height}x{width} filter", f"{w.shape}")
        weights.append(w.astype(np.float32))
    if any(t != 0 for t in types):
        raise ModelFormatError(cur.path, f"{where}: intensity neurons (type 0)", f"types {sorted(set(types))}",
                               "only intensity CCNF experts are supported (OpenFace aborts on other types too)")
    betas = np.array([cur.scalar(np.float64, where) for _ in range(n_betas)], np.float64)
    confidence = cur.scalar(np.float64, where)
    return CCNFPatchExpert(width, height, np.array(types, np.int32), np.array(norms), np.array(biases),
                           np.array(alphas), np.stack(weights), betas, confidence)


def read_ccnf_scale(path: str | Path) -> CCNFScale:
    """Read one CCNF patch-expert file (all views and landmarks of one scale).

    The parsed result is kept in the on-disk cache (:func:`aubench.pipeline.cache.parsed`).
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFormatError(path, "a CCNF patch-expert file", "no such file")
    return cache.parsed("CCNFScale", 1, path, _parse_ccnf_scale)


def _parse_ccnf_scale(path: Path) -> CCNFScale:
    cur = _Cursor(path, path.read_bytes())
    patch_scaling = cur.scalar(np.float64, "patch scaling")
    n_views = cur.scalar(np.int32, "number of views")
    if not (0 < n_views < 1000) or not (0 < patch_scaling < 100):
        raise ModelFormatError(path, "a CCNF header (patch scaling, number of views)",
                               f"scaling={patch_scaling} views={n_views}")
    centers = np.stack([cur.mat(f"view {v} centre").astype(np.float64).reshape(3) for v in range(n_views)])
    centers = centers * math.pi / 180.0
    vis = [cur.mat(f"view {v} visibility").reshape(-1).astype(np.int32) for v in range(n_views)]
    n_points = len(vis[0])
    visibilities = np.stack(vis)
    n_windows = cur.scalar(np.int32, "number of window sizes")
    sigma_components: dict[int, np.ndarray] = {}
    n_betas = 0
    for _ in range(n_windows):
        win = cur.scalar(np.int32, "window size")
        n_comp = cur.scalar(np.int32, "number of sigma components")
        comps = [cur.mat(f"sigma component (window {win})").astype(np.float32) for _ in range(n_comp)]
        sigma_components[win] = np.stack(comps) if comps else np.zeros((0, win * win, win * win), np.float32)
        n_betas = n_comp
    experts = tuple(
        tuple(_read_expert(cur, n_betas, f"view {v} landmark {j}") for j in range(n_points))
        for v in range(n_views)
    )
    if cur.off != len(cur.data):
        raise ModelFormatError(path, "end of file after the last patch expert",
                               f"{len(cur.data) - cur.off} trailing bytes")
    return CCNFScale(str(path), float(patch_scaling), centers, visibilities, sigma_components, experts,
                     hashlib.sha256(cur.data).hexdigest())
