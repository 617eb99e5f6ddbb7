"""Plain NumPy CCNF patch-expert responses, one landmark at a time (the reference variant)."""

from __future__ import annotations

import numpy as np


def _im2col_contrast_norm_bias(area: np.ndarray, size: int) -> np.ndarray:
    """``CCNF_patch_expert.cpp::im2colContrastNormBias``: one row per window position.

    Rows are ordered x-major (all y for x=0, then x=1, ...); within a row, column 0 is
    the bias 1 and column ``1 + xx*size + yy`` holds pixel (yy, xx) of the window,
    contrast-normalised (zero mean, unit L2 norm; norm 0 is treated as 1).
    """
    rows_y = area.shape[0] - size + 1
    cols_x = area.shape[1] - size + 1
    out = np.ones((cols_x * rows_y, size * size + 1), np.float32)
    r = 0
    for x in range(cols_x):
        for y in range(rows_y):
            patch = area[y:y + size, x:x + size].T.reshape(-1)  # column-major
            mean = np.float32(patch.sum(dtype=np.float32) / np.float32(size * size))
            centred = patch - mean
            norm = np.float32(np.sqrt(np.sum(centred * centred, dtype=np.float32)))
            if norm == 0:
                norm = np.float32(1)
            out[r, 1:] = centred * np.float32(1.0 / norm)
            r += 1
    return out


def patch_response(areas_of_interest: np.ndarray, weight_matrices: np.ndarray, alphas: np.ndarray,
                   sigmas: np.ndarray) -> np.ndarray:
    """Plain NumPy, one landmark and one window position at a time (contract:
    :class:`aubench.pipeline.contracts.PatchResponse`).
    """
    n, area, _ = areas_of_interest.shape
    s = int(round(np.sqrt(weight_matrices.shape[2] - 1)))
    w = area - s + 1
    out = np.zeros((n, w, w), np.float32)
    for lm in range(n):
        cols = _im2col_contrast_norm_bias(areas_of_interest[lm].astype(np.float32), s)  # (w*w, 1+s*s)
        z = weight_matrices[lm] @ cols.T  # (k, w*w), column index = x*w + y
        resp = np.zeros(w * w, np.float64)
        for k in range(z.shape[0]):
            if alphas[lm, k] > 1e-4:
                resp += (2.0 * alphas[lm, k]) / (1.0 + np.exp(-z[k].astype(np.float64)))
        resp = resp.astype(np.float32).reshape(w, w).T  # [x, y] -> [y, x]
        r = (sigmas[lm] @ resp.reshape(-1)).reshape(w, w).astype(np.float32)
        low = r.min()
        if low < 0:
            r = r - low
        out[lm] = r
    return out
