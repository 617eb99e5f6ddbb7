"""Offline AU post-processing: the final AU columns of the C++ default.csv, and the rules one by one."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.harness.au_reference import load_online_trace, read_csv_text, read_hog_file
from aubench.pipeline import registry
from aubench.pipeline.au.postprocess import format_au, intensity_offset, offline_intensity, offline_occurrence
from aubench.pipeline.au.predictors import AUPredictor
from aubench.pipeline.models.au_models import read_au_models

from ...conftest import MODELS, REFERENCE, TRACE


def test_default_csv_au_columns_exactly():
    """Re-predict every successful frame with the final medians (PostprocessPredictions), then
    offsets, clipping and smoothing: every AU cell of default.csv, as written (2 dp)."""
    models = read_au_models(MODELS / "AU_predictors" / "main_dynamic_svms.txt")
    predictor = AUPredictor(models)
    online = load_online_trace(TRACE)
    _, hog = read_hog_file(REFERENCE / "default" / "default.hog")
    kernels = registry.resolve({"au_predict": "stacked"})
    n = len(online.successes)
    intensity = {name: np.zeros(n) for name in predictor.intensity_names}
    occurrence = {name: np.zeros(n) for name in predictor.occurrence_names}
    for f in np.flatnonzero(online.successes):
        v = predictor.predict(kernels, hog[f], online.geometry[f], online.hog_medians[288], online.geom_medians[288])
        for name, value in v.intensity.items():
            intensity[name][f] = value
        for name, value in v.occurrence.items():
            occurrence[name][f] = value
    final_r = offline_intensity(intensity, online.successes, models.intensity_cutoffs)
    final_c = offline_occurrence(occurrence)
    expected = read_csv_text(REFERENCE / "default" / "default.csv")
    for name, values in final_r.items():
        assert [format_au(v) for v in values] == expected[f"{name}_r"], name
    for name, values in final_c.items():
        assert [format_au(v) for v in values] == expected[f"{name}_c"], name


def test_offset_is_the_cutoff_share_of_sorted_successful_values():
    values = np.array([5.0, 1.0, 3.0, 2.0, 4.0, -9.0])
    ok = np.array([True, True, True, True, True, False])
    assert intensity_offset(values, ok, 0.5) == 3.0   # sorted [1,2,3,4,5][int(2.5)]
    assert intensity_offset(values, ok, 0.0) == 1.0
    assert intensity_offset(values, ok, -1) == 0.0
    assert intensity_offset(values, np.zeros(6, bool), 0.5) == 0.0


def test_intensity_rules():
    raw = {"AU01": np.array([1.0, 2.0, 7.0, -1.0, 4.0]), "AU04": np.array([1.0, 2.0, 7.0, -1.0, 4.0])}
    ok = np.array([True, True, True, False, True])
    out = offline_intensity(raw, ok, {"AU01": 0.5, "AU04": -1})
    # AU04: clip [0,5], failed -> 0: [1,2,5,0,4] -> centred 3-frame mean inside
    np.testing.assert_allclose(out["AU04"], [1.0, 8 / 3, 7 / 3, 3.0, 4.0])
    # AU01: offset = sorted([1,2,7,4])[2] = 4 -> [0,0,3,0,0]
    np.testing.assert_allclose(out["AU01"], [0.0, 1.0, 1.0, 1.0, 0.0])
    static = offline_intensity(raw, ok, {"AU01": 0.5}, dynamic=False)
    np.testing.assert_allclose(static["AU01"], out["AU04"])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 6, 7, 8])
def test_occurrence_vote_keeps_the_ends(n):
    raw = np.tile([1.0, 0.0], 5)[:n]
    out = offline_occurrence({"AU01": raw})["AU01"]
    assert out.shape == (n,)
    np.testing.assert_array_equal(out[:3], raw[:3])
    np.testing.assert_array_equal(out[max(3, n - 3):], raw[max(3, n - 3):])
    if n >= 7:
        # [1,0,1,0,1,0,1] -> 4/7 >= 0.5 -> 1
        assert out[3] == 1.0


def test_short_intensity_series_are_unsmoothed():
    for n in (0, 1, 2):
        out = offline_intensity({"AU01": np.ones(n)}, np.ones(n, bool), {})["AU01"]
        np.testing.assert_array_equal(out, np.ones(n))


def test_format():
    assert format_au(0.125) == "0.12" and format_au(1.0) == "1.00" and format_au(0.0) == "0.00"


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(-10, 10), min_size=0, max_size=40), seed=st.integers(0, 2**31 - 1),
       cutoff=st.sampled_from([-1.0, 0.0, 0.3, 0.55, 0.99]))
def test_properties(values, seed, cutoff):
    raw = np.array(values, dtype=np.float64)
    ok = np.random.default_rng(seed).random(raw.size) < 0.8
    out = offline_intensity({"AU01": raw}, ok, {"AU01": cutoff})["AU01"]
    assert out.shape == raw.shape and np.all((out >= 0) & (out <= 5))
    if raw.size >= 3:
        # a frame whose neighbours and itself failed stays 0 after smoothing
        for i in range(1, raw.size - 1):
            if not ok[i - 1:i + 2].any():
                assert out[i] == 0
    classes = (raw > 0).astype(float)
    voted = offline_occurrence({"AU01": classes})["AU01"]
    assert set(np.unique(voted)) <= {0.0, 1.0}
