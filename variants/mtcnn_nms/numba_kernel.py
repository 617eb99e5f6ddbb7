"""Numba MTCNN non-maximum suppression: the same greedy loop, compiled."""

from __future__ import annotations

import numpy as np

from aubench.variants._jit import jit


@jit
def _nms(rects, order, thresh, minimum):
    n = order.shape[0]
    alive = np.ones(n, dtype=np.bool_)
    kept = np.empty(n, dtype=np.int64)
    m = 0
    for pos in range(n - 1, -1, -1):
        if not alive[pos]:
            continue
        cur = order[pos]
        kept[m] = cur
        m += 1
        ax, ay, aw, ah = rects[cur, 0], rects[cur, 1], rects[cur, 2], rects[cur, 3]
        area_a = aw * ah
        for q in range(pos - 1, -1, -1):
            if not alive[q]:
                continue
            o = order[q]
            bx, by, bw, bh = rects[o, 0], rects[o, 1], rects[o, 2], rects[o, 3]
            area_b = bw * bh
            inter = 0
            if aw > 0 and ah > 0 and bw > 0 and bh > 0:
                w = min(ax + aw, bx + bw) - max(ax, bx)
                h = min(ay + ah, by + bh) - max(ay, by)
                if w > 0 and h > 0:
                    inter = w * h
            if minimum:
                denom = min(area_a, area_b)
            else:
                denom = area_a + area_b - inter
            num = np.float32(inter)
            den = np.float32(denom)
            if den == 0:
                overlap = np.float32(np.nan) if num == 0 else np.float32(np.inf) * np.sign(num)
            else:
                overlap = num / den
            if overlap > thresh:
                alive[q] = False
    return kept[:m]


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, minimum: bool) -> np.ndarray:
    """The reference's greedy loop compiled with Numba (boolean 'alive' flags instead of lists)."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    rects = np.rint(boxes).astype(np.int64)
    order = np.argsort(np.asarray(scores, dtype=np.float32), kind="stable").astype(np.int64)
    return _nms(rects, order, np.float32(threshold), bool(minimum))
