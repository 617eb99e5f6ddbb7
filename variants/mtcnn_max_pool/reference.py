"""Reference MTCNN max-pooling: plain NumPy, one output cell at a time."""

from __future__ import annotations

import numpy as np

from aubench.pipeline.detect.mtcnn import pooled_size


def max_pool(maps: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """Plain NumPy, one output cell at a time over the batch and channels (contract:
    :class:`aubench.pipeline.contracts.MtcnnMaxPool`).
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
