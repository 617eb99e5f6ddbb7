"""Kernel ``mtcnn_nms``: MTCNN's greedy non-maximum suppression on integer-rounded boxes.

Contract: :class:`aubench.pipeline.contracts.MtcnnNms`. Cases: the PNet candidates and the
RNet/ONet boxes of the C++ trace (frame 1 of default.wmv) with both overlap kinds, random
clustered boxes with tied scores, half-pixel coordinates (rounding ties), empty and
negative-size boxes, and no boxes.
"""

from __future__ import annotations

import numpy as np

from aubench.pipeline import contracts, registry


def _cases(rng, models_dir):
    from pathlib import Path

    trace = Path(models_dir).parent / "reference" / "trace" / "mtcnn"
    for name, thresh, minimum in (("stage1_pnet_after_per_scale_nms", 0.7, False),
                                  ("stage3_rnet_scores_all_inputs", 0.7, False),
                                  ("stage5_onet_scores_all_inputs", 0.7, True)):
        path = trace / f"{name}.csv"
        if path.is_file():
            data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
            yield registry.Case((data[:, 1:5].astype(np.float32), data[:, 5].astype(np.float32), thresh, minimum),
                                label=name)
    for label, minimum in (("clustered_iou", False), ("clustered_min", True)):
        centres = rng.uniform(0, 300, (6, 2))
        pick = rng.integers(0, 6, 120)
        xy = centres[pick] + rng.normal(0, 8, (120, 2))
        wh = rng.uniform(20, 80, (120, 1)) * np.ones((1, 2)) + rng.normal(0, 3, (120, 2))
        boxes = np.hstack([xy, wh]).astype(np.float32)
        boxes[::5, :2] = np.floor(boxes[::5, :2]) + 0.5  # rounding ties
        scores = np.round(rng.uniform(0.5, 1.0, 120), 2).astype(np.float32)  # many equal scores
        yield registry.Case((boxes, scores, 0.5, minimum), label=label)
    odd = np.array([[0, 0, 0, 10], [0, 0, 10, 10], [5, 5, -4, 6], [2, 2, 10, 10], [0, 0, 0, 0]], np.float32)
    yield registry.Case((odd, np.array([0.9, 0.8, 0.8, 0.7, 0.95], np.float32), 0.3, False), label="degenerate_iou")
    yield registry.Case((odd, np.array([0.9, 0.8, 0.8, 0.7, 0.95], np.float32), 0.3, True), label="degenerate_min")
    yield registry.Case((np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.5, False), label="empty")


def _check(expected, actual, case):
    assert np.array_equal(np.asarray(actual, dtype=np.int64), expected), f"{case.label}: kept {actual} != {expected}"


registry.kernel("mtcnn_nms", contract=contracts.MtcnnNms,
                summary="MTCNN greedy non-maximum suppression (IoU or min-area overlap)",
                cases=_cases, check=_check)
registry.variant("mtcnn_nms", "reference", "aubench.variants.mtcnn_nms.reference:nms", "plain Python loop over NumPy rects")
registry.variant("mtcnn_nms", "numba", "aubench.variants.mtcnn_nms.numba_kernel:nms",
                 "the same greedy loop compiled with Numba", requires=("numba",))
