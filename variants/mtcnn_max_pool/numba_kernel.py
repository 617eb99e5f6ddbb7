"""Numba max-pooling: compiled loops over the output cells."""

from __future__ import annotations

import numpy as np

from aubench.pipeline.detect.mtcnn import pooled_size
from aubench.variants._jit import jit


@jit
def _pool(maps, kx, ky, sx, sy, out):
    n, h, w, c = maps.shape
    ho, wo = out.shape[1], out.shape[2]
    for b in range(n):
        for i in range(ho):
            y0 = i * sy
            if y0 >= h:
                continue
            y1 = min(y0 + ky, h)
            for j in range(wo):
                x0 = j * sx
                if x0 >= w:
                    continue
                x1 = min(x0 + kx, w)
                for ch in range(c):
                    out[b, i, j, ch] = maps[b, y0, x0, ch]
                for y in range(y0, y1):
                    for x in range(x0, x1):
                        for ch in range(c):  # channels innermost: contiguous
                            v = maps[b, y, x, ch]
                            if v > out[b, i, j, ch]:
                                out[b, i, j, ch] = v


def max_pool(maps: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """Compiled loops over output cells and channels (same windows as the reference)."""
    (kx, ky), (sx, sy) = kernel, stride
    maps = np.ascontiguousarray(maps, dtype=np.float32)
    n, h, w, c = maps.shape
    out = np.zeros((n, max(pooled_size(h, ky, sy), 0), max(pooled_size(w, kx, sx), 0), c), dtype=np.float32)
    _pool(maps, kx, ky, sx, sy, out)
    return out
