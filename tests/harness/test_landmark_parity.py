"""The landmark parity harness: figures from stand-in results and the reference detector."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from aubench.harness.landmark_parity import GAZE_COLUMNS, POSE_COLUMNS, ReferenceDetector, compare, read_csv
from aubench.pipeline.errors import InputError
from tests.conftest import REFERENCE


def _from_csv(cols, i, shift=0.0):
    """A tracker result that reproduces CSV row i (landmarks shifted by ``shift`` px)."""
    lm = np.stack([[cols[f"x_{k}"][i], cols[f"y_{k}"][i]] for k in range(68)]) + shift
    g = np.array([cols[k][i] for k in GAZE_COLUMNS])
    return SimpleNamespace(landmarks=lm, success=bool(cols["success"][i]), confidence=cols["confidence"][i],
                           pose=np.array([cols[k][i] for k in POSE_COLUMNS]), gaze_0=g[0:3], gaze_1=g[3:6],
                           gaze_angle=g[6:8], detected=i == 0, iterations=[5, 5, 2])


def test_compare_figures():
    cols = read_csv(REFERENCE / "default/default.csv")
    exact = compare([_from_csv(cols, i) for i in range(10)], cols)
    assert exact["landmark_error_px"]["max"] == 0 and exact["rotation_error_deg"]["max"] == 0
    assert exact["success_agreement"] == 1 and exact["confidence_agreement"] == 1
    assert exact["detections_at"] == [1]
    assert exact["nu_rlms_updates"]["fraction_at_max"] == pytest.approx(2 / 3)
    shifted = compare([_from_csv(cols, i, shift=0.3) for i in range(10)], cols)
    assert shifted["landmark_error_px"]["median"] == pytest.approx(0.3 * np.sqrt(2), rel=1e-6)


def test_reference_detector_picks_widest_and_stops_at_its_last_frame():
    det = ReferenceDetector(REFERENCE / "detections/default.csv")
    det.frame = 1
    box = det.detect_single(None)
    assert box.x == pytest.approx(147.371201) and box.w == pytest.approx(190.917023)
    det.frame = det.last_frame + 1
    with pytest.raises(InputError, match="--detector mtcnn"):
        det.detect_single(None)
    with pytest.raises(InputError, match="no reference detections"):
        ReferenceDetector(REFERENCE / "detections/none.csv")

