"""``aubench run ... --engine dask``: one task per video on Dask distributed.

Without ``--scheduler``, a :class:`distributed.LocalCluster` of worker processes (one thread each, BLAS,
OpenMP and Numba on one thread through the nannies' ``env``) sized by
:func:`aubench.pipeline.batch.resolve_workers`; with ``--scheduler tcp://HOST:PORT``, the user's cluster.

- Models are loaded once per worker process by :class:`StagesPlugin` (a ``WorkerPlugin``, installed again
  on a worker that the nanny restarts). The Numba kernels are compiled once before any video runs: for
  the LocalCluster by :func:`aubench.pipeline.batch.run_many` in a child process before the workers start;
  on a user's cluster by the first worker of each Numba cache folder, the others waiting on a lock there.
- A worker that dies (SIGKILL, out of memory) loses only the video it was running: the scheduler runs it
  again on another worker (``distributed.scheduler.allowed-failures = 1`` on the LocalCluster; a user's
  scheduler keeps its own setting, default 3); one that kills a second worker is reported failed
  (``KilledWorker``). ``worker-saturation = 1.0`` keeps exactly one video assigned per worker thread, so a
  death never counts against a video that was only queued there.
- Results come back as they finish (``as_completed``) and each video's outputs are written whole or not
  at all (:class:`aubench.pipeline.video_task.VideoWorker`).
- Ctrl-C or SIGTERM in the client: queued videos are cancelled at once, running ones are asked to stop
  through a ``distributed.Event`` that each task polls (:data:`STOP_POLL_S`) and stop after their current
  frame, keeping a valid partial CSV in their partial folder; after at most :data:`STOP_WAIT_S` the client
  cancels what is left and closes (the LocalCluster with it: no worker process outlives the run).
"""

from __future__ import annotations

import os
import signal
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aubench.pipeline.batch import THREAD_ENV
from aubench.pipeline.errors import InputError, request_stop
from aubench.pipeline.video_task import VideoOutcome, VideoWorker, needs_ascii_alias

# How often a running task looks at the stop event, and how long the client waits for running videos to stop.
STOP_POLL_S = 0.5
STOP_WAIT_S = 10.0
CONNECT_TIMEOUT_S = 20
# One thread per worker process for BLAS, OpenMP and Numba. Dask's own MALLOC_TRIM_THRESHOLD_=65536 is kept:
# against 1 GiB and 64 MiB it made no difference that stood out of the load's noise on 2 shared cores
# (experiments/corpus_engines.py --part malloc, two runs at load 3.5-3.8).
WORKER_ENV = {var: "1" for var in THREAD_ENV}


def _worker_plugin_base():
    from distributed.diagnostics.plugin import WorkerPlugin

    return WorkerPlugin


class StagesPlugin(_worker_plugin_base()):
    """Loads the stages once per worker process (:class:`VideoWorker`); tasks find them by the plugin's name."""

    def __init__(self, config: Any, models_dir: str | Path | None, name: str, own_process_group: bool = False,
                 warm_on: str | None = None):
        self.config = config
        self.models_dir = models_dir
        self.name = name
        self.own_process_group = own_process_group
        self.warm_on = warm_on  # a user's cluster: a video to compile the Numba kernels on, once per cache folder
        self.video_worker: VideoWorker | None = None

    def setup(self, worker) -> None:
        for var in THREAD_ENV:  # for a user's worker started without them (too late for a BLAS already loaded)
            os.environ.setdefault(var, "1")
        if self.own_process_group and hasattr(os, "setpgrp"):
            # the LocalCluster's workers: a terminal's Ctrl-C reaches the client only, which stops the running
            # videos after their frame through the stop event (a worker interrupted itself would die mid-frame)
            os.setpgrp()
        if self.warm_on is not None:
            _warm_once(self.config, self.models_dir, self.warm_on)
        self.video_worker = VideoWorker(self.config, self.models_dir)


def _warm_once(config: Any, models_dir: str | Path | None, video: str) -> None:
    """On a user's cluster: the first worker of each Numba cache folder (one per node with a local
    NUMBA_CACHE_DIR) compiles the kernels while the others wait on a lock there, then load what it compiled;
    compiling in parallel can corrupt the cache. A video the worker cannot read is skipped (it compiles on
    its first video then, as before)."""
    import fcntl
    import tempfile

    from aubench.pipeline.video_task import warm_numba_cache

    folder = Path(os.environ.get("NUMBA_CACHE_DIR") or tempfile.gettempdir())
    if not Path(video).is_file():
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / ".aubench-warm.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        warm_numba_cache(config, models_dir, Path(video))  # with a warm cache: a model load and two frames
    finally:
        os.close(fd)


def run_video_task(video: str, out_dir: str, frames: int | None, plugin_name: str, stop_name: str) -> VideoOutcome:
    """The task: one video on this worker's stages; stops between frames when the client sets the stop event."""
    from distributed import Event, get_client, get_worker

    worker = get_worker()
    worker_id = f"{worker.name}/{os.getpid()}"
    stop = Event(stop_name, client=get_client())
    if stop.is_set():
        return VideoOutcome(Path(video), worker=worker_id, status="interrupted", error="stopped before it started")
    plugin = worker.plugins[plugin_name]
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(STOP_POLL_S):
            try:
                if stop.is_set():
                    request_stop(signal.SIGINT)  # the run loop raises KeyboardInterrupt after its current frame
                    return
            except Exception:  # the client is gone: the scheduler cancels the task, nothing to stop here
                return

    watcher = threading.Thread(target=watch, name="aubench-stop-watch", daemon=True)
    watcher.start()
    try:
        return plugin.video_worker.run(Path(video), Path(out_dir), frames, None, worker_id)
    finally:
        finished.set()
        request_stop(None)


