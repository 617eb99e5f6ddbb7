"""Numba PReLU: one pass over the values."""

from __future__ import annotations

import numpy as np

from variants._jit import jit


@jit
def _prelu(flat, slopes, out):
    c = slopes.shape[0]
    for i in range(flat.shape[0]):
        v = flat[i]
        out[i] = v if v >= 0 else v * slopes[i % c]


def prelu(maps: np.ndarray, slopes: np.ndarray) -> np.ndarray:
    """One compiled pass writing a new array (no boolean mask or temporaries)."""
    maps = np.ascontiguousarray(maps, dtype=np.float32)
    out = np.empty_like(maps)
    _prelu(maps.reshape(-1), np.ascontiguousarray(slopes, dtype=np.float32), out.reshape(-1))
    return out
