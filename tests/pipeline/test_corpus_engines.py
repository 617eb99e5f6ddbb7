"""Corpora on both engines (issue 17), against real processes: a Dask scheduler and two `dask worker`s on
127.0.0.1, the local pool, a client stopped by SIGINT/SIGTERM, a worker killed by SIGKILL mid-video.

The corpus is short MJPG copies of the sample clips (20 frames), a corrupt file and a file whose name is
not UTF-8; every good video must be written exactly once, byte-identical to a single `aubench run` of it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import psutil
import pytest

from aubench import cli
from aubench.pipeline import batch, video_task
from aubench.pipeline.config import preset
from aubench.pipeline.io.openface_csv import read_openface_csv
from tests.conftest import MEDIA

pytest.importorskip("distributed", reason="the cluster extra: pip install -e '.[cluster]'")

FRAMES = 20
BAD_NAME = os.fsdecode(b"clip_\xff.avi")  # bytes a Linux file system allows, not UTF-8
GOOD = ("default_20", "multi_20", os.fsdecode(b"clip_\xff"))
THREADS_1 = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}
BIN = Path(sys.executable).parent


def _mjpg_copy(src: Path, dst: Path, frames: int) -> None:
    cap = cv2.VideoCapture(str(src))
    ok, frame = cap.read()
    h, w = frame.shape[:2]
    out = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"MJPG"), 30, (w, h))
    for _ in range(frames):
        if not ok:
            break
        out.write(frame)
        ok, frame = cap.read()
    out.release()
    cap.release()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """default_20.avi, multi_20.avi, clip_\\xff.avi (a copy of default_20.avi) and broken.avi (not a video)."""
    d = tmp_path_factory.mktemp("corpus")
    _mjpg_copy(MEDIA / "default.wmv", d / "default_20.avi", FRAMES)
    _mjpg_copy(MEDIA / "multi_face.avi", d / "multi_20.avi", FRAMES)
    (d / BAD_NAME).write_bytes((d / "default_20.avi").read_bytes())  # OpenCV cannot even be given this name
    (d / "broken.avi").write_bytes(b"RIFF not really a video")
    return d


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> dict[str, bytes]:
    """Each good clip's CSV from a single `aubench run` of it (the non-UTF-8 one: of its ASCII twin)."""
    out = tmp_path_factory.mktemp("reference")
    for stem in ("default_20", "multi_20"):
        assert cli.main(["run", str(corpus / f"{stem}.avi"), "-o", str(out), "--config", "fast", "--quiet"]) == 0
    ref = {stem: (out / f"{stem}.csv").read_bytes() for stem in ("default_20", "multi_20")}
    ref[GOOD[2]] = ref["default_20"]
    return ref


def _env() -> dict[str, str]:
    return {**os.environ, **THREADS_1}


def _check_outputs(out: Path, reference: dict[str, bytes]) -> None:
    """Every good video complete, once, byte-identical; no partial folder, no output of the broken file."""
    for stem, expected in reference.items():
        assert (out / f"{stem}.csv").read_bytes() == expected, stem
        assert video_task.done_path(out, stem).is_file()
    assert not (out / "broken.csv").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(video_task.PARTIAL_PREFIX)]


def _done_lines(text: str, name: str) -> list[str]:
    shown = video_task.shown(name)
    return [ln for ln in text.splitlines() if f"done {shown}:" in ln]


