"""Numba validator convolution: each tap multiplied into the whole output map, no im2col copy.

``out[k, y, x] += w * maps[m, y + ky, x + kx]`` with the innermost loop along x: contiguous,
no reduction, so it vectorises without reassociating any sum (``fastmath`` stays off).
Sums are float32 in tap order (map, kx, ky), where OpenBLAS's sgemm blocks the same sums
its own way: the two agree to float32 rounding (about 1e-6 of the map's scale).
"""

from __future__ import annotations

import numpy as np

from aubench.variants._jit import jit


@jit
def _convolve(maps, w_mat, kh, kw, out):
    n_in, _, _ = maps.shape
    n_k, oh, ow = out.shape
    taps = n_in * kw * kh
    for k in range(n_k):
        acc = out[k]
        acc[:, :] = 0.0
        for m in range(n_in):
            for kx in range(kw):
                for ky in range(kh):
                    wv = w_mat[m * kw * kh + kx * kh + ky, k]
                    for y in range(oh):
                        src = maps[m, y + ky]
                        dst = acc[y]
                        for x in range(ow):
                            dst[x] += wv * src[x + kx]
        bias = w_mat[taps, k]
        for y in range(oh):
            for x in range(ow):
                acc[y, x] += bias


def convolution(maps: np.ndarray, w_mat: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """Same contract as the reference (:class:`aubench.pipeline.contracts.ValidatorConv`)."""
    maps = np.ascontiguousarray(maps, dtype=np.float32)
    n_in, h, w = maps.shape
    out = np.empty((w_mat.shape[1], h - kh + 1, w - kw + 1), np.float32)
    _convolve(maps, np.ascontiguousarray(w_mat, dtype=np.float32), kh, kw, out)
    return out
