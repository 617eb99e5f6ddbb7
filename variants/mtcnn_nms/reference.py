"""Reference MTCNN non-maximum suppression: plain Python/NumPy, as OpenFace's loop."""

from __future__ import annotations

import numpy as np


def _int_rects(boxes: np.ndarray) -> np.ndarray:
    """``cv::Rect(cv::Rect_<float>)``: each of x, y, w, h rounded to nearest (ties to even)."""
    return np.rint(boxes.astype(np.float32)).astype(np.int64)


def _intersection_area(a: np.ndarray, b: np.ndarray) -> int:
    """``(a & b).area()`` of two integer rects (0 when they do not overlap or one is empty)."""
    if a[2] <= 0 or a[3] <= 0 or b[2] <= 0 or b[3] <= 0:
        return 0
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return int(w * h) if w > 0 and h > 0 else 0


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, minimum: bool) -> np.ndarray:
    """Plain Python loop over NumPy integer rects, as OpenFace's (contract:
    :class:`aubench.pipeline.contracts.MtcnnNms`).
    """
    rects = _int_rects(np.asarray(boxes).reshape(-1, 4))
    areas = rects[:, 2] * rects[:, 3]
    thresh = np.float32(threshold)
    remaining = list(np.argsort(np.asarray(scores, dtype=np.float32), kind="stable"))
    kept = []
    while remaining:
        current = remaining.pop()  # the highest score; the later index among equal scores
        kept.append(current)
        survivors = []
        for other in remaining:
            inter = _intersection_area(rects[current], rects[other])
            if minimum:
                denom = min(areas[current], areas[other])
            else:
                denom = areas[current] + areas[other] - inter
            with np.errstate(divide="ignore", invalid="ignore"):
                overlap = np.float32(inter) / np.float32(denom)
            if not overlap > thresh:
                survivors.append(other)
        remaining = survivors
    return np.array(kept, dtype=np.int64)
