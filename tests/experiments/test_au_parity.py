"""experiments.au_parity: the command around aubench.harness.au_parity."""

from __future__ import annotations

import json

from experiments import au_parity


def test_cli(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert au_parity.main(["--images", "--hog-from-reference", "--variant", "au_predict=stacked", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["faces"] == 17
    assert au_parity.main(["default", "--variant", "au_predict=nope"]) == 2
    assert "unknown variant" in capsys.readouterr().err
