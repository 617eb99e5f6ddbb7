"""Reader of OpenFace's landmark detection validator (``LandmarkDetectionValidator.cpp::DetectionValidator::Read``).

``model/detection_validation/validator_cnn.txt`` is binary (little-endian), despite its
name. Layout::

    int32 validator_type            (3 = CNN; the only type OpenFace 2.2 supports)
    int32 n_views
    n_views x Mat                   view orientation (3 values, degrees; stored here in radians)
    per view:
        Mat mean_image, Mat std_dev (double; global normalisation of the masked pixels)
        int32 depth, then per layer: int32 type
            0 convolution: int32 n_in, int32 n_kernels, n_kernels x float32 bias,
                           n_in x n_kernels x Mat kernel (float32)
            1 max-pooling 2x2 stride 2;  2 fully connected: Mat bias, Mat weights;
            3 ReLU;  4 sigmoid
        PAW: int32 n_pixels, float64 min_x, float64 min_y, Mat destination_landmarks (2n x 1),
             Mat triangulation, Mat triangle_id, Mat pixel_mask, Mat alpha, Mat beta

where ``Mat`` is ``LandmarkDetectorUtils.cpp::ReadMatBin``: int32 rows, cols, OpenCV
type, then the row-major data. Any problem raises
:class:`aubench.pipeline.errors.ModelFormatError` naming the file.
"""

from __future__ import annotations

import dataclasses
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aubench.pipeline.errors import ModelFormatError

_DEPTHS = {0: np.uint8, 1: np.int8, 2: np.uint16, 3: np.int16, 4: np.int32, 5: np.float32, 6: np.float64}

LAYER_CONVOLUTION, LAYER_MAX_POOLING, LAYER_FULLY_CONNECTED, LAYER_RELU, LAYER_SIGMOID = 0, 1, 2, 3, 4
LAYER_NAMES = {0: "convolution", 1: "max_pooling", 2: "fully_connected", 3: "relu", 4: "sigmoid"}


class BinaryCursor:
    """Sequential little-endian reader of one OpenFace binary model file."""

    def __init__(self, path: Path, data: bytes):
        self.path = path
        self.data = data
        self.pos = 0

    def _need(self, nbytes: int, what: str) -> None:
        if nbytes < 0 or self.pos + nbytes > len(self.data):
            raise ModelFormatError(
                self.path, f"{what} at byte {self.pos}", f"end of file ({len(self.data)} bytes)"
            )

    def int32(self, what: str) -> int:
        self._need(4, what)
        (value,) = struct.unpack_from("<i", self.data, self.pos)
        self.pos += 4
        return value

    def float32(self, what: str) -> float:
        self._need(4, what)
        (value,) = struct.unpack_from("<f", self.data, self.pos)
        self.pos += 4
        return value

    def float64(self, what: str) -> float:
        self._need(8, what)
        (value,) = struct.unpack_from("<d", self.data, self.pos)
        self.pos += 8
        return value

    def mat(self, what: str) -> np.ndarray:
        """``ReadMatBin``: (rows, cols) or (rows, cols, channels) array."""
        rows = self.int32(f"the row count of {what}")
        cols = self.int32(f"the column count of {what}")
        cv_type = self.int32(f"the OpenCV type of {what}")
        depth, channels = cv_type & 7, (cv_type >> 3) + 1
        if depth not in _DEPTHS or rows < 0 or cols < 0:
            raise ModelFormatError(self.path, f"a matrix header for {what}", f"rows {rows} cols {cols} type {cv_type}")
        dtype = np.dtype(_DEPTHS[depth]).newbyteorder("<")
        count = rows * cols * channels
        self._need(count * dtype.itemsize, f"{rows}x{cols} values of {what}")
        arr = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos).astype(dtype.newbyteorder("="))
        self.pos += count * dtype.itemsize
        return arr.reshape((rows, cols, channels) if channels > 1 else (rows, cols))


@dataclass(frozen=True, eq=False)
class PAWModel:
    """A piecewise affine warp read from a model (``PAW::Read``); destination = reference frame.

    Attributes
    ----------
    n_pixels : number of pixels inside the mask
    min_x, min_y : float32 origin of the destination frame
    destination_landmarks : (n, 2) float32
    triangulation : (t, 3) int32 (point indices)
    triangle_id : (h, w) int32, triangle of each destination pixel (-1 outside)
    pixel_mask : (h, w) uint8
    alpha, beta : (t, 3) float32 barycentric coefficients of each destination triangle
    """

    n_pixels: int
    min_x: float
    min_y: float
    destination_landmarks: np.ndarray
    triangulation: np.ndarray
    triangle_id: np.ndarray
    pixel_mask: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray


