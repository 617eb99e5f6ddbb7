"""Profile and the workload runner, on a stand-in with the pipeline's entry-point interface."""

from __future__ import annotations

import pstats

import pytest

from aubench import cli
from aubench.harness import profile, results, workload
from aubench.pipeline import config as config_mod
from aubench.pipeline.errors import AubenchError

from ..conftest import MEDIA
from ._fake_pipeline import install

CLIP = MEDIA / "default.wmv"


@pytest.fixture
def fake(monkeypatch):
    install(monkeypatch)


def test_timing_section_has_frames_stages_and_counters(fake, tmp_path):
    wl = workload.Workload(CLIP, config_mod.Config(), frames=9)
    outcome = workload.run(wl, tmp_path)
    t = workload.timing_section(outcome)
    assert t["frames"] == 9 and len(t["per_frame"]["frame_ms"]) == 9
    assert t["first_frame_ms"] > 0 and t["ms_per_frame"] > 0 and t["fps"] == pytest.approx(1000 / t["ms_per_frame"])
    assert {"landmarks", "landmarks.scale0", "landmarks.scale0.mean_shift", "au", "au.hog"} <= set(t["stages"])
    assert t["frame_ms"]["n"] == 8  # the first frame is apart
    c = t["counters"]["landmarks.iterations"]
    assert c["n"] == 9 and c["min"] == 3 and c["max"] == 5
    table = workload.format_stage_table(t).splitlines()
    assert table[0].split() == ["component", "median", "ms", "mean", "ms", "share"]
    assert t["ms_per_frame_mean"] > 0 and t["throughput_fps"] == pytest.approx(1000 / t["ms_per_frame_mean"])
    assert t["cpu_ms_per_frame"] > 0
    # sub-stages follow their parent, indented one level deeper
    i = next(k for k, ln in enumerate(table) if ln.strip().startswith("landmarks"))
    assert table[i + 1].startswith("    scale0") and table[i + 2].startswith("      mean_shift")
    assert "iterations" in workload.format_counters(t)


def test_injected_sleep_shows_in_every_frame(fake, tmp_path, monkeypatch):
    monkeypatch.setenv(workload.INJECT_SLEEP_ENV, "15")
    outcome = workload.run(workload.Workload(CLIP, config_mod.Config(), frames=4), tmp_path)
    assert min(outcome.timer.frame_ms) >= 15
    assert min(outcome.timer.per_frame()["injected_sleep"]) >= 15


def test_missing_input_is_a_clear_error(tmp_path):
    with pytest.raises(AubenchError, match="no such file"):
        workload.run(workload.Workload(tmp_path / "none.avi", config_mod.Config()), tmp_path)


def test_entry_point_is_the_run_loop():
    from aubench.pipeline.extract import run

    assert workload.entry_point() is run


def test_profile_command_writes_result_cprofile_and_line_profile(fake, tmp_path, capsys):
    out, prof = tmp_path / "p.json", tmp_path / "p.prof"
    assert cli.main(["profile", str(CLIP), "--config", "reference", "--frames", "6", "--cprofile", str(prof),
                     "--line", "mean_shift", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "mean ms" in text and "landmarks.iterations" in text and "Line #" in text
    doc = results.load(out)
    assert doc["kind"] == "profile" and doc["timing"]["frames"] == 6
    assert doc["workload"]["frames"] == 6 and doc["key"]
    assert doc["line_profile"]["kernel"] == "mean_shift" and "mean_shift" in doc["line_profile"]["text"]
    assert pstats.Stats(str(prof)).total_calls > 0


def test_line_profile_of_a_numba_variant_says_what_it_cannot_see(fake, tmp_path):
    cfg = config_mod.with_overrides(config_mod.Config(), variants={"mean_shift": "numba"})
    doc = profile.run_profile(workload.Workload(CLIP, cfg, frames=2), line="mean_shift")
    assert "Numba-compiled _mean_shift" in doc["line_profile"]["text"]
    with pytest.raises(AubenchError, match="unknown kernel"):
        profile.run_profile(workload.Workload(CLIP, cfg, frames=2), line="mean_shiftt")


@pytest.mark.slow
def test_pyspy_records_a_subprocess(tmp_path):
    out = tmp_path / "flame.svg"
    profile.run_pyspy(["variants"], out, rate=200)
    assert out.read_text().lstrip().startswith("<?xml")
    with pytest.raises(AubenchError, match=".svg"):
        profile.run_pyspy(["variants"], tmp_path / "flame.txt")


def test_stage_table_nests_under_the_nearest_timed_ancestor():
    stage = {"median": 1.0, "mean": 1.0}
    timing = {"ms_per_frame": 3.0, "ms_per_frame_mean": 3.0, "frames": 2, "wall_s": 0.1,
              "stages": {"landmarks": stage, "landmarks.main.scale1.response": stage, "landmarks.refit": stage,
                         "landmarks.refit.calc_params": stage, "au": stage}}
    lines = workload.format_stage_table(timing).splitlines()
    assert lines[4].startswith("    main.scale1.response ")  # untimed levels kept in the label
    assert lines[5].startswith("    refit ") and lines[6].startswith("      calc_params ")
