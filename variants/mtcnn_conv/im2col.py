"""im2col + one float32 BLAS GEMM for the whole batch (as OpenFace does, per image)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


def convolution(maps: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """im2col of the whole batch (patch order dy, dx, channel) and one float32 GEMM."""
    maps = np.ascontiguousarray(maps, dtype=np.float32)
    n, h, w, c = maps.shape
    k, _, kh, kw = weights.shape
    ho, wo = h - kh + 1, w - kw + 1
    if ho <= 0 or wo <= 0:
        return np.zeros((n, max(ho, 0), max(wo, 0), k), dtype=np.float32)
    w2 = np.ascontiguousarray(weights.transpose(2, 3, 1, 0), dtype=np.float32).reshape(kh * kw * c, k)
    if kh == 1 and kw == 1:
        cols = maps.reshape(n * h * w, c)
    else:
        sn, sh, sw, sc = maps.strides
        patches = as_strided(maps, shape=(n, ho, wo, kh, kw, c), strides=(sn, sh, sw, sh, sw, sc), writeable=False)
        cols = patches.reshape(n * ho * wo, kh * kw * c)  # copies: one row per output pixel
    out = cols @ w2
    out += bias.astype(np.float32)
    return out.reshape(n, ho, wo, k)
