"""running_median variants: sequences with updates against the reference, and the C++ medians of default.wmv."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.harness.au_reference import load_online_trace, read_hog_file
from aubench.pipeline import registry
from aubench.pipeline.au.median_state import RunningMedianState, geom_median_state, hog_median_state

from ..conftest import REFERENCE, TRACE

KERNEL = registry.kernels()["running_median"]
AVAILABLE = [name for name, v in KERNEL.variants.items() if v.unavailable_reason() is None]


@pytest.fixture(scope="module")
def trace():
    good, hog = read_hog_file(REFERENCE / "default" / "default.hog")
    return load_online_trace(TRACE), hog.astype(np.float64)


@pytest.mark.slow
@pytest.mark.parametrize("variant", AVAILABLE)
def test_medians_of_default_wmv(variant, trace):
    """OpenFace's schedule (odd frames, successful ones added) on the C++ HOG and geometry."""
    online, hog = trace
    fn = KERNEL.variants[variant].load()
    last = 100 if variant == "reference" else 288  # the reference rescans 4.5M bins per update
    hs, gs = hog_median_state(), geom_median_state()
    for frame in range(1, last + 1):
        if frame % 2 == 1:
            hog_median = fn(hs, hog[frame - 1], bool(online.successes[frame - 1]))
            hog_median[hog_median < 0] = 0
            geom_median = fn(gs, online.geometry[frame - 1], bool(online.successes[frame - 1]))
        if frame in online.hog_medians:
            np.testing.assert_array_equal(hog_median, online.hog_medians[frame])
            np.testing.assert_array_equal(geom_median, online.geom_medians[frame])
            assert hs.hist_count == gs.hist_count == (frame + 1) // 2


def test_state_layout():
    s = hog_median_state()
    assert s.histogram.shape == (4464, 1000) and s.histogram.dtype == np.int32
    alpha, beta = s.bin_scale()
    assert alpha == 1000 * (1 / 1.005) and beta == (0.005 * 1000) * (1 / 1.005)
    g = geom_median_state()
    assert g.histogram.shape == (238, 10000) and g.bin_centres(np.array([0, 9999])).tolist() == pytest.approx([-59.994, 59.994])


@pytest.mark.parametrize("variant", AVAILABLE)
def test_quirks(variant):
    fn = KERNEL.variants[variant].load()
    s = RunningMedianState(3, 10, 0.0, 10.0)
    # no descriptor added yet: cutoff 0 -> first bin's centre for every row
    np.testing.assert_array_equal(fn(s, np.array([3.0, 4.0, 5.0]), False), [0.5, 0.5, 0.5])
    # one descriptor added: the median *is* the descriptor, even a later one not added
    np.testing.assert_array_equal(fn(s, np.array([3.3, -7.0, 99.0]), True), [3.3, -7.0, 99.0])
    np.testing.assert_array_equal(fn(s, np.array([1.0, 2.0, 3.0]), False), [1.0, 2.0, 3.0])
    # out-of-range values land in the end bins; two values: cutoff 1 -> the lower one's bin
    np.testing.assert_array_equal(fn(s, np.array([8.9, 50.0, -50.0]), True), [3.5, 0.5, 0.5])
    np.testing.assert_array_equal(s.histogram.sum(axis=1), [2, 2, 2])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), frames=st.integers(1, 60), bins=st.sampled_from([5, 17, 1000]),
       spread=st.sampled_from([0.01, 1.0, 30.0]))
def test_variants_agree_on_sequences(seed, frames, bins, spread):
    rng = np.random.default_rng(seed)
    states = {name: RunningMedianState(50, bins, -2.0, 8.0) for name in AVAILABLE}
    for _ in range(frames):
        descriptor = rng.normal(1.0, spread, 50)
        if rng.random() < 0.1:
            descriptor[rng.integers(0, 50)] = 1e9
        update = bool(rng.random() < 0.8)
        out = {name: KERNEL.variants[name].load()(states[name], descriptor, update) for name in AVAILABLE}
        for name in AVAILABLE:
            np.testing.assert_array_equal(out[name], out["reference"], err_msg=name)
            np.testing.assert_array_equal(states[name].histogram, states["reference"].histogram)
