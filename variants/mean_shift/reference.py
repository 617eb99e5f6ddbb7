"""Plain NumPy KDE mean-shift on the 0.1-cell grid, one landmark at a time (the reference variant)."""

from __future__ import annotations

import numpy as np

from aubench.pipeline.landmarks.kde import STEP, KdeTable


def mean_shift(responses: np.ndarray, dxs: np.ndarray, dys: np.ndarray, visible: np.ndarray,
               kde: KdeTable) -> np.ndarray:
    """Plain NumPy, one landmark at a time, float32 sums (contract: :class:`aubench.pipeline.contracts.MeanShift`)."""
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