@dataclass(frozen=True, eq=False)
class CNNLayer:
    """One layer of a validator CNN.

    ``kind`` is one of LAYER_NAMES' values. Convolution: ``weights`` (n_in, n_kernels, kh, kw)
    float32 cross-correlation kernels and ``bias`` (n_kernels,). Fully connected:
    ``weights`` as stored (n_in_features, n_out), ``bias`` (n_out,).
    """

    kind: str
    weights: np.ndarray | None = None
    bias: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class ValidatorView:
    """The validator of one head orientation."""

    orientation: np.ndarray  # (3,) float64 radians
    mean_image: np.ndarray  # (n_pixels,) float32
    std_dev: np.ndarray  # (n_pixels,) float32
    layers: tuple[CNNLayer, ...]
    paw: PAWModel


@dataclass(frozen=True, eq=False)
class ValidatorModel:
    path: Path
    views: tuple[ValidatorView, ...]


def _read_paw(cur: BinaryCursor, where: str) -> PAWModel:
    n_pixels = cur.int32(f"the pixel count of the {where} warp")
    min_x = cur.float64(f"min_x of the {where} warp")
    min_y = cur.float64(f"min_y of the {where} warp")
    dest = cur.mat(f"the destination landmarks of the {where} warp")
    tri = cur.mat(f"the triangulation of the {where} warp")
    tri_id = cur.mat(f"the triangle ids of the {where} warp")
    mask = cur.mat(f"the pixel mask of the {where} warp")
    alpha = cur.mat(f"alpha of the {where} warp")
    beta = cur.mat(f"beta of the {where} warp")
    if dest.ndim != 2 or dest.shape[1] != 1 or dest.shape[0] % 2 or dest.shape[0] == 0:
        raise ModelFormatError(cur.path, f"(2n, 1) destination landmarks in the {where} warp", f"{dest.shape}")
    n = dest.shape[0] // 2
    if tri.ndim != 2 or tri.shape[1] != 3 or tri.min(initial=0) < 0 or tri.max(initial=0) >= n:
        raise ModelFormatError(cur.path, f"a (t, 3) triangulation of {n} points in the {where} warp", f"{tri.shape}")
    t = tri.shape[0]
    if alpha.shape != (t, 3) or beta.shape != (t, 3):
        raise ModelFormatError(cur.path, f"({t}, 3) alpha and beta in the {where} warp", f"{alpha.shape}, {beta.shape}")
    if mask.shape != tri_id.shape or mask.ndim != 2:
        raise ModelFormatError(cur.path, f"a pixel mask shaped as the triangle ids in the {where} warp",
                               f"{mask.shape} vs {tri_id.shape}")
    mask_u8 = np.clip(np.rint(mask.astype(np.float64)), 0, 255).astype(np.uint8)  # convertTo(CV_8U) saturates
    if int(np.count_nonzero(mask_u8)) != n_pixels:
        raise ModelFormatError(cur.path, f"{n_pixels} mask pixels in the {where} warp", str(int(np.count_nonzero(mask_u8))))
    tri_id = tri_id.astype(np.int32)
    if np.any(tri_id[mask_u8 != 0] < 0) or np.any(tri_id >= t):
        raise ModelFormatError(cur.path, f"triangle ids in [0, {t}) inside the mask of the {where} warp", "out-of-range ids")
    with np.errstate(over="ignore", invalid="ignore"):
        dest32 = dest.astype(np.float32).reshape(2, n).T.copy()
        return PAWModel(
            n_pixels, float(np.float32(min_x)), float(np.float32(min_y)), dest32, tri.astype(np.int32), tri_id,
            mask_u8, alpha.astype(np.float32), beta.astype(np.float32),
        )


