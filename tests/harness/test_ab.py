from __future__ import annotations

from aubench import cli
from aubench.harness import ab, results

from ..conftest import MEDIA
from ._fake_pipeline import install


def test_ab_interleaves_pairs_after_warm_up_and_reports_parity(monkeypatch, tmp_path, capsys):
    install(monkeypatch)
    b = tmp_path / "vec.toml"
    b.write_text('name = "vectorised"\n[variants]\nmean_shift = "vectorised"\n')
    out = tmp_path / "ab.json"
    assert cli.main(["ab", "reference", str(b), str(MEDIA / "default.wmv"), "--pairs", "3", "--frames", "5",
                     "-o", str(out)]) == 0
    captured = capsys.readouterr()
    # progress: one tqdm bar over 2 warm-up runs + 3 pairs of runs, the last run's label and fps beside it
    last = captured.err.rsplit("\r", 1)[-1]
    assert last.startswith("ab: 100%") and "8/8" in last and "pair 3 B vectorised: 5 frames" in last and "fps" in last
    doc = results.load(out)
    a = doc["ab"]
    assert a["pairs"] == 3 and len(a["ratios"]) == 3
    assert set(a["warmup"]) == {"A", "B"}
    assert a["a"]["label"] == "reference" and a["b"]["label"] == "vectorised"
    assert a["a"]["config_hash"] != a["b"]["config_hash"]
    assert doc["variants"]["mean_shift"]["variant"] == "vectorised"
    assert doc["variants_a"]["mean_shift"]["variant"] == "reference"
    assert a["a"]["parity"]["passed"] and a["b"]["parity"]["passed"]
    c = a["comparison"]
    assert c["ci_low"] <= c["ratio"] <= c["ci_high"] and c["verdict"] in ("faster", "slower", "no change")
    assert "B/A time ratio" in captured.out and "process CPU time" in captured.out
    assert len(a["cpu_ratios"]) == 3 and a["cpu_comparison"]["n"] == 3


def test_ab_refuses_zero_pairs(capsys):
    assert cli.main(["ab", "reference", "fast", str(MEDIA / "default.wmv"), "--pairs", "0"]) == 2
    assert "--pairs" in capsys.readouterr().err


def test_ab_quiet_prints_no_progress(monkeypatch, capsys):
    install(monkeypatch)
    assert cli.main(["ab", "reference", "fast", str(MEDIA / "default.wmv"), "--pairs", "1", "--frames", "3",
                     "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_format_ab_mentions_both_arms(monkeypatch):
    install(monkeypatch)
    from aubench.pipeline import config as config_mod

    doc = ab.run_ab(config_mod.preset("reference"), config_mod.preset("fast"), MEDIA / "default.wmv",
                    pairs=1, frames=3, progress=False)
    text = ab.format_ab(doc)
    assert "reference" in text and "fast" in text and "n=1" in text and "no change" in text
