"""The report from real result files made by the harness (on the stand-in pipeline)."""

from __future__ import annotations

import re

import pytest

from aubench import cli
from aubench.harness import results
from aubench.reports import render

from ..conftest import MEDIA, REFERENCE
from ..harness._fake_pipeline import install

CLIP = MEDIA / "default.wmv"


@pytest.fixture(scope="module")
def result_files(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    install(mp)
    d = tmp_path_factory.mktemp("results")
    try:
        assert cli.main(["profile", str(CLIP), "--config", "reference", "--frames", "10", "-o", str(d / "1.json")]) == 0
        assert cli.main(["profile", str(CLIP), "--config", "fast", "--frames", "10", "-o", str(d / "2.json")]) == 0
        assert cli.main(["parity", str(CLIP), "--frames", "10", "-o", str(d / "3.json")]) == 0
        assert cli.main(["ab", "reference", "fast", str(CLIP), "--pairs", "2", "--frames", "4",
                         "-o", str(d / "4.json")]) == 0
    finally:
        mp.undo()
    return d


@pytest.mark.slow
def test_report_has_phase_table_plots_and_machine(result_files, tmp_path):
    docs = [results.load(p) for p in sorted(result_files.glob("*.json"))]
    html_path, md_path = render.render(docs, tmp_path / "rep")
    html = html_path.read_text()
    md = md_path.read_text()
    for heading in ("Verdicts", "Phase table", "Stage breakdown", "Parity of result", "A/B experiments",
                    "Machine and code"):
        assert heading in html and heading in md
    assert html.index("Verdicts") < html.index("Phase table")  # the verdicts come first
    # every result has a verdict row, coloured where it passed or failed, the A/B one naming the arm
    verdicts = render.verdict_rows(docs)
    assert len(verdicts) == len(docs)
    assert re.search(r'<td class="(pass|fail|partial)">', html)
    ab_row = next(r for r in verdicts if r[0].startswith("4. ab"))
    assert ab_row[1] in ("B (fast) faster", "A (reference) faster", "no change")
    # a 10-frame run against the 288-frame reference says so where its AU checks are judged
    assert "Partial run: 10 of the reference's 288 frames" in md
    # self-contained page: every image inline, no external reference
    assert len(re.findall(r'src="data:image/png;base64,', html)) >= 5 and 'src="http' not in html
    for link in re.findall(r"!\[[^]]*\]\(([^)]+)\)", md):
        assert (tmp_path / "rep" / link).is_file()
    rows = render.phase_rows(docs)
    ref = next(r for r in rows if r["label"] == "reference" and r["source"] == "profile")
    assert ref["speedup"] == pytest.approx(1.0)
    assert any(r["label"] == "fast" and r["speedup"] for r in rows)
    ab_doc = next(d for d in docs if d["kind"] == "ab")
    arm_a, arm_b = [r for r in rows if r["source"].startswith("A/B")]
    assert arm_a["speedup"] == 1.0
    assert arm_b["speedup"] == pytest.approx(1.0 / ab_doc["ab"]["comparison"]["ratio"])


@pytest.mark.slow
def test_report_command_on_folders_and_run_output(result_files, tmp_path, capsys):
    assert cli.main(["report", str(result_files), "-o", str(tmp_path / "a")]) == 0
    assert (tmp_path / "a" / "report.html").is_file()
    # an `aubench run` output folder: its CSV is compared with the shared reference
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "default.csv").write_text("\n".join((REFERENCE / "default" / "default.csv").read_text()
                                                   .splitlines()[:21]) + "\n")
    assert cli.main(["report", str(run_dir), "-o", str(tmp_path / "b")]) == 0
    assert "Parity of result 1: " in (tmp_path / "b" / "report.md").read_text()


def test_report_of_a_non_result_is_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "x.json"
    bad.write_text("{}")
    assert cli.main(["report", str(bad), "-o", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "expected an aubench result" in err[0]


def _cpp_ab(wall_cpp: float, wall_fast: float) -> dict:
    """A whole-run A/B result with C++ as arm A, as `aubench ab cpp:BUILD fast default.wmv` writes it."""
    def arm(label, kind, wall):
        return {"label": label, "kind": kind, "wall_s": {"median": wall}, "frames": 288,
                "timing": {"ms_per_frame": wall * 1000 / 288, "ms_per_frame_mean": wall * 1000 / 288,
                           "frames": 288, "wall_s": wall, "fps": 288 / wall, "whole_run": True}}
    return {"kind": "ab", "label": "C++ FeatureExtraction vs fast", "config": {"name": "fast"},
            "workload": {"input": "/x/default.wmv", "frames": None, "landmarks_from": None},
            "ab": {"mode": "whole_run", "pairs": 3, "a": arm("C++ FeatureExtraction", "cpp", wall_cpp),
                   "b": arm("fast", "aubench", wall_fast), "ratios": [wall_fast / wall_cpp] * 3,
                   "comparison": {"ratio": wall_fast / wall_cpp, "ci_low": 0.5, "ci_high": 0.7, "verdict": "faster"}}}


def test_vs_cpp_comes_only_from_cpp_runs_measured_beside_ours():
    """A whole-clip profile of default.wmv against C++'s whole run measured here by `aubench ab cpp:...`;
    without such a run (or for a partial clip) there is no "vs C++", never a figure from another machine."""
    doc = {"kind": "profile", "label": "fast", "config": {"name": "fast"},
           "workload": {"input": "/x/default.wmv", "frames": None, "landmarks_from": None},
           "timing": {"frames": 288, "wall_s": 6.0, "fps": 60.0, "throughput_fps": 60.0,
                      "ms_per_frame": 16.5, "ms_per_frame_mean": 16.7, "first_frame_ms": 1200.0}}
    limited = {**doc, "workload": {**doc["workload"], "frames": 30}}
    (alone,) = render.phase_rows([doc])
    assert alone["vs_cpp_run"] is None and alone["vs_cpp_run_nojit"] is None
    rows = render.phase_rows([doc, limited, _cpp_ab(15.0, 9.0)])
    full, short = [r for r in rows if r["source"] == "profile"]
    assert full["vs_cpp_run"] == pytest.approx(15.0 / 6.0) and full["vs_cpp_source"] == "C++ FeatureExtraction vs fast"
    assert full["vs_cpp_run_nojit"] == pytest.approx(full["vs_cpp_run"])  # no JIT figure: nothing apart
    assert short["vs_cpp_run"] is None and short["vs_cpp_run_nojit"] is None
    cpp_arm, fast_arm = [r for r in rows if r["source"].startswith("A/B")]
    assert cpp_arm["vs_cpp_run"] == pytest.approx(1.0) and fast_arm["vs_cpp_run"] == pytest.approx(15.0 / 9.0)
    jitted = {**doc, "timing": {**doc["timing"], "jit_s": 0.5}}
    (row,) = [r for r in render.phase_rows([jitted, _cpp_ab(15.0, 9.0)]) if r["source"] == "profile"]
    assert row["vs_cpp_run_nojit"] == pytest.approx(15.0 / 5.5)
