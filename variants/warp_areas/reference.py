"""Areas of interest sampled with OpenCV's own warpAffine (the reference variant)."""

from __future__ import annotations

import cv2
import numpy as np


def warp_areas(gray, tx, ty, a1, b1, area_size):
    """One ``cv2.warpAffine`` call per landmark (contract: :class:`aubench.pipeline.contracts.WarpAreas`)."""
    out = np.empty((len(tx), area_size, area_size), np.float32)
    m = np.array([[a1, -b1, 0.0], [b1, a1, 0.0]], np.float64)
    flags = cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR
    size = (area_size, area_size)
    for i in range(len(tx)):
        m[0, 2] = tx[i]
        m[1, 2] = ty[i]
        cv2.warpAffine(gray, m, size, dst=out[i], flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out
