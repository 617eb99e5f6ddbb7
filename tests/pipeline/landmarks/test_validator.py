"""CNN detection validator against the C++ trace (every hypothesis of frame 1, frames 2-3) and CSVs."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest

from aubench.pipeline import registry
from aubench.pipeline.landmarks.validator import (
    DetectionValidator,
    _max_pooling,
    certainty_from_output,
    load_validator,
)
from tests.conftest import MEDIA, MODELS, TRACE
from tests.pipeline.landmarks._reference_csv import block, load


@pytest.fixture(scope="module", params=["reference", "numba"])
def validator(request) -> DetectionValidator:
    conv = registry.resolve({"validator_conv": request.param}).validator_conv
    return load_validator(MODELS / "model/detection_validation/validator_cnn.txt", conv)


def gray_frames(video, count, start=0):
    cap = cv2.VideoCapture(str(video))
    out = []
    index = 0
    while len(out) < count:
        ok, frame = cap.read()
        assert ok, f"{video}: could not read frame {index + 1}"
        if index >= start:
            out.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
        index += 1
    cap.release()
    return out


def test_every_hypothesis_of_frame1_and_tracked_frames(validator):
    frames = gray_frames(MEDIA / "default.wmv", 3)
    detect = TRACE / "clnf/frame0001/detect"
    with open(detect / "hypotheses.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 11
    for row in rows:
        folder = detect / f"hyp{int(row['hyp']):02d}/main"
        params = np.load(folder / "final_params.npy")[0]
        landmarks = np.load(folder / "final_landmarks.npy")
        got = validator.check(params[1:4], frames[0], landmarks)
        assert np.float32(got) == np.float32(row["detection_certainty"]), row["hyp"]
        # the float image the CLNF works on gives the same answer
        assert validator.check(params[1:4], frames[0].astype(np.float32), landmarks) == got
    for frame in (2, 3):
        folder = TRACE / f"clnf/frame{frame:04d}/track/main"
        params = np.load(folder / "final_params.npy")[0]
        info = (folder / "info.txt").read_text()
        expected = float(info.split("validator_certainty=")[1].split()[0])
        got = validator.check(params[1:4], frames[frame - 1], np.load(folder / "final_landmarks.npy"))
        assert np.float32(got) == np.float32(expected)


def test_multi_face_csv_confidences(validator):
    """From the CSV's rounded landmarks (1 dp) the certainty bin still matches on a stretch with varied values.

    Whole clip (harness): 700 of 702 frames agree (the two others are rounding-sensitive).
    """
    cols = load("multi_face")
    start, count = 0, 120
    frames = gray_frames(MEDIA / "multi_face.avi", count, start)
    lm = np.stack([block(cols, "x_", 68), block(cols, "y_", 68)], axis=2).astype(np.float32)
    rot = np.stack([cols["p_rx"], cols["p_ry"], cols["p_rz"]], axis=1)
    got = np.array([validator.check(rot[start + i], frames[i], lm[start + i]) for i in range(count)])
    expected = cols["confidence"][start:start + count]
    assert len(np.unique(expected)) >= 3
    assert np.mean(np.abs(np.round(got, 2) - expected) < 0.006) >= 0.98


def test_view_selection(validator):
    assert validator.view_id([0, 0, 0]) == 0
    assert validator.view_id([0, np.radians(-20), 0]) == 1
    assert validator.view_id([0, np.radians(70), 0.1]) == 6


def test_landmarks_outside_the_image_fail(validator):
    lm = np.full((68, 2), -500, np.float32)
    lm[:, 0] += np.arange(68)
    assert validator.check([0, 0, 0], np.zeros((480, 640), np.uint8), lm) == 0.0


def test_certainty_bins():
    out = np.zeros(30, np.float32)
    out[0] = 1
    assert certainty_from_output(out) == pytest.approx(0.98333335)
    out[:] = 0
    out[29] = 1
    assert certainty_from_output(out) == pytest.approx(0.016666668)


def test_max_pooling_is_ceil_mode():
    m = np.arange(25, dtype=np.float32).reshape(5, 5)
    (out,) = _max_pooling(m[None])
    np.testing.assert_array_equal(out, [[6, 8, 9], [16, 18, 19], [21, 23, 24]])
