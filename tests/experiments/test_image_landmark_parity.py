"""experiments.image_landmark_parity: the command around aubench.harness.image_landmark_parity."""

from __future__ import annotations

import pytest

from experiments import image_landmark_parity


@pytest.mark.slow
def test_cli_prints_the_summary(capsys, tmp_path):
    out = tmp_path / "img.json"
    assert image_landmark_parity.main(["--json", str(out)]) == 0  # default config: fast
    assert "17 faces: median" in capsys.readouterr().out
    assert out.is_file()
