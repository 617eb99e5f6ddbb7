"""Numba KDE mean-shift with OpenFace's sequential float32 accumulation."""

from __future__ import annotations

import numpy as np

from aubench.variants._jit import jit


@jit
def _mean_shift(responses, dxs, dys, visible, table, steps):
    n, w, _ = responses.shape
    step = np.float32(0.1)
    top = np.float32(w) - step
    out = np.zeros((n, 2), np.float32)
    for i in range(n):
        if not visible[i]:
            continue
        dx = dxs[i]
        dy = dys[i]
        if dx < 0:
            dx = np.float32(0)
        if dy < 0:
            dy = np.float32(0)
        if dx > top:
            dx = top
        if dy > top:
            dy = top
        col = int(np.float64(dy / step) + 0.5)
        row = int(np.float64(dx / step) + 0.5)
        kernel = table[row * steps + col]
        mx = np.float32(0)
        my = np.float32(0)
        total = np.float32(0)
        q = 0
        for ii in range(w):
            for jj in range(w):
                v = responses[i, ii, jj] * kernel[q]
                q += 1
                total += v
                mx += v * np.float32(jj)
                my += v * np.float32(ii)
        out[i, 0] = mx / total - dx
        out[i, 1] = my / total - dy
    return out


def mean_shift(responses, dxs, dys, visible, kde):
    """Same contract as the reference; compiled loop, sequential float32 sums as OpenFace."""
    return _mean_shift(np.ascontiguousarray(responses, dtype=np.float32),
                       np.ascontiguousarray(dxs, dtype=np.float32), np.ascontiguousarray(dys, dtype=np.float32),
                       np.ascontiguousarray(visible, dtype=np.bool_), kde.table, kde.steps)
