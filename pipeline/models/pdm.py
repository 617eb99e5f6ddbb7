"""Reader of OpenFace's point distribution models (``PDM.cpp::PDM::Read``).

A PDM file holds three text matrices (:mod:`aubench.pipeline.models.openface_text`), each
after comment lines: the mean shape ``(3n, 1)`` (all X, then all Y, then all Z, mm),
the principal components ``(3n, m)`` and the eigenvalues ``(1, m)``. OpenFace reads
them as doubles and converts them to float32 "for speed"; the arithmetic that
follows is float32, so :class:`PDMModel` keeps float32 arrays too.

Examples: ``model/pdms/In-the-wild_aligned_PDM_68.txt`` (n = 68, m = 34),
``model/model_inner/pdms/pdm_51_inner.txt`` (51, 32),
``model/model_eye/pdms/pdm_28_*eye_3D_closed.txt`` (28, 10).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aubench.pipeline.errors import ModelFormatError
from aubench.pipeline.models.openface_text import TextMatReader


@dataclass(frozen=True, eq=False)
class PDMModel:
    """A point distribution model (arrays are read-only float32).

    Attributes
    ----------
    mean_shape : (3n,) float32
        Mean 3D shape, ``[X_0..X_{n-1}, Y_0.., Z_0..]`` in mm.
    princ_comp : (3n, m) float32
        Principal components (modes), rows ordered as ``mean_shape``.
    eigen_values : (m,) float32
        Variance of each mode.
    path : Path
        The file it was read from.
    """

    mean_shape: np.ndarray
    princ_comp: np.ndarray
    eigen_values: np.ndarray
    path: Path = Path()

    @property
    def n_points(self) -> int:
        return self.mean_shape.shape[0] // 3

    @property
    def n_modes(self) -> int:
        return self.princ_comp.shape[1]


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float32)
    a.setflags(write=False)
    return a


def read_pdm(path: str | Path) -> PDMModel:
    """Read a PDM text file (``PDM::Read``); raises ModelFormatError on any problem.

    A parsed PDM is kept in the derived-array cache (:func:`aubench.pipeline.cache.parsed`, keyed by the
    file's path, size and modification time); its arrays come back read-only, as parsed.
    """
    from aubench.pipeline import cache

    path = Path(path)
    pdm = cache.parsed("PDMModel", 1, path, _parse_pdm)
    for a in (pdm.mean_shape, pdm.princ_comp, pdm.eigen_values):
        if a.flags.writeable:  # unpickled arrays are writeable again
            a.setflags(write=False)
    return pdm if pdm.path == path else dataclasses.replace(pdm, path=path)


def _parse_pdm(path: Path) -> PDMModel:
    reader = TextMatReader(path)
    reader.skip_comments()
    mean = reader.read_mat("mean shape")
    reader.skip_comments()
    pc = reader.read_mat("principal components")
    reader.skip_comments()
    ev = reader.read_mat("eigenvalues")
    if mean.ndim != 2 or mean.shape[1] != 1 or mean.shape[0] == 0 or mean.shape[0] % 3:
        raise ModelFormatError(path, "a (3n, 1) mean shape", f"{mean.shape[0]}x{mean.shape[1]}")
    if pc.shape[0] != mean.shape[0] or pc.shape[1] == 0:
        raise ModelFormatError(
            path, f"a ({mean.shape[0]}, m) principal component matrix", f"{pc.shape[0]}x{pc.shape[1]}"
        )
    if ev.shape != (1, pc.shape[1]):
        raise ModelFormatError(path, f"a (1, {pc.shape[1]}) eigenvalue row", f"{ev.shape[0]}x{ev.shape[1]}")
    if np.any(ev <= 0):
        raise ModelFormatError(path, "positive eigenvalues", f"min {ev.min()!r}")
    with np.errstate(over="ignore"):
        arrays = [mean.astype(np.float32), pc.astype(np.float32), ev.astype(np.float32)]
    if not all(np.all(np.isfinite(a)) for a in arrays):
        raise ModelFormatError(path, "values that fit in float32", "values out of float32 range")
    return PDMModel(_readonly(arrays[0].reshape(-1)), _readonly(arrays[1]), _readonly(arrays[2].reshape(-1)), path)
