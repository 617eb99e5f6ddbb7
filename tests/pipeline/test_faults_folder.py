"""Faults around the output folder (issue 15): two runs of one stem at once, stale outputs of an earlier run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from aubench.pipeline import extract
from aubench.pipeline.config import Config, with_overrides
from aubench.pipeline.io import claim as claim_mod
from aubench.pipeline.io.claim import OutputBusy, claim_outputs, lock_path, remove_stale_outputs
from tests.conftest import MEDIA
from tests.pipeline.test_extract import REF_CSV, VIDEO, FakeAnalyser

# A second process that claims OUT/<stem> and says "held" once it holds it, then waits to be stopped.
_HOLDER = textwrap.dedent("""
    import sys, time
    from aubench.pipeline.io.claim import claim_outputs
    claim = claim_outputs(sys.argv[1], sys.argv[2])
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin (or kills us)
    claim.release()
""")


@pytest.fixture
def holder(tmp_path):
    """Start a process holding the claim on ``tmp_path/out`` stem ``default``; yields the Popen."""
    procs = []

    def start(out_dir, stem="default"):
        proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(out_dir), stem], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout.readline().strip() == "held", proc.stderr.read()
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _replay_run(out_dir, frames, **kw):
    cfg = with_overrides(Config(), output={"hogalign": True, "simalign": True})
    return extract.run(VIDEO, out_dir, cfg, frames=frames, landmarks_from=REF_CSV, analyser=FakeAnalyser(),
                       progress=False, **kw)


# ---------------------------------------------------------------- the lock
@pytest.mark.slow  # subprocesses
def test_second_run_of_the_same_stem_is_refused_with_one_line(tmp_path, holder):
    out = tmp_path / "out"
    proc = holder(out)
    run = subprocess.run([sys.executable, "-m", "aubench.cli", "run", str(VIDEO), "-o", str(out), "--frames", "2",
                          "--quiet"], capture_output=True, text=True)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    busy = f"{out / 'default.csv'} is being written by another aubench run (pid {proc.pid}, started "
    assert lines[0].startswith(f"aubench run: error: {busy}")
    assert lines[0].endswith("; wait for it or choose another -o")
    assert not (out / "default.csv").exists()  # the refused run wrote nothing
    proc.stdin.close()
    assert proc.wait() == 0
    assert not lock_path(out, "default").exists()  # released and removed


@pytest.mark.slow  # subprocesses
def test_a_sigkilled_holder_does_not_block_the_next_run(tmp_path, holder):
    out = tmp_path / "out"
    proc = holder(out)
    with pytest.raises(OutputBusy, match=f"pid {proc.pid}"):
        claim_outputs(out, "default")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert lock_path(out, "default").exists()  # left behind by the dead run ...
    res = _replay_run(out, 2)  # ... but not held: the next run goes ahead
    assert res.frames == 2
    assert not lock_path(out, "default").exists()


@pytest.mark.slow  # subprocesses
def test_other_stems_in_the_same_folder_are_not_blocked(tmp_path, holder):
    out = tmp_path / "out"
    holder(out, stem="other_video")
    assert _replay_run(out, 2).frames == 2


def test_the_lock_is_held_through_the_au_rewrite(tmp_path, monkeypatch):
    seen = []

    def rewrite(path, *args):
        with pytest.raises(OutputBusy):
            claim_outputs(path.parent, "default")
        seen.append(path)

    monkeypatch.setattr(extract, "rewrite_au_columns", rewrite)
    _replay_run(tmp_path, 2)
    assert seen == [tmp_path / "default.csv"]


def test_the_lock_is_released_when_the_run_fails_and_a_run_failing_before_writing_keeps_old_outputs(tmp_path):
    _replay_run(tmp_path, 3)
    before = (tmp_path / "default.csv").read_text()
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the replay complains about
        extract.run(VIDEO, tmp_path, Config(), frames=2, landmarks_from=tmp_path / "missing.csv",
                    analyser=FakeAnalyser(), progress=False)
    assert not lock_path(tmp_path, "default").exists()
    assert (tmp_path / "default.csv").read_text() == before
    assert len(list((tmp_path / "default_aligned").glob("*.bmp"))) == 3
    claim_outputs(tmp_path, "default").release()


@pytest.mark.slow  # subprocesses
def test_without_flock_a_live_pid_holds_and_a_dead_one_is_taken_over(tmp_path, monkeypatch):
    monkeypatch.setattr(claim_mod, "fcntl", None)
    first = claim_outputs(tmp_path, "x")
    with pytest.raises(OutputBusy, match=f"pid {os.getpid()}"):
        claim_outputs(tmp_path, "x")
    first.release()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock_path(tmp_path, "x").write_text(f"{int(dead.stdout)} 2026-01-01T00:00:00Z\n")
    claim_outputs(tmp_path, "x").release()  # its pid is gone: taken over


# ---------------------------------------------------------------- stale outputs
def test_a_shorter_rerun_leaves_no_stale_outputs(tmp_path):
    _replay_run(tmp_path, 6)
    aligned = tmp_path / "default_aligned"
    assert len(list(aligned.glob("*.bmp"))) == 6
    foreign = [tmp_path / "notes.txt", aligned / "my_notes.txt", tmp_path / "other.csv", tmp_path / "other.hog",
               tmp_path / "default.csv.bak"]
    for f in foreign:
        f.write_text("mine")
    (tmp_path / "other_aligned").mkdir()
    (tmp_path / "other_aligned" / "frame_det_00_000001.bmp").write_bytes(b"x")
    res = _replay_run(tmp_path, 2)
    assert sorted(p.name for p in aligned.glob("*.bmp")) == ["frame_det_00_000001.bmp", "frame_det_00_000002.bmp"]
    assert len(res.csv.read_text().splitlines()) == 3
    for f in foreign:
        assert f.read_text() == "mine"
    assert (tmp_path / "other_aligned" / "frame_det_00_000001.bmp").exists()


def test_a_rerun_without_hog_or_aligned_removes_the_old_ones(tmp_path):
    _replay_run(tmp_path, 3)
    extract.run(VIDEO, tmp_path, Config(), frames=2, landmarks_from=REF_CSV, analyser=FakeAnalyser(), progress=False)
    assert not (tmp_path / "default.hog").exists()
    assert not (tmp_path / "default_aligned").exists()


def test_remove_stale_outputs_names_only_its_own(tmp_path):
    for name in ("x.csv", "x.hog", "x_of_details.txt", "xy.csv", "x.csv.orig", ".x.lock"):
        (tmp_path / name).write_text("")
    (tmp_path / "x_aligned").mkdir()
    for name in ("frame_det_00_000007.bmp", "face_det_000001.bmp", "thumbs.db", "frame_det_00_7.bmp"):
        (tmp_path / "x_aligned" / name).write_text("")
    with claim_outputs(tmp_path, "y") as other:  # clear_stale is for the claimed stem only
        assert other.clear_stale() == []
    removed = remove_stale_outputs(tmp_path, "x")
    assert sorted(p.name for p in removed) == ["face_det_000001.bmp", "frame_det_00_000007.bmp", "x.csv", "x.hog",
                                               "x_of_details.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".x.lock", "x.csv.orig", "x_aligned", "xy.csv"]
    assert sorted(p.name for p in (tmp_path / "x_aligned").iterdir()) == ["frame_det_00_7.bmp", "thumbs.db"]


@pytest.mark.slow
def test_real_cli_rerun_with_fewer_frames(tmp_path):
    """The issue's case end to end: the real tracker and AU stage, --simalign, 4 frames then 2."""
    out = tmp_path / "out"
    for n in (4, 2):
        proc = subprocess.run([sys.executable, "-m", "aubench.cli", "run", str(MEDIA / "default.wmv"), "-o", str(out),
                               "--frames", str(n), "--simalign", "--hogalign", "--quiet"], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    assert len(list((out / "default_aligned").glob("*.bmp"))) == 2
    assert len((out / "default.csv").read_text().splitlines()) == 3
    assert not lock_path(out, "default").exists()
