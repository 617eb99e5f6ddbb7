"""Running medians with OpenFace's schedule, on the C++ HOG of default.wmv."""

from __future__ import annotations

import numpy as np
import pytest

from aubench.harness.au_reference import load_online_trace, read_hog_file
from aubench.pipeline import registry
from aubench.pipeline.au.calibration import RunningMedians, updates_median, view_id

from ...conftest import REFERENCE, TRACE


def test_schedule_and_views():
    assert [updates_median(n) for n in range(1, 6)] == [True, False, True, False, True]
    bins = [(0, 0, 0), (0, 0.5, 0), (0, -0.5, 0)]
    assert view_id(bins, (0.0, 0.2, 0.0)) == 0
    assert view_id(bins, (0.1, 0.3, 0.0)) == 1
    assert view_id(bins, (0.0, 0.25, 0.0)) == 0  # tie: the first bin
    assert view_id([(0, 0, 0)], (1.0, 1.0, 1.0)) == 0


@pytest.mark.parametrize("selection", [{"running_median": "numba"}])
def test_default_wmv_first_100_frames(selection):
    online = load_online_trace(TRACE)
    _, hog = read_hog_file(REFERENCE / "default" / "default.hog")
    kernels = registry.resolve(selection)
    medians = RunningMedians()
    for frame in range(1, 101):
        if updates_median(frame):
            medians.update(kernels, hog[frame - 1], online.geometry[frame - 1], 0, bool(online.successes[frame - 1]))
        if frame in (1, 50, 100):
            np.testing.assert_array_equal(medians.hog_median, online.hog_medians[frame])
            np.testing.assert_array_equal(medians.geom_median, online.geom_medians[frame])
    assert medians.hog_counts == [50] and medians.geom_count == 50
    medians.reset()
    assert medians.hog_counts == [0] and not medians.hog_median.any()


def test_views_share_one_hog_median():
    kernels = registry.resolve({"running_median": "numba"})
    m = RunningMedians(n_views=2, hog_size=4, geom_size=2)
    m.update(kernels, np.full(4, 0.2), np.zeros(2), 0, True)
    m.update(kernels, np.full(4, 0.2), np.zeros(2), 0, True)
    m.update(kernels, np.full(4, 0.9), np.zeros(2), 1, True)
    # view 1 has one descriptor: the shared median is that descriptor
    np.testing.assert_array_equal(m.hog_median, np.full(4, 0.9))
    assert m.hog_counts == [2, 1] and m.geom_count == 3
    # an empty view's median is its first bin's centre, negative, clipped to 0
    m2 = RunningMedians(n_views=2, hog_size=4, geom_size=2)
    m2.update(kernels, np.full(4, 0.3), np.zeros(2), 1, False)
    np.testing.assert_array_equal(m2.hog_median, np.zeros(4))
