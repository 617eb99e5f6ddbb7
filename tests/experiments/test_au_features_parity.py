"""experiments.au_features_parity: the command around aubench.harness.au_features_parity (a few frames)."""

from __future__ import annotations

import json

from experiments import au_features_parity


def test_cli_prints_one_line_per_clip(capsys, tmp_path):
    out = tmp_path / "f.json"
    assert au_features_parity.main(["default", "--frames", "3", "--json", str(out)]) == 0
    assert capsys.readouterr().out.startswith("default: frames 3 (successful 3); aligned MAD mean")
    doc = json.loads(out.read_text())
    assert doc["variants"]["fhog"] == "numba_tables" and doc["clips"][0]["frames"] == 3


def test_cli_reports_an_unknown_variant(capsys):
    assert au_features_parity.main(["default", "--fhog", "nope"]) == 2
    assert "unknown variant" in capsys.readouterr().err
