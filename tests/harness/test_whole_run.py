"""Whole-run A/B with C++ OpenFace as an arm (aubench.harness.whole_run), on a stand-in C++ executable.

CI has no C++ build, so the C++ arm here is a script with FeatureExtraction's command line that writes
a CSV aubench made beforehand; the aubench arm is real. What is tested is the harness: the command line
and working folder C++ gets, timing, pairing, parity of both arms, the sentences and the report rows.
"""

from __future__ import annotations

import stat
import subprocess
import sys
import textwrap

import cv2
import pytest

from aubench.harness import whole_run
from aubench.pipeline.errors import ConfigError
from reports import render
from tests.conftest import MEDIA


def _short_clip(path, frames=12):
    cap = cv2.VideoCapture(str(MEDIA / "default.wmv"))
    ok, frame = cap.read()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (frame.shape[1], frame.shape[0]))
    for _ in range(frames):
        writer.write(frame)
        ok, frame = cap.read()
    writer.release()
    cap.release()
    return path


def _fake_cpp(build, csv):
    """A FeatureExtraction stand-in: checks it got the reference flags and its models beside it, writes ``csv``."""
    bin_dir = build / "bin"
    for sub in ("model", "AU_predictors"):
        (bin_dir / sub).mkdir(parents=True)
    exe = bin_dir / "FeatureExtraction"
    exe.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import os, shutil, sys
        from pathlib import Path
        args = sys.argv[1:]
        assert os.path.isdir("model") and os.path.isdir("AU_predictors"), "run from the binary's folder"
        for flag in {whole_run.CPP_REFERENCE_FLAGS!r}:
            assert flag in args, flag
        clip = Path(args[args.index("-f") + 1])
        out = Path(args[args.index("-out_dir") + 1])
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy({str(csv)!r}, out / (clip.stem + ".csv"))
        """))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return build


def test_a_cpp_arm_needs_a_build_with_its_models(tmp_path):
    with pytest.raises(ConfigError, match="no C\\+\\+ OpenFace FeatureExtraction there; build it"):
        whole_run.parse_arm(f"cpp:{tmp_path / 'nothing'}")
    exe = tmp_path / "FeatureExtraction"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    with pytest.raises(ConfigError, match="no model/ and AU_predictors/ beside it"):
        whole_run.parse_arm(f"cpp:{tmp_path}")
    assert whole_run.parse_arm("fast").kind == "aubench"


@pytest.mark.slow
def test_whole_run_ab_against_a_cpp_arm(tmp_path):
    clip = _short_clip(tmp_path / "clip.avi")
    made = tmp_path / "made"
    subprocess.run([sys.executable, "-m", "aubench.cli", "run", str(clip), "-o", str(made), "--quiet"], check=True)
    build = _fake_cpp(tmp_path / "build", made / "clip.csv")
    cpp = whole_run.parse_arm(f"cpp:{build}")
    assert cpp.kind == "cpp" and cpp.cwd == build / "bin"
    doc = whole_run.run_whole_ab(cpp, whole_run.parse_arm("fast"), clip, pairs=2, progress=False)
    ab = doc["ab"]
    assert ab["mode"] == "whole_run" and len(ab["ratios"]) == 2 and len(ab["a"]["runs"]) == 2
    assert ab["a"]["frames"] == ab["b"]["frames"] == 12
    assert all(r["wall_s"] > 0 and r["cpu_s"] >= 0 for r in ab["a"]["runs"] + ab["b"]["runs"])
    assert ab["b_vs_a"]["landmark_error_median_px"] == 0.0  # the stand-in wrote what aubench writes
    assert "A (C++ FeatureExtraction)" in ab["summary"] and "B (fast)" in ab["summary"]
    with pytest.raises(ConfigError, match="C\\+\\+ FeatureExtraction has no frame limit"):
        whole_run.run_whole_ab(cpp, whole_run.parse_arm("fast"), clip, frames=5, progress=False)
    rows = render.phase_rows([doc])
    cpp_row, fast_row = rows
    assert cpp_row["vs_cpp_run"] == pytest.approx(1.0)
    assert fast_row["vs_cpp_run"] == pytest.approx(1.0 / ab["comparison"]["ratio"])  # the paired estimate
    text = whole_run.format_whole_ab(doc)
    assert "C++ FeatureExtraction" in text and "B against A on this machine" in text


@pytest.mark.slow
def test_profile_of_a_cpp_build_is_its_whole_runs_and_feeds_vs_cpp(tmp_path):
    clip = _short_clip(tmp_path / "clip.avi", frames=6)
    made = tmp_path / "made"
    subprocess.run([sys.executable, "-m", "aubench.cli", "run", str(clip), "-o", str(made), "--quiet"], check=True)
    build = _fake_cpp(tmp_path / "build", made / "clip.csv")
    doc = whole_run.profile_arm(whole_run.parse_arm(f"cpp:{build}"), clip, runs=2, progress=False)
    w = doc["whole_run"]
    assert doc["kind"] == "profile" and w["kind"] == "cpp" and len(w["runs"]) == 2 and w["frames"] == 6
    assert doc["timing"]["frames"] == 6 and doc["timing"]["whole_run"]
    assert "whole runs (start-up included)" in whole_run.format_profile(doc)
    ours = {"kind": "profile", "label": "fast", "config": {"name": "fast"}, "workload": doc["workload"],
            "timing": {"frames": 6, "wall_s": w["wall_s"]["median"] / 2, "ms_per_frame": 1.0}}
    row = next(r for r in render.phase_rows([doc, ours]) if r["label"] == "fast")
    assert row["vs_cpp_run"] == pytest.approx(2.0)
