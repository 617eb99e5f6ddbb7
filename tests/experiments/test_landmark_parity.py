"""experiments.landmark_parity: the command around aubench.harness.landmark_parity."""

from __future__ import annotations

import pytest

from experiments import landmark_parity


def test_cli_reports_unknown_clip(capsys):
    assert landmark_parity.main(["no_such_clip", "--frames", "1"]) == 2
    assert "no video named" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_prints_the_figures_of_a_few_frames(capsys, tmp_path):
    out = tmp_path / "lm.json"
    assert landmark_parity.main(["default", "--frames", "3", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert '"config": "fast"' in text and '"frames": 3' in text and out.read_text().strip() == text.strip()
