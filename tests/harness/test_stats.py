from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.harness import stats


def test_summary_ignores_nan_and_reports_n():
    s = stats.summary([1.0, 2.0, float("nan"), 3.0])
    assert s["n"] == 3 and s["median"] == 2.0 and s["min"] == 1.0 and s["max"] == 3.0
    assert stats.summary([]) == {"n": 0}


def test_bootstrap_ci_brackets_the_median_and_is_reproducible():
    x = np.random.default_rng(3).normal(10.0, 1.0, 40)
    low, high = stats.bootstrap_ci(x)
    assert low <= np.median(x) <= high
    assert (low, high) == stats.bootstrap_ci(x)
    assert stats.bootstrap_ci([4.0]) == (4.0, 4.0)
    with pytest.raises(ValueError):
        stats.bootstrap_ci([float("nan")])


def test_bootstrap_ci_is_scipys_percentile_bootstrap_of_the_median():
    x = np.random.default_rng(3).normal(10.0, 1.0, 40)
    direct = scipy.stats.bootstrap((x,), np.median, n_resamples=4000, confidence_level=0.95, method="percentile",
                                   **{stats._scipy_stats()[1]: np.random.default_rng(0)}).confidence_interval
    assert stats.bootstrap_ci(x) == (direct.low, direct.high)
    # ... and the textbook computation: medians of 4000 resamples, their 2.5 and 97.5 % quantiles. Over 200
    # seeds either end of this sample's interval ranges over 0.05 (low) and 0.10 (high) of its 0.64 width, so
    # 0.1 holds however scipy draws its resamples (today it draws them as below, and the ends are equal).
    idx = np.random.default_rng(0).integers(0, x.size, size=(4000, x.size))
    medians = np.median(x[idx], axis=1)
    assert stats.bootstrap_ci(x) == pytest.approx((np.quantile(medians, 0.025), np.quantile(medians, 0.975)), abs=0.1)
    # another statistic and confidence level reach scipy unchanged
    low, high = stats.bootstrap_ci(x, statistic=np.mean, confidence=0.5)
    assert low < x.mean() < high and high - low < direct.high - direct.low


def test_verdict_needs_significance_and_the_minimum_effect():
    # clearly faster
    assert stats.compare_ratios([0.80, 0.82, 0.79, 0.81, 0.80]).verdict == "faster"
    # clearly slower
    assert stats.compare_ratios([1.30, 1.28, 1.31, 1.29, 1.33]).verdict == "slower"
    # significant but below the 5% minimum effect
    c = stats.compare_ratios([0.98, 0.981, 0.979, 0.98, 0.982])
    assert c.significant and c.verdict == "no change" and "minimum effect" in c.describe()
    # large but noisy: the interval straddles 1
    c = stats.compare_ratios([0.6, 1.5, 0.7, 1.4, 0.8])
    assert not c.significant and c.verdict == "no change" and "not significant" in c.describe()
    # too few pairs to call anything
    assert stats.compare_ratios([0.5, 0.5]).verdict == "no change"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.2, 5.0), min_size=1, max_size=30))
def test_compare_ratios_interval_contains_its_median(ratios):
    c = stats.compare_ratios(ratios)
    assert c.ci_low <= c.ratio <= c.ci_high
    assert c.verdict in ("faster", "slower", "no change")
    if c.verdict == "faster":
        assert c.ci_high < 1.0 and c.ratio <= 0.95
    if c.verdict == "slower":
        assert c.ci_low > 1.0 and c.ratio >= 1.05


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)), min_size=3, max_size=40))
def test_pearson_r_is_the_textbook_formula(pairs):
    x, y = (np.array(v) for v in zip(*pairs))
    sx, sy = x.std(), y.std()
    if sx < 1e-6 * (1 + np.abs(x).max()) or sy < 1e-6 * (1 + np.abs(y).max()):
        return  # (near-)constant: its own test below
    direct = np.mean((x - x.mean()) * (y - y.mean())) / (sx * sy)
    assert stats.pearson_r(x, y) == pytest.approx(direct, abs=1e-9)


def test_pearson_r_constant_series():
    assert stats.pearson_r([1, 1, 1], [1, 1, 1]) == 1.0
    assert np.isnan(stats.pearson_r([1, 1, 1], [1, 2, 3]))
    assert stats.pearson_r([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert np.isnan(stats.pearson_r([1.0], [2.0]))
    assert np.isnan(stats.pearson_r([2, 2, 2], [1, 1, 1]))  # both constant, but not equal


def test_pearson_r_rows_is_pearson_r_of_each_row():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(6, 50)), rng.normal(size=(6, 50))
    b[1] = 2 * a[1] + 1
    a[2], b[2] = 3.0, 3.0  # both constant and equal
    a[3] = 1.0  # one constant
    a[4], b[4] = 1.0, 2.0  # both constant, different
    got = stats.pearson_r_rows(a, b)
    want = [stats.pearson_r(x, y) for x, y in zip(a, b)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    assert got[1] == pytest.approx(1.0) and got[2] == 1.0 and np.isnan(got[3]) and np.isnan(got[4])
    with pytest.raises(ValueError, match="shapes"):
        stats.pearson_r_rows(a, b[:, :3])
