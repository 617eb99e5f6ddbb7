"""experiments.detect_landmarks_bench on a few calls (the min-of-300 figures are for the harness)."""

from __future__ import annotations

import numpy as np
import pytest

from experiments import detect_landmarks_bench as bench
from tests.conftest import MEDIA, MODELS

VIDEO = MEDIA / "default.wmv"


@pytest.mark.slow
def test_repeated_calls_time_the_same_fit():
    r = bench.measure("fast", VIDEO, 3, 3, str(MODELS))
    assert len(r["total_ms"]) == 3 and all(t > 0 for t in r["total_ms"])
    # the selected kernels run inside every call and take part of its time
    assert {"patch_response", "nu_rlms", "warp_areas", "align_shapes"} <= set(r["kernels_ms"])
    assert sum(min(v) for v in r["kernels_ms"].values()) < min(r["total_ms"])
    # a repeated call is the same computation: no state carried between the timed calls
    clnf, gray, g, loc, windows = r["call"]
    again = clnf.detect_landmarks(gray, g, loc, windows, likelihood=False)
    np.testing.assert_array_equal(again.landmarks, r["landmarks"])


@pytest.mark.slow
def test_cli_prints_the_minimum_and_the_glue(capsys):
    assert bench.main(["--frame", "2", "--reps", "2", "--models", str(MODELS), "--video", str(VIDEO)]) == 0
    out = capsys.readouterr().out
    assert "DetectLandmarks of frame 2 (fast): min" in out and "glue" in out and "patch_response" in out


@pytest.mark.slow
def test_a_frame_past_the_end_is_a_one_line_error(capsys):
    assert bench.main(["--frame", "100000", "--reps", "1", "--models", str(MODELS), "--video", str(VIDEO)]) == 2
    err = capsys.readouterr().err
    assert "fewer than 100000 frames" in err and err.count("\n") == 1