def _wait_for_running(out: Path, timeout: float = 90.0) -> tuple[int, str]:
    """(pid, stem) of a worker in the middle of a good video (it holds OUT/.<stem>.lock, has a partial folder)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for stem in GOOD:
            lock = out / f".{stem}.lock"
            try:
                pid = int(lock.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            if video_task.partial_dirs(out, stem):
                return pid, stem
        time.sleep(0.05)
    raise AssertionError(f"no video started within {timeout} s")


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _run_cli(args: list[str]) -> subprocess.Popen:
    # a session of its own, as a terminal's job: a Ctrl-C is the SIGINT of the whole process group (_ctrl_c)
    return subprocess.Popen([str(BIN / "aubench"), "run", *args, "--config", "fast"], env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                            start_new_session=True)


def _ctrl_c(client: subprocess.Popen) -> None:
    """What a terminal does on Ctrl-C: SIGINT to the foreground process group (the client and its children)."""
    os.killpg(client.pid, signal.SIGINT)


# --------------------------------------------------------------------------- a real Dask cluster

@pytest.fixture
def dask_cluster(tmp_path):
    """`dask scheduler` and two `dask worker --nthreads 1` on 127.0.0.1, random ports; torn down even on failure."""
    from distributed import Client

    sched_file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(sched_file)], env=_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        for _ in range(2):
            procs.append(subprocess.Popen([str(BIN / "dask"), "worker", "--scheduler-file", str(sched_file),
                                           "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"], env=_env(),
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        with Client(scheduler_file=str(sched_file), timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            address = client.scheduler.address
        yield address
    finally:
        for p in reversed(procs):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=30)


@pytest.mark.slow
def test_dask_cluster_loses_nothing_when_a_worker_is_killed(corpus, reference, dask_cluster, tmp_path):
    """SIGKILL to the worker running a video: it is rerun elsewhere; every good video written once, byte-identical
    to a single run; the corrupt file fails alone with its reason; exit 1; --table gathers the done ones."""
    out = tmp_path / "out"
    table = tmp_path / "all.parquet"
    client = _run_cli([str(corpus), "-o", str(out), "--engine", "dask", "--scheduler", dask_cluster,
                       "--table", str(table)])
    pid, killed_stem = _wait_for_running(out)
    os.kill(pid, signal.SIGKILL)
    stdout, stderr = client.communicate(timeout=180)
    assert client.returncode == 1, stderr
    _check_outputs(out, reference)
    for stem in GOOD:
        assert len(_done_lines(stderr, f"{stem}.avi")) == 1, stderr
    # the video that was running in the killed process was done again by another one
    assert f"/{pid}," not in _done_lines(stderr, f"{killed_stem}.avi")[0]
    assert "FAILED" in stdout and "broken.avi: " in stdout and "Traceback" not in stdout + stderr
    assert "3 done, 0 skipped, 0 interrupted, 1 failed" in stdout
    import pyarrow.parquet as pq

    rows = pq.read_table(table).to_pandas()
    assert rows.groupby("source").size().to_dict() == {str(corpus / f"{s}.avi").encode("utf-8", "surrogateescape")
                                                       .decode("utf-8", "backslashreplace"): FRAMES for s in GOOD}


@pytest.mark.slow
def test_dask_client_interrupted_cancels_its_tasks_on_the_cluster(corpus, dask_cluster, tmp_path):
    """Ctrl-C in a client of a user's cluster: it exits within seconds, the scheduler is left with no task of it."""
    from distributed import Client

    out = tmp_path / "out"
    client = _run_cli([str(corpus), "-o", str(out), "--engine", "dask", "--scheduler", dask_cluster])
    _wait_for_running(out)
    t0 = time.monotonic()
    _ctrl_c(client)
    _, stderr = client.communicate(timeout=30)
    assert client.returncode == 130, stderr
    assert time.monotonic() - t0 < 15
    assert "interrupted" in stderr
    with Client(dask_cluster, timeout=30) as c:
        deadline = time.monotonic() + 10
        while any(c.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(c.processing().values())
    _check_interrupted_outputs(out)


def _check_interrupted_outputs(out: Path, min_rows: int = 1) -> None:
    """Only complete outputs in OUT (each with its done record); partial CSVs are valid whole rows (after a
    second Ctrl-C the workers are killed at once: a CSV of its header only is possible, as after a SIGKILL)."""
    for csv in out.glob("*.csv"):
        assert video_task.done_path(out, csv.stem).is_file(), csv
    for partial in out.glob(f"{video_task.PARTIAL_PREFIX}*"):
        for csv in partial.glob("*.csv"):
            assert len(read_openface_csv(csv).column("frame")) >= min_rows


# --------------------------------------------------------------------------- a client on its own machine

@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:loadtxt. input contained no data")  # a header-only CSV, after two Ctrl-C
@pytest.mark.parametrize("engine,sig", [("dask", signal.SIGINT), ("dask", signal.SIGTERM), ("local", signal.SIGINT),
                                        ("local", signal.SIGTERM), ("local", "twice")])
def test_stopped_client_leaves_no_process_behind(corpus, tmp_path, engine, sig):
    """Ctrl-C (SIGINT to the process group), SIGTERM to the client, or two Ctrl-C, during `aubench run --workers 2`:
    exit within seconds, every worker process
    gone, only complete outputs in OUT and valid partial CSVs in the partial folders."""
    out = tmp_path / "out"
    client = _run_cli([str(corpus), "-o", str(out), "--engine", engine, "--workers", "2"])
    _wait_for_running(out)
    children = _descendants(client.pid)
    assert children
    t0 = time.monotonic()
    if sig == "twice":
        _ctrl_c(client)
        time.sleep(0.3)
        _ctrl_c(client)
    elif sig == signal.SIGINT:
        _ctrl_c(client)
    else:
        client.send_signal(sig)  # kill PID, a job scheduler
    _, stderr = client.communicate(timeout=40)
    took = time.monotonic() - t0
    assert client.returncode == 128 + (signal.SIGINT if sig == "twice" else sig), stderr
    assert took < 20, f"{took:.1f} s to stop"
    _, alive = psutil.wait_procs(children, timeout=5)
    assert not alive, [p.pid for p in alive]
    assert "interrupted" in stderr
    _check_interrupted_outputs(out, min_rows=0 if sig == "twice" else 1)


@pytest.mark.slow
def test_local_pool_loses_nothing_when_a_worker_is_killed(corpus, reference, tmp_path):
    """SIGKILL to a pool worker mid-video: the pool is rebuilt, the video rerun; every good video once, identical."""
    out = tmp_path / "out"
    client = _run_cli([str(corpus), "-o", str(out), "--workers", "2"])
    pid, killed_stem = _wait_for_running(out)
    os.kill(pid, signal.SIGKILL)
    stdout, stderr = client.communicate(timeout=180)
    assert client.returncode == 1, stderr
    _check_outputs(out, reference)
    for stem in GOOD:
        assert len(_done_lines(stderr, f"{stem}.avi")) == 1, stderr
    # the video that was running in the killed process was done again by another one
    assert "3 done, 0 skipped, 0 interrupted, 1 failed" in stdout


# --------------------------------------------------------------------------- in this process

@pytest.mark.slow
def test_resume_skips_done_videos_and_reruns_changed_ones(corpus, tmp_path):
    """--resume: same inputs and config skipped; a changed input (mtime), or another --frames, runs again."""
    videos = [corpus / "default_20.avi", corpus / "multi_20.avi", corpus / BAD_NAME]
    out = tmp_path / "out"
    cfg = preset("fast")
    first = batch.run_many(videos, out, cfg, workers=1, frames=3, progress=False)
    assert [o.status for o in first.outcomes] == ["done"] * 3
    again = batch.run_many(videos, out, cfg, workers=1, frames=3, progress=False, resume=True)
    assert [o.status for o in again.outcomes] == ["skipped"] * 3
    assert "0 done, 3 skipped" in again.summary()
    st = videos[1].stat()
    os.utime(videos[1], ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    try:
        third = batch.run_many(videos, out, cfg, workers=1, frames=3, progress=False, resume=True)
    finally:
        os.utime(videos[1], ns=(st.st_atime_ns, st.st_mtime_ns))
    assert [o.status for o in third.outcomes] == ["skipped", "done", "skipped"]
    fourth = batch.run_many(videos[:1], out, cfg, workers=1, frames=4, progress=False, resume=True)
    assert fourth.outcomes[0].status == "done" and len(read_openface_csv(out / "default_20.csv").column("frame")) == 4
    # the non-UTF-8 name: written under its own bytes, the same rows as its ASCII twin
    assert (out / f"{GOOD[2]}.csv").read_bytes() != b""
    assert os.fsencode(GOOD[2]) + b".csv" in os.listdir(os.fsencode(out))


def test_stale_partial_folders_of_a_stem_are_removed_others_kept(tmp_path):
    """A killed worker's .partial-<stem>-<pid>/ is cleared by the stem's next run; another stem's is not."""
    (tmp_path / ".partial-a-123").mkdir()
    (tmp_path / ".partial-a-1-456").mkdir()  # stem "a-1"
    (tmp_path / ".partial-ab-789").mkdir()
    assert video_task.partial_dirs(tmp_path, "a") == [tmp_path / ".partial-a-123"]
    assert video_task.partial_dirs(tmp_path, "a-1") == [tmp_path / ".partial-a-1-456"]
    weird = os.fsdecode(b"clip_\xff")
    p = video_task.partial_dir(tmp_path, weird, 5)
    assert not video_task.needs_ascii_alias(p.name)  # OpenCV writes aligned faces in there
    p.mkdir()
    assert video_task.partial_dirs(tmp_path, weird) == [p]


def test_non_utf8_name_is_read_through_an_ascii_hard_link(tmp_path):
    src = tmp_path / BAD_NAME
    src.write_bytes(b"data")
    alias = video_task.opencv_readable(src, tmp_path / "alias")
    assert alias != src and not video_task.needs_ascii_alias(alias) and os.path.samefile(alias, src)
    assert video_task.opencv_readable(tmp_path / "plain.avi", tmp_path / "alias") == tmp_path / "plain.avi"
