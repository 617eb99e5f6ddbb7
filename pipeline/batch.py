"""Many videos in one ``aubench run``: a process pool where each worker loads the models once.

``aubench run FOLDER|LIST.txt -o OUTDIR --workers N`` runs :func:`aubench.pipeline.extract.run` on every
video, one whole video per task, each writing ``OUTDIR/<stem>.csv``. Workers are spawned (not
forked: no BLAS/Numba thread state is inherited) and each builds its tracker and AU analyser
once, resetting them between videos. A video that fails gives one line and the others go on.

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

from aubench.pipeline.errors import AubenchError, InputError, raise_terminated
from aubench.pipeline.progress import progress_bar
from aubench.pipeline.run_result import peak_rss_mb

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
        items: list[Path] = []
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            item = Path(line).expanduser()
            items.append(item if item.is_absolute() else path.parent / item)
        if not items:
            raise InputError(f"{path}: the list names no inputs; expected one video path per line")
        return items
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


def resolve_workers(workers: int, n_videos: int) -> int:
    """``workers`` processes (0 = every core this process may use), never more than the videos."""
    if workers < 0:
        raise InputError(f"--workers {workers}: expected 0 (all cores) or a positive number of processes")
    if workers == 0:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(workers, n_videos))


@dataclass
class VideoOutcome:
    """One video's result in a batch: what was written, or the one-line error."""

    video: Path
    csv: Path | None = None
    frames: int = 0
    wall_s: float = 0.0
    worker: int = 0
    peak_rss_mb: float = 0.0
    error: str | None = None
    notice: str | None = None  # written, but the input was truncated or damaged (RunResult.input_notice)

    def line(self) -> str:
        if self.error is not None:
            return f"FAILED {self.video}: {self.error}"
        if self.notice is not None:
            return f"DAMAGED {self.video}: {self.notice}"
        fps = self.frames / self.wall_s if self.wall_s > 0 else 0.0
        return (f"done {self.video.name}: {self.frames} frames in {self.wall_s:.1f} s ({fps:.1f} fps), "
                f"worker {self.worker}, peak RSS {self.peak_rss_mb:.0f} MiB -> {self.csv}")


@dataclass
class BatchResult:
    """All videos' outcomes of a batch and its wall time."""

    outcomes: list[VideoOutcome]
    workers: int
    wall_s: float
    load_s: dict[int, float] = field(default_factory=dict)

    @property
    def failed(self) -> list[VideoOutcome]:
        return [o for o in self.outcomes if o.error is not None]

    @property
    def damaged(self) -> list[VideoOutcome]:
        """Videos written whole as far as they decoded, whose input was truncated or damaged."""
        return [o for o in self.outcomes if o.error is None and o.notice is not None]

    def summary(self) -> str:
        ok = [o for o in self.outcomes if o.error is None]
        frames = sum(o.frames for o in ok)
        fps = frames / self.wall_s if self.wall_s > 0 else 0.0
        lines = [f"{len(ok)}/{len(self.outcomes)} videos, {frames} frames in {self.wall_s:.1f} s "
                 f"({fps:.1f} fps overall) with {self.workers} worker(s)"]
        rss: dict[int, float] = {}
        for o in self.outcomes:
            rss[o.worker] = max(rss.get(o.worker, 0.0), o.peak_rss_mb)
        lines.append("peak RSS per worker: " + ", ".join(f"worker {w}: {m:.0f} MiB" for w, m in sorted(rss.items())))
        for o in self.failed + self.damaged:
            lines.append(o.line())
        return "\n".join(lines)


# --------------------------------------------------------------------------- worker side

class _Worker:
    """Models loaded once per process; :meth:`run` processes one whole video."""

    def __init__(self, config: Any, models_dir: str | Path | None):
        from aubench.pipeline.stages import load_stages, resolve_kernels

        self.config = config
        self.models_dir = models_dir
        t0 = time.perf_counter()
        self.tracker = self.analyser = None
        self.error: str | None = None
        try:
            self.tracker, self.analyser = load_stages(config, models_dir, resolve_kernels(config))
        except AubenchError as e:
            self.error = str(e)
        self.load_s = time.perf_counter() - t0

    def run(self, video: Path, out_dir: Path, frames: int | None, progress_stream: TextIO | None,
            worker_id: int) -> VideoOutcome:
        from aubench.pipeline import extract
        from aubench.pipeline.frame_step import FrameStep

        if self.error is not None:
            return VideoOutcome(video, worker=worker_id, peak_rss_mb=peak_rss_mb(), error=self.error)
        FrameStep(self.tracker, self.analyser).reset()  # a new video: forget the face and the person
        try:
            r = extract.run(video, out_dir, self.config, frames=frames, progress=progress_stream is not None,
                            progress_stream=progress_stream, models_dir=self.models_dir,
                            tracker=self.tracker, analyser=self.analyser)
        except AubenchError as e:
            return VideoOutcome(video, worker=worker_id, peak_rss_mb=peak_rss_mb(), error=str(e))
        except Exception as e:  # one video's crash must not stop the others; its one line says what it was
            msg = " ".join(str(e).split()) or "(no message)"
            return VideoOutcome(video, worker=worker_id, peak_rss_mb=peak_rss_mb(),
                                error=f"{type(e).__name__}: {msg}")
        return VideoOutcome(video, csv=r.csv, frames=r.frames, wall_s=r.wall_s, worker=worker_id,
                            peak_rss_mb=peak_rss_mb(), notice=r.input_notice)