def _bokeh_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def run_dask(videos: list[Path], out_dir: Path, config: Any, *, scheduler: str | None, workers: int,
             frames: int | None, models_dir: str | Path | None, report: Callable[[VideoOutcome], None],
             say: Callable[[str], None]) -> None:
    """Run ``videos`` (largest first) on Dask; ``report`` gets each outcome as it finishes, ``say`` one-line notices.

    Raises KeyboardInterrupt (or Terminated) after a stop, once every video has been reported (the
    unfinished ones as interrupted) and the cluster closed.
    """
    import dask
    from distributed import Client, Event, LocalCluster, as_completed, wait
    from distributed.scheduler import KilledWorker

    from aubench.pipeline.config import config_hash

    cluster = client = None
    futures: dict[Any, Path] = {}
    reported: set[Path] = set()

    def put(o: VideoOutcome) -> None:
        reported.add(o.video)
        report(o)

    settings = {"distributed.scheduler.allowed-failures": 1, "distributed.scheduler.worker-saturation": 1.0}
    try:
        with dask.config.set(settings):
            if scheduler:
                try:
                    client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
                except OSError as e:
                    raise InputError(f"--scheduler {scheduler}: cannot connect ({e}); give the address the "
                                     "scheduler prints (tcp://HOST:PORT) and check that it runs") from None
            else:
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=":0" if _bokeh_available() else None,
                                       env=WORKER_ENV)
                client = Client(cluster)
        # a user's scheduler says whether it serves a dashboard; the LocalCluster has one when bokeh is installed
        has_dashboard = _bokeh_available() if cluster is not None else "dashboard" in client.scheduler_info().get(
            "services", {})
        if has_dashboard:
            say(f"Dask dashboard: {client.dashboard_link}")
        name = f"aubench-stages-{config_hash(config)}-{uuid.uuid4().hex[:8]}"
        # the LocalCluster shares this machine's Numba cache, compiled by run_many before the workers start
        warm_on = None if cluster is not None else next((str(v) for v in videos if not needs_ascii_alias(v)), None)
        client.register_plugin(StagesPlugin(config, models_dir, name, own_process_group=cluster is not None,
                                            warm_on=warm_on), name=name)
        stop_name = f"aubench-stop-{uuid.uuid4().hex}"
        stop = Event(stop_name, client=client)
        longest_first = sorted(videos, key=lambda v: v.stat().st_size, reverse=True)
        for v in longest_first:
            fut = client.submit(run_video_task, str(v), str(out_dir), frames, name, stop_name, pure=False,
                                key=f"aubench-video-{uuid.uuid4().hex}", retries=1)
            futures[fut] = v
        try:
            for fut in as_completed(list(futures)):
                put(_outcome_of(fut, futures[fut], KilledWorker))
        except KeyboardInterrupt:
            _stop(client, stop, futures, reported, put, wait)
            raise
    finally:
        for v in futures.values():
            if v not in reported:
                put(VideoOutcome(v, status="interrupted", error="cancelled before it finished"))
        if client is not None:
            client.close(timeout=5)
        if cluster is not None:
            cluster.close(timeout=5)


def _outcome_of(fut, video: Path, killed_worker: type) -> VideoOutcome:
    if fut.status == "finished":
        return fut.result()
    exc = fut.exception()
    if isinstance(exc, killed_worker):
        return VideoOutcome(video, attempts=2, error="its worker died each time it ran it (killed by a signal or "
                            "for memory; retried on other workers up to distributed.scheduler.allowed-failures); run "
                            "it alone to see why")
    msg = " ".join(str(exc).split()) or "(no message)"
    return VideoOutcome(video, error=f"task failed: {type(exc).__name__}: {msg}")


def _stop(client, stop, futures: dict, reported: set, put, wait) -> None:
    """After Ctrl-C/SIGTERM: cancel queued videos, ask running ones to stop, collect what they say."""
    running = {key for keys in client.processing().values() for key in keys}
    queued = [f for f in futures if not f.done() and f.key not in running]
    client.cancel(queued)
    for f in queued:
        put(VideoOutcome(futures[f], status="interrupted", error="not started (cancelled)"))
    stop.set()
    pending = [f for f in futures if not f.done() and futures[f] not in reported]
    try:
        wait(pending, timeout=STOP_WAIT_S)
    except KeyboardInterrupt:  # a second Ctrl-C: do not wait for them
        pass
    except Exception:  # the wait timed out
        pass
    for f in pending:
        if f.done() and f.status == "finished":
            put(f.result())
        else:
            put(VideoOutcome(futures[f], status="interrupted", error=f"still running after {STOP_WAIT_S:.0f} s; "
                             "cancelled"))
    client.cancel([f for f in futures if not f.done()])
