"""Numba face mask: the same bounding-box scan and float32 side tests, compiled."""

from __future__ import annotations

import math

import numpy as np

from aubench.variants._jit import jit


@jit
def _same_side(x0, y0, x1, y1, x2, y2, x3, y3):
    a = (x3 - x2) * (y0 - y2) - (x0 - x2) * (y3 - y2)
    b = (x3 - x2) * (y1 - y2) - (x1 - x2) * (y3 - y2)
    return a * b >= np.float32(0.0)


@jit
def _mask(pts, tris, width, height):
    mask = np.zeros((height, width), dtype=np.uint8)
    for t in range(tris.shape[0]):
        x1 = pts[tris[t, 0], 0]
        y1 = pts[tris[t, 0], 1]
        x2 = pts[tris[t, 1], 0]
        y2 = pts[tris[t, 1], 1]
        x3 = pts[tris[t, 2], 0]
        y3 = pts[tris[t, 2], 1]
        c0 = max(int(math.ceil(min(x1, x2, x3))), 0)
        c1 = min(int(math.floor(max(x1, x2, x3))), width - 1)
        r0 = max(int(math.ceil(min(y1, y2, y3))), 0)
        r1 = min(int(math.floor(max(y1, y2, y3))), height - 1)
        for y in range(r0, r1 + 1):
            y0 = np.float32(y)
            for x in range(c0, c1 + 1):
                if mask[y, x]:
                    continue
                x0 = np.float32(x)
                if (_same_side(x0, y0, x1, y1, x2, y2, x3, y3) and _same_side(x0, y0, x2, y2, x1, y1, x3, y3)
                        and _same_side(x0, y0, x3, y3, x1, y1, x2, y2)):
                    mask[y, x] = 1
    return mask


def face_mask(points: np.ndarray, triangulation: np.ndarray, width: int, height: int) -> np.ndarray:
    """Numba loops over each triangle's bounding box, pixels already inside skipped; exact."""
    pts = np.ascontiguousarray(points, dtype=np.float32)
    tris = np.ascontiguousarray(triangulation, dtype=np.int64)
    return _mask(pts, tris, int(width), int(height))
