"""experiments.cached_variants: one short run end to end, its figures and its JSON."""

from __future__ import annotations

import json

from experiments import cached_variants
from tests.conftest import MEDIA


def test_short_run_prints_and_writes_the_parity_figures(tmp_path, capsys):
    out = tmp_path / "figures.json"
    cached_variants.main(["realtime", "--clips", "default", "--frames", "15", "--media", str(MEDIA), "-o", str(out)])
    rows = json.loads(out.read_text())
    assert [(r["config"], r["clip"]) for r in rows] == [("realtime", "default")]
    assert 0 <= rows[0]["landmark_median_px"] < 0.5
    assert 0 < rows[0]["occurrence_min"] <= 1
    assert "realtime" in capsys.readouterr().out
