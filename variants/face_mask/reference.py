"""Plain NumPy face mask: each triangle's bounding box tested with PAW's side tests (the reference variant)."""

from __future__ import annotations

import numpy as np

F32 = np.float32


def _same_side(x0, y0, x1, y1, x2, y2, x3, y3):
    """``PAW::sameSide``: (x0, y0) and (x1, y1) on the same side of the line (x2, y2)-(x3, y3)."""
    a = (x3 - x2) * (y0 - y2) - (x0 - x2) * (y3 - y2)
    b = (x3 - x2) * (y1 - y2) - (x1 - x2) * (y3 - y2)
    return (a * b) >= 0


def face_mask(points: np.ndarray, triangulation: np.ndarray, width: int, height: int) -> np.ndarray:
    """Plain NumPy, one triangle's bounding box at a time with PAW's side tests (contract:
    :class:`aubench.pipeline.contracts.FaceMask`).
    """
    pts = np.asarray(points, dtype=F32)
    mask = np.zeros((height, width), dtype=np.uint8)
    for i0, i1, i2 in np.asarray(triangulation):
        x1, y1 = pts[i0]
        x2, y2 = pts[i1]
        x3, y3 = pts[i2]
        # integer pixels inside the triangle's (float) bounding box
        c0, c1 = max(int(np.ceil(min(x1, x2, x3))), 0), min(int(np.floor(max(x1, x2, x3))), width - 1)
        r0, r1 = max(int(np.ceil(min(y1, y2, y3))), 0), min(int(np.floor(max(y1, y2, y3))), height - 1)
        if c0 > c1 or r0 > r1:
            continue
        y0, x0 = np.mgrid[r0:r1 + 1, c0:c1 + 1].astype(F32)
        inside = (_same_side(x0, y0, x1, y1, x2, y2, x3, y3)
                  & _same_side(x0, y0, x2, y2, x1, y1, x3, y3)
                  & _same_side(x0, y0, x3, y3, x1, y1, x2, y2))
        mask[r0:r1 + 1, c0:c1 + 1] |= inside.astype(np.uint8)
    return mask
