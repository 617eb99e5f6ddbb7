"""The AU parity harness on the real reference data (short runs; whole clips are the harness's job)."""

from __future__ import annotations

import pytest

from aubench.harness import au_parity
from tests.conftest import SHARED

FAST = {"running_median": "numba", "au_predict": "stacked"}


def test_online_replay_is_exact():
    result = au_parity.online_replay(FAST, shared=SHARED)
    assert result["online_intensity_max_abs_diff"] < 1e-12
    assert result["online_class_mismatches"] == 0
    assert result["median_values_differing_at_frames_1_50_100_288"] == 0
    assert result["final_au_cells_differing"] == 0 and result["final_au_cells"] == 288 * 35


def test_images_static_models():
    result = au_parity.image_parity(FAST, shared=SHARED, hog_from_reference=True)
    assert result["faces"] == 17 and result["occurrence_cells_differing"] == 0
    # the CSV's 0.1-px landmarks move the geometry: at most ~0.01 on a 2-dp intensity
    assert result["intensity_max_abs_diff"] < 0.02


@pytest.mark.slow
def test_clip_with_reference_hog_short(tmp_path):
    result = au_parity.clip_parity("default", FAST, hog_from_reference=True, frames=12, shared=SHARED)
    assert result["frames"] == 12 and not result["whole_video"]
    assert set(result["au"]) >= {"AU01_r", "AU28_c"}


@pytest.mark.slow
def test_unrounded_csv_landmarks_bring_the_hog_to_the_cpp_one():
    """Frames 1-30 of default: FHOG from the unrounded CSV landmarks correlates >= 0.999 with C++'s
    on every frame; from the CSV's 0.1-px landmarks as written it does not."""
    fine = au_parity.clip_parity("default", FAST, frames=30, shared=SHARED)
    raw = au_parity.clip_parity("default", FAST, frames=30, shared=SHARED, unround=False)
    assert fine["landmarks_unrounded"] and not raw["landmarks_unrounded"]
    assert fine["hog"]["correlation_min"] >= 0.999 > raw["hog"]["correlation_min"]
    assert fine["aligned"]["mean_abs_diff_max"] < raw["aligned"]["mean_abs_diff_max"]


@pytest.mark.slow
def test_roundtrip_floor_separates_csv_rounding_from_the_au_stage(tmp_path):
    """Our run against its replay through its own CSV: close, but not equal (the CSV rounds)."""
    result = au_parity.roundtrip_floor("default", "fast", shared=SHARED, frames=16, work_dir=tmp_path)
    assert result["frames"]["compared"] == 16 == result["hog"]["frames"]
    assert 0.998 < result["hog"]["correlation_min"] < 1.0
    assert result["au"]["intensity_mae_max"] < 0.05
    assert list(tmp_path.iterdir()) == []  # nothing left behind
