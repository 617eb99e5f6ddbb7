"""experiments.detect_parity: the command around aubench.harness.detect_parity (one image; the 317 are its job)."""

from __future__ import annotations

import json

from experiments import detect_parity


def test_cli_matches_one_image_and_writes_json(capsys, tmp_path):
    out = tmp_path / "det.json"
    assert detect_parity.main(["sample1", "--selection", "fast", "--json", str(out)]) == 0
    assert "fast: 1/1 matched, extra 0" in capsys.readouterr().out
    assert json.loads(out.read_text())["selections"]["fast"]["total"]["ok"]