def _read_layers(cur: BinaryCursor, where: str) -> tuple[CNNLayer, ...]:
    depth = cur.int32(f"the network depth of {where}")
    if not 0 < depth < 1000:
        raise ModelFormatError(cur.path, f"a network depth in 1..999 for {where}", str(depth))
    layers = []
    for k in range(depth):
        kind = cur.int32(f"the type of layer {k} of {where}")
        if kind not in LAYER_NAMES:
            raise ModelFormatError(cur.path, f"a layer type in {sorted(LAYER_NAMES)} for layer {k} of {where}", str(kind))
        if kind == LAYER_CONVOLUTION:
            n_in = cur.int32(f"the input map count of layer {k} of {where}")
            n_k = cur.int32(f"the kernel count of layer {k} of {where}")
            if not (0 < n_in < 10000 and 0 < n_k < 10000):
                raise ModelFormatError(cur.path, f"plausible map/kernel counts for layer {k} of {where}", f"{n_in}, {n_k}")
            bias = np.array([cur.float32(f"bias {b} of layer {k} of {where}") for b in range(n_k)], dtype=np.float32)
            kernels = [[cur.mat(f"kernel {i},{j} of layer {k} of {where}") for j in range(n_k)] for i in range(n_in)]
            shape = kernels[0][0].shape
            if len(shape) != 2 or any(kk.shape != shape for row in kernels for kk in row):
                raise ModelFormatError(cur.path, f"equal 2-D kernels in layer {k} of {where}", "mixed shapes")
            with np.errstate(over="ignore", invalid="ignore"):
                weights = np.array(kernels, dtype=np.float32)
            layers.append(CNNLayer(LAYER_NAMES[kind], weights, bias))
        elif kind == LAYER_FULLY_CONNECTED:
            bias = cur.mat(f"the biases of layer {k} of {where}")
            weights = cur.mat(f"the weights of layer {k} of {where}")
            if weights.ndim != 2 or bias.size != weights.shape[1]:
                raise ModelFormatError(cur.path, f"weights (in, out) and out biases in layer {k} of {where}",
                                       f"{weights.shape}, {bias.shape}")
            with np.errstate(over="ignore", invalid="ignore"):
                layers.append(CNNLayer(LAYER_NAMES[kind], weights.astype(np.float32), bias.reshape(-1).astype(np.float32)))
        else:
            layers.append(CNNLayer(LAYER_NAMES[kind]))
    return tuple(layers)


def read_validator(path: str | Path) -> ValidatorModel:
    """Read ``validator_cnn.txt`` (``DetectionValidator::Read``); a parsed model is kept in the
    derived-array cache (:func:`aubench.pipeline.cache.parsed`, keyed by path, size and modification time)."""
    from aubench.pipeline import cache

    path = Path(path)
    if not path.is_file():
        raise ModelFormatError(path, "the detection validator file", "no such file")
    model = cache.parsed("ValidatorModel", 1, path, _parse_validator)
    return model if model.path == path else dataclasses.replace(model, path=path)


def _parse_validator(path: Path) -> ValidatorModel:
    cur = BinaryCursor(path, path.read_bytes())
    vtype = cur.int32("the validator type")
    if vtype != 3:
        raise ModelFormatError(path, "a CNN validator (type 3; OpenFace 2.2 supports no other)", f"type {vtype}")
    n_views = cur.int32("the number of views")
    if not 0 < n_views < 1000:
        raise ModelFormatError(path, "a view count in 1..999", str(n_views))
    orientations = []
    for v in range(n_views):
        o = cur.mat(f"the orientation of view {v}").astype(np.float64).reshape(-1)
        if o.size < 3:
            raise ModelFormatError(path, f"3 angles for view {v}", f"{o.size} values")
        orientations.append(o[:3] * math.pi / 180.0)
    views = []
    for v in range(n_views):
        where = f"view {v}"
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite values are rejected below
            mean = cur.mat(f"the mean image of {where}").astype(np.float32).reshape(-1)
            std = cur.mat(f"the standard deviations of {where}").astype(np.float32).reshape(-1)
        layers = _read_layers(cur, where)
        paw = _read_paw(cur, where)
        if mean.size != paw.n_pixels or std.size != paw.n_pixels:
            raise ModelFormatError(path, f"{paw.n_pixels} mean/std values for {where}", f"{mean.size}, {std.size}")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))):
            raise ModelFormatError(path, f"finite normalisation values for {where}", "nan or inf")
        views.append(ValidatorView(orientations[v], mean, std, layers, paw))
    return ValidatorModel(path, tuple(views))
