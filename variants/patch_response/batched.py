"""Batched NumPy CCNF responses: every landmark and window position in a few array operations."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def patch_response(areas_of_interest, weight_matrices, alphas, sigmas):
    """Same contract as the reference; im2col by strides and batched matmuls (float32 sums reordered)."""
    n, area, _ = areas_of_interest.shape
    s = int(round(np.sqrt(weight_matrices.shape[2] - 1)))
    w = area - s + 1
    a = np.ascontiguousarray(areas_of_interest, dtype=np.float32)
    # windows[l, y, x, r, c] = a[l, y + r, x + c]; order (x, y) rows and (c, r) columns as OpenFace's im2col
    win = sliding_window_view(a, (s, s), axis=(1, 2))  # (n, w, w, s, s)
    cols = win.transpose(0, 2, 1, 4, 3).reshape(n, w * w, s * s)
    mean = cols.sum(axis=2, dtype=np.float32) / np.float32(s * s)
    centred = cols - mean[..., None]
    norm = np.sqrt(np.einsum("lpk,lpk->lp", centred, centred, dtype=np.float32))
    norm[norm == 0] = 1
    centred *= (np.float32(1) / norm)[..., None]
    # z[l, k, p] = bias_k + w_k . x_p
    z = np.matmul(weight_matrices[:, :, 1:], centred.transpose(0, 2, 1)) + weight_matrices[:, :, :1]
    sig = (2.0 * alphas)[..., None] / (1.0 + np.exp(-z.astype(np.float64)))
    resp = sig.sum(axis=1).astype(np.float32)  # (n, w*w) index x*w + y
    resp = resp.reshape(n, w, w).transpose(0, 2, 1).reshape(n, w * w, 1)
    out = np.matmul(sigmas, resp).reshape(n, w, w)
    low = out.reshape(n, -1).min(axis=1)
    out -= np.minimum(low, 0)[:, None, None]
    return out.astype(np.float32)
