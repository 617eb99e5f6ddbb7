"""Many videos in one ``aubench run``: a corpus, one whole video per task, on one of two engines.

``aubench run FOLDER|LIST.txt... -o OUTDIR [--workers N] [--engine local|dask] [--resume] [--table T.parquet]``
runs every video through :class:`aubench.pipeline.video_task.VideoWorker` (outputs written whole or not at
all, a done record per video) on

- ``local``: a process pool of this machine (spawned workers, each loading the models once); a worker
  that dies breaks the pool, which is rebuilt: the videos it held are retried, each alone in a fresh
  process, and one that kills that process too is reported failed;
- ``dask``: Dask distributed (:mod:`aubench.pipeline.dask_engine`), a LocalCluster or ``--scheduler``'s.

Every video gets a line (done, skipped, interrupted, FAILED with its reason) as it finishes and the summary
lists them. Ctrl-C or SIGTERM stops queued videos at once and running ones after their current frame
(their valid partial CSV stays in ``OUTDIR/.partial-<stem>-<pid>/``); no worker process outlives the run.

This module imports nothing heavy at the top: a spawned worker sets its thread-count
environment before NumPy, OpenBLAS or Numba are loaded.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from aubench.pipeline.errors import InputError, Terminated, request_stop
from aubench.pipeline.progress import progress_bar
from aubench.pipeline.video_task import STATUSES, VideoOutcome, VideoWorker, is_done, needs_ascii_alias, partial_dirs, shown

# Files a folder is searched for when it is given as a batch of videos.
VIDEO_EXTENSIONS = (".avi", ".wmv", ".mp4", ".mov", ".mkv", ".mpg", ".mpeg", ".m4v", ".webm", ".flv")
# A single input file with one of these suffixes is a list of inputs, one path per line.
LIST_EXTENSIONS = (".txt", ".lst", ".list")
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def videos_of(path: str | Path) -> list[Path] | None:
    """The inputs of a batch, or None when ``path`` is one input (a video, an image, a folder of images).

    A folder holding video files gives those videos (sorted by name); a ``.txt``/``.lst``/``.list``
    file gives its lines (blank lines and ``#`` comments skipped; relative paths are taken
    relative to the list file's folder).
    """
    path = Path(path)
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)
        if found:
            from aubench.pipeline.io.frames import IMAGE_EXTENSIONS

            # a folder is either a batch of videos or one image sequence: skipping its images silently
            # would leave them out of the results with exit 0
            images = sorted(p.name for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
            if images:
                shown = ", ".join(images[:3]) + (f" and {len(images) - 3} more" if len(images) > 3 else "")
                raise InputError(f"{path}: holds {len(found)} video(s) and {len(images)} image(s) ({shown}); expected "
                                 "either videos (a batch, one CSV each) or images (one sequence, one CSV); move "
                                 "the images into their own folder and run each folder")
        return found or None
    if path.is_file() and path.suffix.lower() in LIST_EXTENSIONS:
        from aubench.pipeline.inputs import read_list  # here, not at the top: a worker imports this module first

        return read_list(path)
    return None


def plan_inputs(src: str | Path, landmarks_from: str | Path | None = None) -> list[Path] | None:
    """Check what ``aubench run`` (or :func:`aubench.extract`) was given, before anything is loaded.

    Returns
    -------
    The videos of a batch (a folder of videos, a list file), or None when ``src`` is one input
    (a video, an image, a folder of images).
    """
    src = Path(src)
    if not src.exists():
        raise InputError(f"{src}: no such file or folder; give a video, an image or a folder of images")
    if landmarks_from is not None and not Path(landmarks_from).is_file():
        raise InputError(f"{landmarks_from}: no such CSV for --landmarks-from; give an OpenFace CSV of this input")
    videos = videos_of(src)
    if videos is not None and landmarks_from is not None:
        raise InputError(f"--landmarks-from {landmarks_from}: replays one video's CSV, but {src} is a batch "
                         "of videos; run that video alone")
    return videos


def check_stems(videos: list[Path]) -> None:
    """Two inputs with the same stem would write the same OUTDIR/<stem>.csv: refuse up front."""
    seen: dict[str, Path] = {}
    for v in videos:
        if v.stem in seen:
            raise InputError(f"{v}: same name as {seen[v.stem]}, both would write {v.stem}.csv; "
                             "rename one or run them into different --out-dir folders")
        seen[v.stem] = v


# A worker's peak resident memory: 371 MiB on default.wmv (288 frames), 398 MiB on 2015-10-15-15-14.avi (842
# frames), one `aubench run` each; 399-416 MiB in pool and Dask workers after 8 whole clips
# (experiments/corpus_engines.py); the default config (fast) throughout. It grows ~0.05 MiB per frame (the
# run keeps each frame's AU values for the post-processing), so 600 MiB covers videos up to ~5000 frames.
# --workers is capped so that this many MiB per worker fit in the available memory.
WORKER_PEAK_RSS_MB = 600
ENGINES = ("local", "dask")


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def resolve_workers(workers: int, n_videos: int) -> int:
    """``workers`` processes (0 = every core), capped by cores, memory and videos (:func:`capped_workers`)."""
    return capped_workers(workers, n_videos)[0]


def capped_workers(workers: int, n_videos: int, *, worker_rss_mb: float = WORKER_PEAK_RSS_MB,
                   available_mb: float | None = None) -> tuple[int, str | None]:
    """``workers`` processes (0 = every core this process may use), capped by the cores, by the memory
    (``worker_rss_mb`` each out of ``available_mb``, default: what is available now) and by the videos.

    Returns
    -------
    (workers, notice): the notice is one line saying why fewer workers than asked for run, or None.
    """
    if workers < 0:
        raise InputError(f"--workers {workers}: expected 0 (all cores) or a positive number of processes")
    cores = usable_cores()
    if available_mb is None:
        import psutil

        available_mb = psutil.virtual_memory().available / 2**20
    by_memory = max(1, int(available_mb // worker_rss_mb))
    asked = workers or cores
    capped = min(asked, cores, by_memory)
    notice = None
    if workers and capped < workers:
        why = (f"{cores} core(s)" if capped == cores else
               f"{available_mb / 1024:.1f} GiB available at ~{worker_rss_mb:.0f} MiB per worker")
        notice = f"--workers {workers}: running {capped} worker(s), as many as {why} allow"
    return max(1, min(capped, n_videos)), notice


@dataclass
class BatchResult:
    """All videos' outcomes of a batch and its wall time."""

    outcomes: list[VideoOutcome]
    workers: int
    wall_s: float
    load_s: dict[Any, float] = field(default_factory=dict)
    engine: str = "local"
    interrupted: bool = False
    table: Path | None = None

    def of(self, status: str) -> list[VideoOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def failed(self) -> list[VideoOutcome]:
        return self.of("failed")

    @property
    def damaged(self) -> list[VideoOutcome]:
        """Videos written whole as far as they decoded, whose input was truncated or damaged."""
        return [o for o in self.outcomes if o.status == "done" and o.notice is not None]

    def summary(self) -> str:
        done = self.of("done")
        frames = sum(o.frames for o in done)
        fps = frames / self.wall_s if self.wall_s > 0 else 0.0
        counts = ", ".join(f"{len(self.of(s))} {s}" for s in STATUSES)
        lines = [f"{len(self.outcomes)} videos: {counts}; {frames} frames in {self.wall_s:.1f} s "
                 f"({fps:.1f} fps overall) with {f'{self.workers} worker(s)' if self.workers else 'the cluster'}, "
                 f"engine {self.engine}"
                 + (" (interrupted)" if self.interrupted else "")]
        rss: dict[Any, float] = {}
        for o in self.outcomes:
            if o.status in ("done", "failed", "interrupted") and o.peak_rss_mb:
                rss[o.worker] = max(rss.get(o.worker, 0.0), o.peak_rss_mb)
        if rss:
            lines.append("peak RSS per worker: " + ", ".join(f"worker {w}: {m:.0f} MiB" for w, m in rss.items()))
        for o in self.failed + self.of("interrupted") + self.damaged:
            lines.append(o.line())
        if self.of("skipped"):
            lines.append("skipped (--resume; complete with this config and input): "
                         + ", ".join(shown(o.video.name) for o in self.of("skipped")))
        if self.table is not None:
            lines.append(f"wrote {shown(self.table)} (every done and skipped video's rows, column source)")
        return "\n".join(lines)


# --------------------------------------------------------------------------- local engine, worker side

_WORKER: VideoWorker | None = None


def _die_with_parent() -> None:
    """Linux: this worker gets SIGTERM when the process that spawned it dies, even by SIGKILL (no orphans)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _record_stop(signum, _frame) -> None:
    """A pool worker's SIGINT/SIGTERM handler: never raises (a worker that died would break the pool and take the
    other videos with it); the run loop raises the recorded signal after its current frame, as deferred_signals."""
    request_stop(signum)


def _init_worker(config: Any, models_dir: str | Path | None, threads: int) -> None:
    global _WORKER
    for name in THREAD_ENV:  # before NumPy/OpenBLAS/Numba load in this fresh process
        os.environ.setdefault(name, str(threads))
    # Its own process group: a terminal's Ctrl-C reaches the parent only, which relays exactly one signal to
    # each worker (two would make deferred_signals raise inside a kernel); PDEATHSIG covers the parent's death.
    os.setpgrp()
    _die_with_parent()
    # SIGTERM or SIGINT (relayed by the parent, or from a job scheduler) stops this worker's video as Ctrl-C
    # does a single run: whole rows kept in its partial folder, the outcome says so
    signal.signal(signal.SIGTERM, _record_stop)
    signal.signal(signal.SIGINT, _record_stop)
    _WORKER = VideoWorker(config, models_dir)


def _run_in_worker(video: Path, out_dir: Path, frames: int | None, attempt: int) -> tuple[VideoOutcome, float]:
    assert _WORKER is not None
    return _WORKER.run(video, out_dir, frames, None, os.getpid(), attempt=attempt), _WORKER.load_s


# --------------------------------------------------------------------------- local engine, parent side

STOP_WAIT_S = 10.0  # how long a stop waits for running videos to end their frame before killing their workers


class _LocalPool:
    """A spawn-context ProcessPoolExecutor that can be stopped: queued videos cancelled, workers signalled,
    and killed if they do not end within :data:`STOP_WAIT_S` (or at a second Ctrl-C)."""

    def __init__(self, workers: int, config: Any, models_dir: str | Path | None, threads: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_init_worker, initargs=(config, models_dir, threads))

    def pids(self) -> list[int]:
        # the executor's own worker table (no public accessor; stable since Python 3.2)
        return list((getattr(self.pool, "_processes", None) or {}).keys())

    def stop(self, futures: dict, signum: int) -> None:
        """Cancel what has not started, ask the running videos to stop after their frame, wait, then kill."""
        from concurrent.futures import wait

        for f in futures:
            f.cancel()
        for pid in self.pids():
            _signal(pid, signal.SIGTERM if signum == signal.SIGTERM else signal.SIGINT)
        running = [f for f in futures if not f.done()]
        try:
            wait(running, timeout=STOP_WAIT_S)
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting, kill them now
            self.kill(grace_s=0)
            return
        self.kill()

    def kill(self, grace_s: float = 3.0) -> None:
        """Shut the pool down: idle workers exit on the executor's sentinel within ``grace_s``; any still there
        (a video that would not stop, a second Ctrl-C) are killed. A worker killed leaves the pool's semaphores
        to the resource tracker, which then warns at exit; the grace avoids that in the usual case."""
        import psutil

        procs = []
        for pid in self.pids():
            try:
                procs.append(psutil.Process(pid))
            except psutil.NoSuchProcess:
                pass
        self.pool.shutdown(wait=False, cancel_futures=True)
        try:
            _, alive = psutil.wait_procs(procs, timeout=grace_s)
        except KeyboardInterrupt:  # a second Ctrl-C: no grace
            alive = procs
        for p in alive:
            _signal(p.pid, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=5)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _run_local(todo: list[Path], out_dir: Path, config: Any, *, workers: int, frames: int | None,
               models_dir: str | Path | None, report: Callable[[VideoOutcome], None],
               load_s: dict[Any, float]) -> None:
    """The local pool: a worker death rebuilds the pool; the videos in flight then are retried alone."""
    from concurrent.futures import BrokenExecutor, as_completed

    threads = max(1, int(config.runtime.threads))
    suspects: list[Path] = []
    queue = sorted(todo, key=lambda v: v.stat().st_size, reverse=True)  # largest (~longest) first

    def collect(pool: _LocalPool, futures: dict, lost: list[Path]) -> None:
        try:
            for fut in as_completed(futures):
                v, attempt = futures[fut]
                try:
                    outcome, loaded = fut.result()
                    load_s[outcome.worker] = loaded
                    report(outcome)
                except BrokenExecutor:  # a worker process died: every video the pool held is lost with it
                    lost.append(v) if attempt == 1 else report(VideoOutcome(
                        v, attempts=attempt, error="its worker process died while running it, twice (killed by a "
                        "signal or for memory; the second time alone in a fresh process); run it alone to see why"))
        except KeyboardInterrupt as e:
            pool.stop(futures, getattr(e, "signum", signal.SIGINT))
            for fut in futures:
                if fut.done() and not fut.cancelled() and fut.exception() is None:
                    outcome, _ = fut.result()
                    report(outcome)
            raise
        pool.kill() if lost else pool.pool.shutdown(wait=True)

    # all videos in one pool, rebuilt while workers die; then each video that was in a dead pool, alone
    while queue:
        pool = _LocalPool(workers, config, models_dir, threads)
        futures = {pool.pool.submit(_run_in_worker, v, out_dir, frames, 1): (v, 1) for v in queue}
        lost: list[Path] = []
        collect(pool, futures, lost)
        queue = []
        if lost:
            # which of them killed the worker is unknown: those that had started are the suspects, retried alone
            # below; the pool broke before the others started, so they go round again with a new pool
            started = [v for v in lost if partial_dirs(out_dir, v.stem)]
            if not started and len(lost) == len(futures):  # no video ever started: the workers die at start-up
                for v in lost:
                    report(VideoOutcome(v, error="the worker processes died before running any video (at start-up: "
                                        "see the messages above); run one video alone to see why"))
                break
            suspects += started
            queue = [v for v in lost if v not in started]
    for v in suspects:
        pool = _LocalPool(1, config, models_dir, threads)
        futures = {pool.pool.submit(_run_in_worker, v, out_dir, frames, 2): (v, 2)}
        collect(pool, futures, [])


# --------------------------------------------------------------------------- the batch

def run_many(videos: list[Path], out_dir: str | Path, config: Any, *, workers: int = 1, frames: int | None = None,
             models_dir: str | Path | None = None, progress: bool = True, stream: TextIO | None = None,
             on_done: Callable[[VideoOutcome], None] | None = None, engine: str = "local",
             scheduler: str | None = None, resume: bool = False, table: str | Path | None = None) -> BatchResult:
    """Run every video of ``videos`` into ``out_dir``.

    Parameters
    ----------
    workers : processes (0: one per core; 1 with the local engine: in this process); capped by the cores and
        the memory (:func:`capped_workers`), with a one-line notice. Ignored with ``scheduler``.
    engine : ``"local"`` (a process pool) or ``"dask"`` (Dask distributed: ``scheduler``'s cluster, or a
        LocalCluster).
    resume : skip the videos whose complete outputs in ``out_dir`` were made from the same input (size and
        mtime), config hash and ``frames`` (their ``.<stem>.done.json``); they are reported as skipped.
    table : also gather every done and skipped video's CSV into this Parquet file, with a ``source`` column.
    progress, stream : a bar over the videos on ``stream`` (default stderr) and a line per video as it ends
        (with one in-process worker, each video's frame bar too).

    Returns
    -------
    BatchResult. After Ctrl-C or SIGTERM the summary (what was done, what was interrupted) is written to
    ``stream`` (stderr when quiet) and the KeyboardInterrupt / Terminated is raised again.
    """
    from aubench.pipeline.config import config_hash

    if engine not in ENGINES:
        from aubench.pipeline.errors import unknown_name

        raise InputError(unknown_name("engine", engine, ENGINES, "--engine"))
    if scheduler and engine != "dask":
        raise InputError(f"--scheduler {scheduler}: a Dask scheduler is used by --engine dask only; add --engine dask")
    videos = [Path(v) for v in videos]
    check_stems(videos)
    out_dir = Path(out_dir)
    workers, cap_notice = capped_workers(workers, len(videos)) if not scheduler else (0, None)
    stream = (stream or sys.stderr) if progress else None
    outcomes: dict[Path, VideoOutcome] = {}
    load_s: dict[Any, float] = {}
    start = time.perf_counter()
    say = (lambda line: bar.write(line, file=stream)) if stream is not None else (lambda line: None)
    bar = progress_bar(len(videos), stream, "aubench run", unit="video")
    if cap_notice:
        print(f"aubench run: {cap_notice}", file=stream or sys.stderr)

    def report(o: VideoOutcome) -> None:
        if o.video in outcomes:  # never twice (a stop collects what the engine may report as well)
            return
        outcomes[o.video] = o
        say(f"[{len(outcomes)}/{len(videos)}] {o.line()}")
        bar.update()
        if on_done is not None:
            on_done(o)

    interrupted = None
    try:
        todo = []
        chash = config_hash(config)
        for v in videos:
            if not v.exists():
                report(VideoOutcome(v, error="no such file; give an existing video path"))
            elif resume and (record := is_done(v, out_dir, chash, frames)) is not None:
                report(VideoOutcome(v, csv=out_dir / record["csv"], frames=int(record.get("frames", 0)),
                                    status="skipped"))
            else:
                todo.append(v)
        warm_on = next((v for v in todo if not needs_ascii_alias(v)), None)
        if warm_on is not None and not scheduler and (engine == "dask" or workers > 1):
            # Compile the Numba kernels once, here, before workers run (in parallel they can corrupt the cache);
            # a user's cluster compiles once per cache folder in its workers (dask_engine.StagesPlugin)
            _warm_cache(config, models_dir, warm_on)
        if engine == "dask" and todo:
            try:
                from aubench.pipeline.dask_engine import run_dask
            except ImportError:
                raise InputError("--engine dask needs Dask distributed: pip install 'aubench[cluster]' (or: pip "
                                 "install 'dask[distributed]' pyarrow), or use --engine local") from None

            run_dask(todo, out_dir, config, scheduler=scheduler, workers=workers, frames=frames,
                     models_dir=models_dir, report=report, say=lambda line: print(line, file=stream or sys.stderr))
        elif workers == 1 and todo:
            worker = VideoWorker(config, models_dir)
            load_s[os.getpid()] = worker.load_s
            for v in todo:
                o = worker.run(v, out_dir, frames, stream, os.getpid())
                report(o)
                if o.status == "interrupted":
                    raise Terminated() if o.signum == signal.SIGTERM else KeyboardInterrupt()
        elif todo:
            _run_local(todo, out_dir, config, workers=workers, frames=frames, models_dir=models_dir,
                       report=report, load_s=load_s)
    except KeyboardInterrupt as e:
        interrupted = e
    finally:
        bar.close()
    for v in videos:
        if v not in outcomes:  # its worker was stopped before it could say so
            kept = [c for d in partial_dirs(out_dir, v.stem) for c in d.glob("*.csv")]
            outcomes[v] = VideoOutcome(v, status="interrupted", error=f"valid partial CSV kept in {shown(kept[0])}"
                                       if kept else "not started, or stopped before its first frame")
    result = BatchResult([outcomes[v] for v in videos], workers,
                         time.perf_counter() - start, load_s, engine, interrupted is not None)
    if table is not None and interrupted is None:
        from aubench.pipeline.corpus_table import write_table

        result.table = write_table(result.outcomes, table)
    if interrupted is not None:
        print(result.summary(), file=stream or sys.stderr)
        raise interrupted
    return result


def _warm_stamp(config: Any) -> Path:
    """Where a warm-up says it is done: beside Numba's cache, named by what the compiled code depends on
    (Numba and Python versions, the variant selection, every source file's size and mtime, as Numba's own
    cache index checks them). A stamp that matches means the workers only load the cache."""
    import hashlib

    import numba

    from aubench.pipeline.cache import cache_dir

    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha1(f"{numba.__version__}|{sys.version}|{sorted(config.variant_selection.items())}".encode())
    for folder in ("pipeline", "variants"):
        for src in sorted((root / folder).rglob("*.py")):
            st = src.stat()
            h.update(f"{src.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}".encode())
    import tempfile

    where = os.environ.get("NUMBA_CACHE_DIR") or str(cache_dir() or tempfile.gettempdir())
    return Path(where) / f".aubench-warm-{h.hexdigest()[:16]}"


def _warm_cache(config: Any, models_dir: str | Path | None, video: Path) -> None:
    """Numba's cache compiled in a child process (a video that crashes it takes nothing else down), once:
    a later batch with the same code and variants finds the stamp and starts its workers at once (~2.5 s)."""
    import pickle
    import subprocess
    import tempfile

    stamp = _warm_stamp(config)
    if stamp.is_file():
        return
    with tempfile.NamedTemporaryFile(suffix=".pkl") as fh:
        pickle.dump((config, models_dir, video), fh)
        fh.flush()
        env = {**os.environ, **{name: "1" for name in THREAD_ENV}}
        code = ("import pickle,sys; from aubench.pipeline.video_task import warm_numba_cache; "
                "warm_numba_cache(*pickle.load(open(sys.argv[1], 'rb')))")
        proc = subprocess.run([sys.executable, "-c", code, fh.name], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, check=False)
    if proc.returncode == 0:
        try:
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.touch()
        except OSError:
            pass  # no stamp: the next batch warms up again, nothing worse
