"""Many videos in one run: input listing, worker count, the process pool, per-video failures."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench import cli
from aubench.pipeline import batch
from aubench.pipeline.config import preset
from aubench.pipeline.errors import InputError
from aubench.pipeline.io.openface_csv import read_openface_csv
from tests.conftest import MEDIA

VIDEO = MEDIA / "default.wmv"


def test_folder_of_videos_is_a_batch_and_folder_of_images_is_not(tmp_path):
    (tmp_path / "b.avi").write_bytes(b"x")
    (tmp_path / "a.wmv").write_bytes(b"x")
    (tmp_path / "notes.md").write_text("not a video")
    assert batch.videos_of(tmp_path) == [tmp_path / "a.wmv", tmp_path / "b.avi"]
    images = tmp_path / "imgs"
    images.mkdir()
    shutil.copy(MEDIA / "sample1.jpg", images / "f1.jpg")
    assert batch.videos_of(images) is None
    assert batch.videos_of(VIDEO) is None


_line = st.text(alphabet="abcdefgh_-/.", min_size=1, max_size=12).filter(lambda s: s.strip("/.") != "")


@settings(max_examples=30, deadline=None)
@given(st.lists(_line, min_size=1, max_size=6), st.lists(st.sampled_from(["", "# comment", "   "]), max_size=3))
def test_list_file_gives_its_paths_relative_to_the_list(tmp_path_factory, names, noise):
    d = tmp_path_factory.mktemp("lst")
    lst = d / "videos.txt"
    lst.write_text("\n".join(noise + [f"  {n}  " for n in names] + noise) + "\n")
    assert batch.videos_of(lst) == [d / n.strip() for n in names]


def test_empty_list_is_an_input_error(tmp_path):
    lst = tmp_path / "videos.txt"
    lst.write_text("# nothing\n\n")
    with pytest.raises(InputError, match="names no inputs"):
        batch.videos_of(lst)


def test_same_stem_twice_is_refused():
    with pytest.raises(InputError, match="same name"):
        batch.check_stems([Path("/a/clip.avi"), Path("/b/clip.wmv")])


@given(st.integers(0, 64), st.integers(1, 64), st.floats(100, 1e6))
def test_workers_resolved_within_cores_memory_and_videos(workers, n, available_mb):
    """--workers 64 on 2 cores runs 2, with a one-line notice; memory caps at WORKER_PEAK_RSS_MB each."""
    w, notice = batch.capped_workers(workers, n, available_mb=available_mb)
    cores = len(os.sched_getaffinity(0))
    by_memory = max(1, int(available_mb // batch.WORKER_PEAK_RSS_MB))
    assert w == max(1, min(workers or cores, cores, by_memory, n))
    assert (notice is not None) == (workers > 0 and min(cores, by_memory) < workers)
    if notice:
        assert notice.startswith(f"--workers {workers}: running ") and "\n" not in notice
    assert batch.resolve_workers(workers, n) == batch.capped_workers(workers, n)[0]


def test_negative_workers_is_an_input_error():
    with pytest.raises(InputError, match="--workers -1"):
        batch.resolve_workers(-1, 3)


@pytest.mark.slow
def test_pool_runs_every_video_and_a_broken_one_fails_alone(tmp_path, capsys):
    """Two real clips (3 frames) through 2 spawned workers plus one undecodable file: exit 1, one FAILED line."""
    shutil.copy(VIDEO, tmp_path / "one.wmv")
    shutil.copy(VIDEO, tmp_path / "two.wmv")
    (tmp_path / "broken.avi").write_bytes(b"not a video at all")
    out = tmp_path / "out"
    rc = cli.main(["run", str(tmp_path), "-o", str(out), "--frames", "3", "--workers", "2", "--config", "fast"])
    captured = capsys.readouterr()
    assert rc == 1
    failed = [ln for ln in captured.err.splitlines() + captured.out.splitlines() if "FAILED" in ln and "broken" in ln]
    assert failed and all("Traceback" not in ln for ln in failed)
    assert "peak RSS per worker" in captured.out
    assert "2 done, 0 skipped, 0 interrupted, 1 failed" in captured.out
    for stem in ("one", "two"):
        table = read_openface_csv(out / f"{stem}.csv")
        assert len(table.column("frame")) == 3


@pytest.mark.slow
def test_in_process_batch_resets_state_between_videos(tmp_path):
    """workers=1 runs in this process; the same clip twice gives the same CSV (tracker/analyser reset)."""
    shutil.copy(VIDEO, tmp_path / "a.wmv")
    shutil.copy(VIDEO, tmp_path / "b.wmv")
    stream = io.StringIO()
    res = batch.run_many([tmp_path / "a.wmv", tmp_path / "b.wmv"], tmp_path / "out", preset("fast"), workers=1,
                         frames=3, stream=stream)
    assert not res.failed and res.workers == 1
    assert stream.getvalue().count("done ") == 2
    a = (tmp_path / "out" / "a.csv").read_text()
    b = (tmp_path / "out" / "b.csv").read_text()
    assert a == b
    assert all(o.peak_rss_mb > 0 for o in res.outcomes)


def test_plan_inputs_checks_what_run_was_given(tmp_path):
    """One check for `aubench run` and aubench.extract: one input, a batch, or a one-line error."""
    assert batch.plan_inputs(VIDEO) is None
    with pytest.raises(InputError, match="no such file or folder"):
        batch.plan_inputs(tmp_path / "none.mp4")
    with pytest.raises(InputError, match="no such CSV for --landmarks-from"):
        batch.plan_inputs(VIDEO, tmp_path / "none.csv")
    (tmp_path / "a.wmv").write_bytes(b"x")
    assert batch.plan_inputs(tmp_path) == [tmp_path / "a.wmv"]
    with pytest.raises(InputError, match="is a batch of videos; run that video alone"):
        batch.plan_inputs(tmp_path, VIDEO)


@pytest.mark.slow
def test_a_damaged_video_in_a_batch_is_listed_and_exits_3(tmp_path, capfd):
    """default.wmv cut at 5 % (16 frames decode, the wmv2 decoder complains), twice in a batch: both written,
    a DAMAGED line each naming the CSV in OUT (not the partial folder it was written in), exit 3."""
    src = VIDEO.read_bytes()
    for stem in ("cut", "cut_b"):
        (tmp_path / f"{stem}.wmv").write_bytes(src[: len(src) // 20])
    out = tmp_path / "out"
    rc = cli.main(["run", str(tmp_path), "-o", str(out), "--workers", "1", "--config", "fast", "--quiet"])
    captured = capfd.readouterr()
    assert rc == 3
    damaged = [ln for ln in captured.out.splitlines() if ln.startswith("DAMAGED ")]
    assert len(damaged) == 2 and f"{out / 'cut.csv'}: the video is damaged; the decoder printed" in damaged[0]
    assert "[wmv2" not in captured.err.replace('"[wmv2]', "")  # only quoted, never printed by FFmpeg itself
    assert (out / "cut.csv").exists() and (out / "cut_b.csv").exists()


def test_the_numba_warm_up_runs_once_per_code_and_variants(tmp_path, monkeypatch):
    """A batch warms Numba's cache in a child before its workers start; a later batch with the same code and
    variants finds the stamp and skips it (~2.5 s of start-up), a changed source file or variant does not."""
    import subprocess
    import types

    from aubench.pipeline.config import preset, with_overrides

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    cfg = preset("fast")
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a) or types.SimpleNamespace(returncode=0))
    batch._warm_cache(cfg, None, VIDEO)
    batch._warm_cache(cfg, None, VIDEO)
    assert len(calls) == 1 and batch._warm_stamp(cfg).is_file()
    other = with_overrides(cfg, variants={"fhog": "reference"})
    assert batch._warm_stamp(other) != batch._warm_stamp(cfg)
