"""Reference MTCNN fully connected layer: plain NumPy, one sample at a time, float64 sums."""

from __future__ import annotations

import numpy as np


def fully_connected(features: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Plain NumPy, one sample at a time, float64 sums (contract: :class:`aubench.pipeline.contracts.MtcnnFc`)."""
    w = weights.astype(np.float64)
    b = bias.astype(np.float64)
    out = np.empty((features.shape[0], weights.shape[0]), dtype=np.float32)
    for i, x in enumerate(features.astype(np.float64)):
        out[i] = w @ x + b
    return out
