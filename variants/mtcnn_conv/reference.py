"""Reference MTCNN convolution: plain NumPy, one kernel offset at a time, float64 sums."""

from __future__ import annotations

import numpy as np


def convolution(maps: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Plain NumPy, one matmul per kernel offset, float64 sums rounded once to float32 (contract:
    :class:`aubench.pipeline.contracts.MtcnnConv`).
    """
    n, h, w, c = maps.shape
    k, c_w, kh, kw = weights.shape
    if c != c_w:
        raise ValueError(f"maps have {c} channels but the kernels expect {c_w}")
    ho, wo = h - kh + 1, w - kw + 1
    out = np.zeros((n, max(ho, 0), max(wo, 0), k), dtype=np.float64)
    if ho <= 0 or wo <= 0:
        return out.astype(np.float32)
    x = maps.astype(np.float64)
    for dy in range(kh):
        for dx in range(kw):
            # every output pixel reads the input pixel at the same offset (dy, dx)
            window = x[:, dy:dy + ho, dx:dx + wo, :]
            out += window @ weights[:, :, dy, dx].astype(np.float64).T
    out += bias.astype(np.float64)
    return out.astype(np.float32)
