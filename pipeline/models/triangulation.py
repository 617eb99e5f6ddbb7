"""Readers of OpenFace's face triangulations (the meshes of the piecewise affine warps).

Two layouts, both OpenFace text matrices (:mod:`aubench.pipeline.models.openface_text`) of
``(t, 3)`` ``CV_32S`` landmark indices:

* a single matrix (``tris_68_full.txt``): the face-mask mesh of the AU alignment,
  ``ReadMat`` in ``FaceAnalyser::Read`` (module ``Triangulation`` of the AU model list);
* a count of views followed by one matrix per view, each after comment lines
  (``tris_68.txt``): ``CLNF::Read_CLNF``, module ``Triangulations``.

Every index must name one of the model's landmarks; each problem raises
:class:`aubench.pipeline.errors.ModelFormatError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aubench.pipeline.errors import ModelFormatError
from aubench.pipeline.models.openface_text import TextMatReader


def _checked(path: Path, tris: np.ndarray, n_points: int | None, name: str) -> np.ndarray:
    if tris.dtype != np.int32:
        raise ModelFormatError(path, f"an int (type code 4) matrix for the {name}", str(tris.dtype))
    if tris.ndim != 2 or tris.shape[1] != 3 or tris.shape[0] == 0:
        raise ModelFormatError(path, f"a (t, 3) {name} with t > 0", f"{tris.shape[0]}x{tris.shape[1]}")
    limit = n_points if n_points is not None else np.iinfo(np.int32).max
    if tris.min() < 0 or tris.max() >= limit:
        raise ModelFormatError(
            path, f"landmark indices in [0, {limit}) in the {name}", f"indices {int(tris.min())}..{int(tris.max())}"
        )
    tris = np.ascontiguousarray(tris)
    tris.setflags(write=False)
    return tris


def read_triangulation(path: str | Path, n_points: int | None = 68) -> np.ndarray:
    """One (t, 3) int32 triangulation (``tris_68_full.txt``); ``n_points`` bounds the indices
    (None: no bound)."""
    path = Path(path)
    reader = TextMatReader(path)
    reader.skip_comments()
    tris = reader.read_mat("triangulation")
    return _checked(path, tris, n_points, "triangulation")


def read_view_triangulations(path: str | Path, n_points: int | None = 68) -> list[np.ndarray]:
    """Per-view (t, 3) int32 triangulations (``tris_68.txt``: a view count, then one matrix per view)."""
    path = Path(path)
    reader = TextMatReader(path)
    reader.skip_comments()
    count = reader.read_int("the number of triangulations")
    if count <= 0 or count > 1000:
        raise ModelFormatError(path, "a number of triangulations between 1 and 1000", str(count))
    out = []
    for k in range(count):
        reader.skip_comments()
        name = f"triangulation {k + 1} of {count}"
        out.append(_checked(path, reader.read_mat(name), n_points, name))
    return out
