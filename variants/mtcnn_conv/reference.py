"""Reference MTCNN convolution: plain NumPy, one kernel offset at a time, float64 sums."""

from __future__ import annotations

import numpy as np


def convolution(maps: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Valid 2-D cross-correlation of a batch of multi-channel maps, plus a bias per kernel.

    Reproduces ``CNN_utils.cpp::convolution_direct_blas`` (im2col of every input map, one
    OpenBLAS ``sgemm`` against the kernels with the bias as an extra column), as
    ``FaceDetectorMTCNN.cpp::CNN::Inference`` runs it for PNet, RNet and ONet.

    Parameters
    ----------
    maps : (N, H, W, C) float32, channel-last; the first layer's channels are R, G, B
        (``Inference`` flips OpenCV's BGR).
    weights : (K, C, kh, kw) float32, ``out[k] = sum_c corr(maps[..., c], weights[k, c])``.
    bias : (K,) float32.

    Returns
    -------
    (N, H - kh + 1, W - kw + 1, K) float32.

    Notes
    -----
    This reference sums in float64 (then rounds once to float32); C++ sums in float32 in
    OpenBLAS's order. Tolerance: ``|actual - reference| <= 1e-5 * (1 + max|reference|)``.
    A 1x1 kernel is how the detector runs PNet's per-pixel fully connected layer.
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
