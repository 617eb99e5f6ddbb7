from __future__ import annotations

from experiments.harness import calibration


def test_calibration_reports_median_min_and_version():
    m = calibration.measure(repeats=3, warmup=0)
    assert m["version"] == calibration.VERSION
    assert len(m["times_ms"]) == 3
    assert 0 < m["min_ms"] <= m["median_ms"]
