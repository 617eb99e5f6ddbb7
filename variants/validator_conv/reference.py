"""The detection validator's convolution layer as OpenFace computes it (``convolution_direct_blas``)."""

from __future__ import annotations

import numpy as np


def convolution(maps: np.ndarray, w_mat: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """Transposed im2col and one float32 BLAS GEMM (contract: :class:`aubench.pipeline.contracts.ValidatorConv`).

    The C++ builds the im2col matrix with one row per output position and multiplies it by
    ``w_mat`` (sgemm, M = positions, N = kernels). This builds its transpose (one row per tap,
    each a contiguous (oh, ow) block copy, the cheap layout to fill) and hands sgemm the
    transposed view, so the product has the C++'s operand shapes: (positions x taps) times
    (taps x kernels). (The left product ``w_mat.T @ cols`` has the same taps in each sum but
    lets OpenBLAS block them another way: up to 2e-5 apart, and 15 % slower for these shapes.)
    """
    n_in, h, w = maps.shape
    oh, ow = h - kh + 1, w - kw + 1
    taps = n_in * kw * kh
    cols = np.empty((taps + 1, oh, ow), dtype=np.float32)
    win = np.lib.stride_tricks.sliding_window_view(maps, (kh, kw), axis=(1, 2))  # (n_in, oh, ow, kh, kw)
    cols[:taps].reshape(n_in, kw, kh, oh, ow)[...] = win.transpose(0, 4, 3, 1, 2)  # kx outer, ky inner
    cols[taps] = 1.0  # the bias row
    out = cols.reshape(taps + 1, oh * ow).T @ w_mat  # sgemm, (positions, kernels)
    return np.ascontiguousarray(out.T).reshape(-1, oh, ow)
