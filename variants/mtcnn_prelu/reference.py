"""Reference PReLU: plain NumPy."""

from __future__ import annotations

import numpy as np


def prelu(maps: np.ndarray, slopes: np.ndarray) -> np.ndarray:
    """Parametric ReLU with one negative slope per channel (the last axis).

    Reproduces ``CNN_utils.cpp::PReLU``: ``x >= 0 ? x : x * slope``.

    Parameters
    ----------
    maps : (..., C) float32 (channel-last maps ``(N, H, W, C)`` or flat features ``(N, C)``).
    slopes : (C,) float32.

    Returns
    -------
    Same shape, float32, a new array. Exact (one float32 multiply per negative value).
    """
    return np.where(maps >= 0, maps, maps * slopes).astype(np.float32)