_WORKER: _Worker | None = None


def _init_worker(config: Any, models_dir: str | Path | None, threads: int) -> None:
    global _WORKER
    for name in THREAD_ENV:  # before NumPy/OpenBLAS/Numba load in this fresh process
        os.environ.setdefault(name, str(threads))
    # SIGTERM to the process group (a job scheduler, `timeout`, docker stop) stops this worker's video as
    # Ctrl-C does: whole rows kept, the rewrite's temporary removed, the process left for the pool to end
    signal.signal(signal.SIGTERM, raise_terminated)
    _WORKER = _Worker(config, models_dir)


def _run_in_worker(video: Path, out_dir: Path, frames: int | None) -> tuple[VideoOutcome, float]:
    assert _WORKER is not None
    return _WORKER.run(video, out_dir, frames, None, os.getpid()), _WORKER.load_s


# --------------------------------------------------------------------------- the batch

def run_many(videos: list[Path], out_dir: str | Path, config: Any, *, workers: int = 1, frames: int | None = None,
             models_dir: str | Path | None = None, progress: bool = True, stream: TextIO | None = None,
             on_done: Callable[[VideoOutcome], None] | None = None) -> BatchResult:
    """Run every video of ``videos`` into ``out_dir`` with ``workers`` processes (1: in this process).

    Each video writes ``out_dir/<stem>.csv`` as :func:`aubench.pipeline.extract.run` does. With ``progress``,
    ``stream`` (default stderr) gets a bar over the videos and a line per video (done or FAILED) as each
    finishes; with one worker, each video's frame bar too.
    """
    videos = [Path(v) for v in videos]
    check_stems(videos)
    out_dir = Path(out_dir)
    workers = resolve_workers(workers, len(videos))
    stream = (stream or sys.stderr) if progress else None
    outcomes: dict[Path, VideoOutcome] = {}
    load_s: dict[int, float] = {}
    start = time.perf_counter()

    # one bar over the videos; with one worker each video's own frame bar is drawn under it
    bar = progress_bar(len(videos), stream, "aubench run", unit="video")

    def report(o: VideoOutcome) -> None:
        outcomes[o.video] = o
        if stream is not None:
            bar.write(f"[{len(outcomes)}/{len(videos)}] {o.line()}", file=stream)
        bar.update()
        if on_done is not None:
            on_done(o)

    try:
        missing = [v for v in videos if not v.exists()]
        for v in missing:
            report(VideoOutcome(v, error="no such file; give an existing video path"))
        todo = [v for v in videos if v.exists()]

        if workers == 1:
            worker = _Worker(config, models_dir)
            load_s[os.getpid()] = worker.load_s
            for v in todo:
                report(worker.run(v, out_dir, frames, stream, os.getpid()))
        elif todo:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor, as_completed

            threads = max(1, int(config.runtime.threads))
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                     initargs=(config, models_dir, threads)) as pool:
                # Largest files first (a cheap stand-in for the longest videos) so no worker is left with
                # one long video at the end while the others idle.
                longest_first = sorted(todo, key=lambda v: v.stat().st_size, reverse=True)
                futures = {pool.submit(_run_in_worker, v, out_dir, frames): v for v in longest_first}
                for fut in as_completed(futures):
                    v = futures[fut]
                    try:
                        outcome, loaded = fut.result()
                        load_s[outcome.worker] = loaded
                    except Exception as e:  # the worker process itself died (e.g. killed for memory)
                        outcome = VideoOutcome(v, error=f"worker failed: {type(e).__name__}: {e}")
                    report(outcome)
    finally:
        bar.close()
    ordered = [outcomes[v] for v in videos]
    return BatchResult(ordered, workers, time.perf_counter() - start, load_s)
