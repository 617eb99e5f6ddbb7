"""Detection parity against C++ OpenFace (reference/detections) for every variant selection.

CI subset: all six sample images (one frame each; sample6 has 12 faces) and frames 1, 2, 30
and 60 of each reference video (default, 2015-10-15-15-14, multi_face: 3 faces a frame).
The whole set (317 detections) is ``python -m experiments.detect_parity``.
"""

from __future__ import annotations

import pytest

from aubench.harness.detect_parity import (
    CONFIDENCE_MAX_DIFF,
    IOU_MEDIAN_MIN,
    SELECTIONS,
    compare,
    make_detector,
    media_for,
    read_reference,
    run_detector,
)

from ...conftest import MEDIA, MODELS, REFERENCE

VIDEO_FRAMES = (1, 2, 30, 60)
NAMES = ["sample1", "sample2", "sample3", "sample4", "sample5", "sample6", "default", "2015-10-15-15-14", "multi_face"]


@pytest.fixture(scope="module")
def runs():
    """{selection: {name: {frame: [Detection]}}} on the CI subset."""
    import cv2

    out = {}
    for sel in SELECTIONS:
        det = make_detector(sel, MODELS)
        out[sel] = {}
        for name in NAMES:
            media = media_for(name, MEDIA)
            if media.suffix == ".jpg":
                out[sel][name], _ = run_detector(det, media, 1)
                continue
            cap = cv2.VideoCapture(str(media))
            got, number = {}, 0
            while number < max(VIDEO_FRAMES):
                ok, bgr = cap.read()
                assert ok
                number += 1
                if number in VIDEO_FRAMES:
                    got[number] = det.detect(bgr)
            cap.release()
            out[sel][name] = got
    return out


@pytest.mark.slow
@pytest.mark.parametrize("selection", sorted(SELECTIONS))
def test_every_cpp_detection_matched(runs, selection):
    total = None
    for name in NAMES:
        ref = read_reference(REFERENCE / "detections" / f"{name}.csv")
        ref = {k: v for k, v in ref.items() if k in runs[selection][name]}
        c = compare(ref, runs[selection][name], name)
        total = c if total is None else (total.add(c) or total)
    assert total.total == 6 + 11 + 4 * 5  # 17 image faces, 4 frames x (1 + 1 + 3) video faces
    assert total.matched == total.total and total.extra == 0, total.failures
    assert min(total.ious) >= 0.99 and sorted(total.ious)[len(total.ious) // 2] >= IOU_MEDIAN_MIN
    assert max(total.confidence_diffs) <= CONFIDENCE_MAX_DIFF


@pytest.mark.slow
def test_fast_boxes_equal_reference(runs):
    for name in NAMES:
        for frame, ref_dets in runs["reference"][name].items():
            fast = runs["fast"][name][frame]
            assert len(fast) == len(ref_dets), (name, frame)
            for a, b in zip(ref_dets, fast):
                assert max(abs(a.x - b.x), abs(a.y - b.y), abs(a.w - b.w), abs(a.h - b.h)) <= 0.1, (name, frame)
                assert abs(a.confidence - b.confidence) <= 1e-4
