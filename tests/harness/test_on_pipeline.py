"""The harness on the real run loop (``aubench.pipeline.extract.run``), on a short stretch of default.wmv.

Landmarks are replayed from the C++ CSV (``--landmarks-from``) so the stretch is
cheap; whatever stages the pipeline has are timed and compared.
"""

from __future__ import annotations

import pytest

from aubench import cli
from aubench.harness import results

from ..conftest import MEDIA, REFERENCE

CLIP = MEDIA / "default.wmv"
REF_CSV = REFERENCE / "default" / "default.csv"


def test_profile_and_parity_of_the_real_run_loop(tmp_path, capsys):
    prof = tmp_path / "profile.json"
    assert cli.main(["profile", str(CLIP), "--frames", "6", "--landmarks-from", str(REF_CSV),
                     "-o", str(prof)]) == 0
    doc = results.load(prof)
    t = doc["timing"]
    assert t["frames"] == 6 and t["ms_per_frame"] > 0
    assert {"decode", "landmarks", "write"} <= set(t["stages"])  # the run loop's own stages
    assert any(s.startswith("landmarks") for s in t["stages_ran"])
    assert doc["workload"]["stages_ran"] == t["stages_ran"]
    assert "component" in capsys.readouterr().out

    par = tmp_path / "parity.json"
    code = cli.main(["parity", str(CLIP), "--frames", "6", "--landmarks-from", str(REF_CSV), "-o", str(par)])
    doc = results.load(par)
    figures = doc["parity"]["figures"]
    assert figures["frames"]["compared"] == 6
    # replayed landmarks are the C++ ones, to the CSV's precision
    assert figures["landmarks"]["error_max_px"] < 0.1 and figures["success_agreement"] == 1.0
    assert code == (0 if doc["parity"]["passed"] else 1)


@pytest.mark.slow
def test_profile_under_pyspy_writes_a_flame_graph_and_the_result(tmp_path, capsys):
    flame, out = tmp_path / "flame.svg", tmp_path / "p.json"
    assert cli.main(["profile", str(CLIP), "--frames", "4", "--landmarks-from", str(REF_CSV),
                     "--pyspy", str(flame), "-o", str(out)]) == 0
    assert flame.read_text().lstrip().startswith("<?xml")
    assert results.load(out)["timing"]["frames"] == 4  # the recorded subprocess wrote the result
    assert "mean ms" in capsys.readouterr().out
