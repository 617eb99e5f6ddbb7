"""Plain NumPy KDE mean-shift on the 0.1-cell grid, one landmark at a time (the contract)."""

from __future__ import annotations

import numpy as np

from aubench.pipeline.landmarks.kde import STEP, KdeTable


def mean_shift(responses: np.ndarray, dxs: np.ndarray, dys: np.ndarray, visible: np.ndarray,
               kde: KdeTable) -> np.ndarray:
    """Regularised-landmark mean-shift of every landmark in its response map.

    Reproduces ``LandmarkDetectorModel.cpp::CLNF::NonVectorisedMeanShift_precalc_kde``:
    the position (dx, dy) of the landmark in its (w, w) response map is clamped to
    ``[0, w - 0.1]``, the kernel centred on the nearest 0.1-cell grid point is read from
    ``kde.table`` (not evaluated at the exact position), and the shift is the
    kernel-weighted mean of the cell coordinates minus the clamped position.

    Parameters
    ----------
    responses : (n, w, w) float32 response maps ``[landmark, dy, dx]``.
    dxs, dys : (n,) float32 positions in response-map cells.
    visible : (n,) bool; invisible landmarks get a zero shift.
    kde : :class:`aubench.pipeline.landmarks.kde.KdeTable` for window w and ``a = -0.5/sigma^2``.

    Returns
    -------
    (n, 2) float32 mean-shifts ``[msx, msy]`` in response-map cells.

    Notes
    -----
    OpenFace accumulates in float32 sequentially; NumPy's pairwise float32 sums differ by
    a few ulp (tolerance 1e-5 cells).
    """
    n, w, _ = responses.shape
    top = np.float32(w) - STEP
    jj = np.tile(np.arange(w, dtype=np.float32), w)  # column index of each cell
    ii = np.repeat(np.arange(w, dtype=np.float32), w)  # row index of each cell
    out = np.zeros((n, 2), np.float32)
    for i in range(n):
        if not visible[i]:
            continue
        dx = min(max(np.float32(dxs[i]), np.float32(0)), top)
        dy = min(max(np.float32(dys[i]), np.float32(0)), top)
        col = int(float(dy / STEP) + 0.5)  # float quotient, double +0.5, truncation as C++
        row = int(float(dx / STEP) + 0.5)
        kernel = kde.table[row * kde.steps + col]
        v = responses[i].reshape(-1) * kernel
        total = v.sum(dtype=np.float32)
        mx = (v * jj).sum(dtype=np.float32)
        my = (v * ii).sum(dtype=np.float32)
        out[i, 0] = mx / total - dx
        out[i, 1] = my / total - dy
    return out
