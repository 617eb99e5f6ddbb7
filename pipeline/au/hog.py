"""The appearance descriptor of the AU models: FHOG of the aligned face (``Face_utils.cpp::Extract_FHOG_descriptor``).

dlib's ``extract_fhog_features`` (the ``fhog`` kernel) with 8-pixel cells turns the
112x112 aligned face into a 12x12 grid of 31 features; OpenFace flattens it row by row,
then column, then feature into the 4464-value descriptor the SVR/SVM models and the
``.hog`` files use.
"""

from __future__ import annotations

import numpy as np

from aubench.pipeline.errors import InputError
from aubench.pipeline.registry import Kernels
from aubench.pipeline.timing import NULL_TIMER, StageTimer

CELL_SIZE = 8
N_FEATURES = 31


def fhog_cells(aligned_face: np.ndarray, kernels: Kernels, timer: StageTimer = NULL_TIMER) -> np.ndarray:
    """(rows, cols, 31) float32 FHOG of an aligned face ((12, 12, 31) for 112x112), by the
    selected ``fhog`` variant."""
    with timer("au.hog"):
        return np.asarray(kernels.fhog(aligned_face, CELL_SIZE), dtype=np.float32)


def descriptor(cells: np.ndarray) -> np.ndarray:
    """OpenFace's (rows * cols * 31,) float64 descriptor of an FHOG grid.

    ``Extract_FHOG_descriptor`` walks ``for y < num_cols: for x < num_rows: for o < 31:
    hog[y][x](o)``, which for the square grids of square alignments is the row-major
    flattening; other grids are refused because that walk does not cover them.
    """
    cells = np.asarray(cells)
    if cells.ndim != 3 or cells.shape[2] != N_FEATURES or cells.shape[0] != cells.shape[1]:
        raise InputError(
            f"FHOG descriptor: expected a square (n, n, {N_FEATURES}) grid from a square aligned face, "
            f"got {cells.shape}; align with equal width and height (OpenFace: 112x112)"
        )
    return cells.reshape(-1).astype(np.float64)


def hog_descriptor(aligned_face: np.ndarray, kernels: Kernels,
                   timer: StageTimer = NULL_TIMER) -> tuple[np.ndarray, np.ndarray]:
    """``(cells (n, n, 31) float32, descriptor (n*n*31,) float64)`` of an aligned face."""
    cells = fhog_cells(aligned_face, kernels, timer)
    return cells, descriptor(cells)
