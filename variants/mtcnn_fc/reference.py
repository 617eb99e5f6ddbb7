"""Reference MTCNN fully connected layer: plain NumPy, one sample at a time, float64 sums."""

from __future__ import annotations

import numpy as np


def fully_connected(features: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``weights @ x + bias`` for every sample of a batch.

    Reproduces ``CNN_utils.cpp::fully_connected`` on flattened input (RNet's and ONet's
    last layers). The caller flattens maps in OpenFace's order (map by map, each map
    column by column: ``maps.transpose(0, 3, 2, 1).reshape(N, -1)`` for (N, H, W, C)).

    Parameters
    ----------
    features : (N, F) float32.
    weights : (O, F) float32 (as ``CNN::Read`` keeps them, transposed from the file).
    bias : (O,) float32.

    Returns
    -------
    (N, O) float32. This reference sums in float64; C++ (OpenCV ``gemm``) sums in
    float32. Tolerance: ``|actual - reference| <= 1e-5 * (1 + max|reference|)``.
    """
    w = weights.astype(np.float64)
    b = bias.astype(np.float64)
    out = np.empty((features.shape[0], weights.shape[0]), dtype=np.float32)
    for i, x in enumerate(features.astype(np.float64)):
        out[i] = w @ x + b
    return out
