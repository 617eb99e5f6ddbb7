"""Reference MTCNN max-pooling: plain NumPy, one output cell at a time."""

from __future__ import annotations

import numpy as np

from aubench.pipeline.detect.mtcnn import pooled_size


def max_pool(maps: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """Max-pooling with OpenFace's output size and windows clipped at the map's edge.

    Reproduces ``CNN_utils.cpp::max_pooling``: the output has
    ``round((size - kernel) / stride) + 1`` cells per axis (so a partial window at the
    right/bottom edge is kept when the division rounds up); the window of cell ``i``
    starts at ``i * stride`` and is clipped to the map; a cell whose window would start
    outside the map stays 0.

    Parameters
    ----------
    maps : (N, H, W, C) float32.
    kernel : (kx, ky); stride : (sx, sy) (OpenFace's order: x first).

    Returns
    -------
    (N, Ho, Wo, C) float32. Exact.
    """
    (kx, ky), (sx, sy) = kernel, stride
    n, h, w, c = maps.shape
    ho, wo = max(pooled_size(h, ky, sy), 0), max(pooled_size(w, kx, sx), 0)
    out = np.zeros((n, ho, wo, c), dtype=np.float32)
    for i in range(ho):
        y0 = i * sy
        if y0 >= h:
            continue
        for j in range(wo):
            x0 = j * sx
            if x0 >= w:
                continue
            window = maps[:, y0:min(y0 + ky, h), x0:min(x0 + kx, w), :]
            out[:, i, j, :] = window.max(axis=(1, 2))
    return out
