"""One video on two cores (``[runtime] pipeline``): the same bytes as one core, nothing tracked is lost on a stop,
and the threads' building blocks keep order, raise what failed and stop cleanly."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench import cli
from aubench.pipeline import extract
from aubench.pipeline.config import config_hash, load_any, with_overrides
from aubench.pipeline.io.hog_file import read_hog
from aubench.pipeline.io.openface_csv import read_openface_csv
from aubench.pipeline.pipelined import InOrderWorker, Prefetch
from aubench.pipeline.stages import load_stages, resolve_kernels
from aubench.pipeline.timing import StageTimer
from tests.conftest import MEDIA, MODELS

FAST = load_any("fast")


@pytest.fixture(scope="module")
def stages():
    return load_stages(FAST, MODELS, resolve_kernels(FAST))


def _run(stages, out, pipeline, frames=45, clip="default.wmv", timer=None, tracker=None):
    tracker_, analyser = stages
    tracker = tracker or tracker_
    tracker.reset()
    analyser.reset()
    cfg = with_overrides(FAST, output={"hogalign": True, "simalign": True})
    return extract.run(MEDIA / clip, out, cfg, frames=frames, progress=False, tracker=tracker, analyser=analyser,
                       pipeline=pipeline, timer=timer or StageTimer())


@pytest.mark.parametrize("clip", ["default.wmv", "2015-10-15-15-14.avi"])
def test_two_cores_write_the_same_bytes_as_one(tmp_path, stages, clip):
    one = _run(stages, tmp_path / "one", False, clip=clip)
    timer = StageTimer()
    two = _run(stages, tmp_path / "two", True, clip=clip, timer=timer)
    assert one.frames == two.frames == 45
    assert one.csv.read_bytes() == two.csv.read_bytes()
    assert one.hog.read_bytes() == two.hog.read_bytes()
    faces = sorted(p.name for p in one.aligned_dir.iterdir())
    assert faces == sorted(p.name for p in two.aligned_dir.iterdir()) and len(faces) == 45
    for name in faces:
        assert (one.aligned_dir / name).read_bytes() == (two.aligned_dir / name).read_bytes()
    # the analysis thread's stages land in the same per-frame profile as the tracker's
    per_frame = timer.per_frame()
    assert {"au", "write", "landmarks", "pose", "decode"} <= set(per_frame)
    assert all(len(v) == 45 for v in per_frame.values())


class StopAt:
    """The real tracker, stopped (Ctrl-C or a bug) when asked for frame ``at``."""

    def __init__(self, tracker, at, exc):
        self.inner, self.at, self.exc, self.n = tracker, at, exc, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def track_deferred(self, bgr, gray=None, timer=None):
        self.n += 1
        if self.n == self.at:
            raise self.exc
        return self.inner.track_deferred(bgr, gray, timer)


def test_two_cores_keep_the_cached_variants_output(tmp_path):
    """realtime's reuse state lives in the tracker (its thread) and the analyser (the AU thread): same bytes."""
    cfg = load_any("realtime")
    stages = load_stages(cfg, MODELS, resolve_kernels(cfg))
    outs = []
    for pipeline in (False, True):
        stages[0].reset()
        stages[1].reset()
        outs.append(extract.run(MEDIA / "default.wmv", tmp_path / str(pipeline), cfg, frames=60, progress=False,
                                tracker=stages[0], analyser=stages[1], pipeline=pipeline))
    assert outs[0].frames == outs[1].frames == 60
    assert outs[0].csv.read_bytes() == outs[1].csv.read_bytes()


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RuntimeError("stage bug")])
def test_a_stop_writes_every_frame_tracked_before_it(tmp_path, stages, exc):
    tracker = StopAt(stages[0], 12, exc)
    with pytest.raises(type(exc)):
        _run(stages, tmp_path, True, frames=40, tracker=tracker)
    table = read_openface_csv(tmp_path / "default.csv")
    assert table.frame.tolist() == list(range(1, 12))
    assert len(read_hog(tmp_path / "default.hog")) == 11


def test_an_analysis_error_stops_the_run_and_keeps_the_rows_written(tmp_path, stages):
    tracker, analyser = stages

    class Failing:
        def __init__(self):
            self.n = 0

        def __getattr__(self, name):
            return getattr(analyser, name)

        def add_next_frame(self, *args, **kwargs):
            self.n += 1
            if self.n == 7:
                raise ValueError("AU stage bug")
            return analyser.add_next_frame(*args, **kwargs)

    with pytest.raises(ValueError, match="AU stage bug"):
        _run((tracker, Failing()), tmp_path, True, frames=40)
    assert read_openface_csv(tmp_path / "default.csv").frame.tolist() == list(range(1, 7))


def test_cli_pipeline_flag_and_config_hash(tmp_path, capsys):
    assert cli.main(["run", str(MEDIA / "default.wmv"), "-o", str(tmp_path), "--config", "fast", "--frames", "5",
                     "--pipeline", "--quiet"]) == 0
    assert len(read_openface_csv(tmp_path / "default.csv").frame) == 5
    # how a run is executed is not what it computes: the hash (resume, reports) is the same
    assert config_hash(with_overrides(FAST, runtime={"pipeline": True})) == config_hash(FAST)
    assert config_hash(with_overrides(FAST, landmarks={"reinit_video_every": 3})) != config_hash(FAST)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(), max_size=30), st.one_of(st.none(), st.integers(0, 35)), st.integers(1, 5))
def test_prefetch_yields_the_first_items_in_order(items, limit, depth):
    prefetch = Prefetch(iter(items), limit=limit, depth=depth)
    got = list(prefetch)
    prefetch.close()
    assert got == (items if limit is None else items[:limit])


def test_prefetch_raises_the_readers_error_and_closes_the_reader_on_its_thread():
    closed_on = []

    def frames():
        try:
            yield 1
            yield 2
            raise OSError("decoder fell over")
        finally:
            closed_on.append(threading.current_thread().name)

    prefetch = Prefetch(frames())
    got = []
    with pytest.raises(OSError, match="decoder fell over"):
        for item in prefetch:
            got.append(item)
    prefetch.close()
    assert got == [1, 2] and closed_on == ["aubench-decode"]


def test_prefetch_close_stops_a_reader_blocked_on_a_full_queue():
    closed = threading.Event()

    def endless():
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            closed.set()

    prefetch = Prefetch(endless(), depth=2)
    assert next(iter(prefetch)) == 1
    time.sleep(0.05)  # the reader fills the queue and blocks
    prefetch.close()
    assert closed.is_set()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(), max_size=40), st.one_of(st.none(), st.integers(0, 39)))
def test_worker_handles_in_order_and_raises_the_first_error(items, fail_at):
    seen = []

    def handle(x):
        if fail_at is not None and len(seen) == fail_at:
            raise ValueError(f"item {x}")
        seen.append(x)

    worker = InOrderWorker(handle, depth=3)
    raised = None
    try:
        for x in items:
            worker.submit(x)
        worker.finish()
    except ValueError as exc:
        raised = exc
    if fail_at is None or fail_at >= len(items):
        assert raised is None and seen == items and worker.handled == len(items)
    else:
        assert raised is not None and seen == items[:fail_at] and worker.handled == fail_at
