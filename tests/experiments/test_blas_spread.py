"""The BLAS-kernel spread measurement and the tolerance table it justifies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from experiments import blas_spread
from tests import tolerances


def test_every_tolerance_covers_its_measured_spread_with_the_margin():
    for name, (tol, measured, family) in tolerances.TOLERANCES.items():
        assert tol >= tolerances.MARGIN * measured, (name, tol, measured, family)


def test_table_flags_a_tolerance_below_the_margin():
    name = next(iter(tolerances.TOLERANCES))
    tol = tolerances.tolerance(name)
    results = {"auto": {"kernel": "Haswell", "deviations": {name: tol}, "pytest": "1 passed", "passed": True},
               "Zen": {"kernel": "Zen", "deviations": {name: tol / 10}, "pytest": "1 passed", "passed": True}}
    text = blas_spread.table(results)
    row = next(line for line in text.splitlines() if line.startswith(name))
    assert "NO (needs >= 2 x max)" in row
    assert "kernels loaded: auto=Haswell, Zen=Zen" in text


@given(a=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=20), shift=st.floats(0, 10), rounding=st.floats(0, 1))
def test_deviation_is_the_excess_over_rounding(a, shift, rounding):
    b = [x + shift for x in a]
    dev = tolerances.deviation(b, a, rounding=rounding)
    assert dev == pytest.approx(max(shift - rounding, 0.0), abs=1e-9 * (1 + max(map(abs, b))))


def test_assert_close_records_and_names_the_source(tmp_path, monkeypatch):
    record = tmp_path / "dev.jsonl"
    monkeypatch.setenv("AUBENCH_RECORD_DEVIATIONS", str(record))
    tolerances.assert_close("tracker.gaze", [0.1, 0.2], [0.1, 0.2])
    with pytest.raises(AssertionError, match=r"tracker.gaze: deviation 0.1 > tolerance .*experiments.blas_spread"):
        tolerances.assert_close("tracker.gaze", [0.1, 0.3], [0.1, 0.2])
    assert record.read_text().count('"name": "tracker.gaze"') == 2
