"""One video of a corpus as one task: outputs written whole or not at all, a done record for ``--resume``.

Both engines of :func:`aubench.pipeline.batch.run_many` (the local process pool and Dask) run a
video through :meth:`VideoWorker.run`:

1. claim the stem in ``OUT`` (``OUT/.<stem>.lock``, :mod:`aubench.pipeline.io.claim`): one writer per stem,
   even across machines sharing ``OUT`` (where their file system honours ``flock``), and a lock that
   the kernel drops when the worker dies, so a retry on another worker is never blocked;
2. remove the stem's stale partial folders (``OUT/.partial-<stem>-<pid>/``, left by a killed worker);
3. run :func:`aubench.pipeline.extract.run` into a fresh ``OUT/.partial-<stem>-<pid>/``;
4. once the run is complete: remove the stem's old outputs and done record, rename every file of the
   partial folder into ``OUT``, then write ``OUT/.<stem>.done.json`` (config hash, input size and mtime,
   ``--frames``) last. ``OUT`` therefore only ever holds complete outputs, and a done record only
   beside them.

A video stopped by Ctrl-C or SIGTERM keeps the valid CSV of its whole rows (online AU values, as a
single stopped run) in its partial folder, which the summary names; the next run of that stem removes it.

Inputs whose path is not valid UTF-8 (bytes a file system allows, e.g. ``b"clip_\\xff.avi"``) crash
OpenCV's Python binding inside ``cv2.VideoCapture`` (SIGSEGV, opencv-python 4.14): such a video is read
through a hard link with an ASCII name in its partial folder (:func:`opencv_readable`) and its outputs are
renamed back to the original stem.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from aubench.pipeline.errors import AubenchError, InputError, OutputError, output_error, request_stop
from aubench.pipeline.run_result import peak_rss_mb as _rusage_peak_rss_mb

PARTIAL_PREFIX = ".partial-"
DONE_SUFFIX = ".done.json"
# Statuses of a VideoOutcome, in the order the summary lists them.
STATUSES = ("done", "skipped", "interrupted", "failed")


def peak_rss_mb() -> float:
    """This process's own peak resident memory in MiB. Linux: VmHWM, because ``ru_maxrss`` survives exec and a
    spawned worker would report its parent's peak when that was higher (every worker of an
    experiments/corpus_engines.py run whose process had peaked at 579 MiB reported 579 MiB; 399-416 MiB
    when the parent was small). Elsewhere: ``ru_maxrss``."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        pass
    return _rusage_peak_rss_mb()


def shown(path: str | Path) -> str:
    """A path as text that can be printed anywhere: bytes that are not UTF-8 as ``\\xff`` escapes."""
    return os.fsencode(str(path)).decode("utf-8", "backslashreplace")


def needs_ascii_alias(path: str | Path) -> bool:
    """Whether OpenCV's Python binding cannot take ``path`` (it is not valid UTF-8: it would segfault)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def opencv_readable(path: Path, folder: Path) -> Path:
    """``path``, or when OpenCV cannot take its name, a hard link to it with an ASCII name made in ``folder``
    (created). A hard link, not a symlink: the run writes the input's resolved path in ``_of_details.txt``.
    An input on another file system than ``folder`` cannot be linked and is refused with the fix."""
    if not needs_ascii_alias(path):
        return path
    digest = hashlib.sha1(os.fsencode(str(path))).hexdigest()[:10]
    suffix = path.suffix if not needs_ascii_alias(path.suffix) else ""
    alias = folder / f"input_{digest}{suffix}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        alias.unlink(missing_ok=True)
        os.link(path, alias)
    except OSError as e:
        raise InputError(f"{shown(path)}: the file name is not valid UTF-8, which OpenCV cannot open, and no hard link "
                         f"with an ASCII name could be made in {shown(folder)} ({e.strerror}); rename the file "
                         "(e.g. convmv -f latin1 -t utf8) or write -o on the same file system") from None
    return alias


# --------------------------------------------------------------------------- partial folders and done records

def _folder_stem(stem: str) -> str:
    """``stem``, or for a stem that is not valid UTF-8 an ASCII stand-in: OpenCV writes into the partial folder."""
    return "x" + hashlib.sha1(os.fsencode(stem)).hexdigest()[:10] if needs_ascii_alias(stem) else stem


def partial_dir(out_dir: Path, stem: str, pid: int | None = None) -> Path:
    return out_dir / f"{PARTIAL_PREFIX}{_folder_stem(stem)}-{os.getpid() if pid is None else pid}"


def partial_dirs(out_dir: Path, stem: str) -> list[Path]:
    """The stem's partial folders in ``out_dir`` (``.partial-<stem>-<pid>``; another stem's never match)."""
    pattern = re.compile(re.escape(f"{PARTIAL_PREFIX}{_folder_stem(stem)}-") + r"\d+")
    try:
        return sorted(p for p in out_dir.iterdir() if p.is_dir() and pattern.fullmatch(p.name))
    except FileNotFoundError:
        return []


def done_path(out_dir: Path, stem: str) -> Path:
    return out_dir / f".{stem}{DONE_SUFFIX}"


def input_identity(video: Path, config_hash: str, frames: int | None) -> dict[str, Any]:
    """What a complete output was made from: its config, the input's size and mtime, ``--frames``."""
    st = video.stat()
    return {"config_hash": config_hash, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "frames_limit": frames}


def is_done(video: Path, out_dir: Path, config_hash: str, frames: int | None) -> dict[str, Any] | None:
    """The done record of ``video`` in ``out_dir`` when its outputs are complete and were made from this very
    input with this config and ``--frames``; None when the video must run (again)."""
    try:
        record = json.loads(done_path(out_dir, video.stem).read_text(encoding="utf-8"))
        identity = input_identity(video, config_hash, frames)
    except (OSError, ValueError):
        return None
    if any(record.get(k) != v for k, v in identity.items()):
        return None
    if not (out_dir / record.get("csv", f"{video.stem}.csv")).is_file():
        return None
    return record


def _publish(partial: Path, out_dir: Path, alias_stem: str, stem: str) -> list[Path]:
    """Rename every output in ``partial`` into ``out_dir``, the alias stem's names back to ``stem``'s."""
    moved = []
    for src in sorted(partial.iterdir()):
        if src.name.startswith("."):  # extract.run's lock of the partial folder
            continue
        name = stem + src.name[len(alias_stem):] if src.name.startswith(alias_stem) else src.name
        dst = out_dir / name
        os.replace(src, dst)  # over an old <stem>_aligned/ too, once clear_stale has emptied it of its faces
        moved.append(dst)
    return moved


def _restore_input_lines(details: Path, video: Path, alias_stem: str) -> None:
    """``<stem>_of_details.txt`` names the input as the user gave it, not the ASCII alias it was read through."""
    lines = details.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Output"):
            lines[i] = line.replace(alias_stem, video.stem)
        elif line.startswith("Input:"):
            lines[i] = f"Input:{video}"
        elif line.startswith("Input full path:"):
            lines[i] = f"Input full path:{video.resolve()}"
    details.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogateescape")


@dataclass
class VideoOutcome:
    """One video's result in a batch: done (written), skipped (``--resume``), interrupted or failed (one line)."""

    video: Path
    csv: Path | None = None
    frames: int = 0
    wall_s: float = 0.0
    worker: int | str = 0
    peak_rss_mb: float = 0.0
    error: str | None = None
    notice: str | None = None  # written, but the input was truncated or damaged (RunResult.input_notice)
    status: str = "done"
    attempts: int = 1
    signum: int | None = None  # the signal that interrupted it (SIGINT, SIGTERM)
    task_s: float = 0.0  # the whole task in its worker: wall_s plus the claim, the renames and the done record

    def __post_init__(self) -> None:
        if self.error is not None and self.status == "done":
            self.status = "failed"

    def line(self) -> str:
        name = shown(self.video)
        if self.status == "failed":
            return f"FAILED {name}: {self.error}"
        if self.status == "interrupted":
            return f"INTERRUPTED {name}: {self.error}"
        if self.status == "skipped":
            return f"skipped {shown(self.video.name)}: complete output with the same config and input -> {shown(self.csv)}"
        if self.notice is not None:
            return f"DAMAGED {name}: {self.notice}"
        fps = self.frames / self.wall_s if self.wall_s > 0 else 0.0
        return (f"done {shown(self.video.name)}: {self.frames} frames in {self.wall_s:.1f} s ({fps:.1f} fps), "
                f"worker {self.worker}, peak RSS {self.peak_rss_mb:.0f} MiB -> {shown(self.csv)}")


class VideoWorker:
    """The stages loaded once (per process, or per Dask worker); :meth:`run` processes one whole video."""

    def __init__(self, config: Any, models_dir: str | Path | None):
        from aubench.pipeline.config import config_hash
        from aubench.pipeline.stages import load_stages, resolve_kernels

        self.config = config
        self.config_hash = config_hash(config)
        self.models_dir = models_dir
        t0 = time.perf_counter()
        self.tracker = self.analyser = None
        self.error: str | None = None
        try:
            self.tracker, self.analyser = load_stages(config, models_dir, resolve_kernels(config))
        except AubenchError as e:
            self.error = str(e)
        self.load_s = time.perf_counter() - t0

    def run(self, video: Path, out_dir: Path, frames: int | None, progress_stream: TextIO | None = None,
            worker_id: int | str | None = None, attempt: int = 1) -> VideoOutcome:
        """Run ``video`` into ``out_dir`` (whole outputs or none, see the module); never raises for the video's
        own problems: they are the outcome's one-line ``error``. Ctrl-C/SIGTERM (or :func:`request_stop`)
        stop it between frames: status ``interrupted``, the partial CSV kept in its partial folder."""
        from aubench.pipeline import extract
        from aubench.pipeline.frame_step import FrameStep
        from aubench.pipeline.io.claim import claim_outputs

        t0 = time.perf_counter()
        video, out_dir = Path(video), Path(out_dir)
        worker_id = os.getpid() if worker_id is None else worker_id

        def outcome(**kw) -> VideoOutcome:
            return VideoOutcome(video, worker=worker_id, peak_rss_mb=peak_rss_mb(), attempts=attempt,
                                task_s=time.perf_counter() - t0, **kw)

        if self.error is not None:
            return outcome(error=self.error)
        request_stop(None)  # a stop meant for the previous video of this process is not this one's
        partial = partial_dir(out_dir, video.stem)
        claim = None
        try:
            extract.make_out_dir(out_dir)
            claim = claim_outputs(out_dir, video.stem)
            for stale in partial_dirs(out_dir, video.stem):
                shutil.rmtree(stale, ignore_errors=True)
            FrameStep(self.tracker, self.analyser).reset()  # a new video: forget the face and the person
            readable = opencv_readable(video, partial / ".input")
            r = extract.run(readable, partial, self.config, frames=frames, progress=progress_stream is not None,
                            progress_stream=progress_stream, models_dir=self.models_dir,
                            tracker=self.tracker, analyser=self.analyser)
            if readable != video:
                _restore_input_lines(partial / f"{readable.stem}_of_details.txt", video, readable.stem)
            done_path(out_dir, video.stem).unlink(missing_ok=True)
            claim.clear_stale()
            try:
                _publish(partial, out_dir, readable.stem, video.stem)
                shutil.rmtree(partial, ignore_errors=True)
                record = {**input_identity(video, self.config_hash, frames), "csv": f"{video.stem}.csv",
                          "frames": r.frames, "input": shown(video)}
                tmp = done_path(out_dir, video.stem).with_suffix(".tmp")
                tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
                os.replace(tmp, done_path(out_dir, video.stem))
            except OSError as exc:
                raise output_error(exc, out_dir / video.stem) from None
            notice = r.input_notice.replace(str(partial / readable.stem), str(out_dir / video.stem)) \
                if r.input_notice else None
            return outcome(csv=out_dir / f"{video.stem}.csv", frames=r.frames, wall_s=r.wall_s, notice=notice)
        except KeyboardInterrupt as e:  # Ctrl-C, SIGTERM (Terminated) or a stop requested by the client
            kept = next(iter(partial.glob("*.csv")), None) if partial.is_dir() else None
            where = f"valid partial CSV kept in {shown(kept)}" if kept else "stopped before its first frame"
            return outcome(status="interrupted", error=f"{type(e).__name__}: {where}",
                           signum=getattr(e, "signum", signal.SIGINT))
        except (AubenchError, OutputError) as e:
            shutil.rmtree(partial, ignore_errors=True)
            return outcome(error=str(e))
        except Exception as e:  # one video's crash must not stop the others; its one line says what it was
            shutil.rmtree(partial, ignore_errors=True)
            msg = " ".join(str(e).split()) or "(no message)"
            return outcome(error=f"{type(e).__name__}: {msg}")
        finally:
            if claim is not None:
                claim.release()


def warm_numba_cache(config: Any, models_dir: str | Path | None, video: Path, frames: int = 2) -> float:
    """Compile the run's Numba kernels into the on-disk cache in this process, before workers start: workers
    compiling the same kernels at once can corrupt the cache. Runs ``frames`` frames of ``video`` (a UTF-8 name) into a
    temporary folder (a warm cache makes this a model load and two frames). Returns the seconds it took."""
    from aubench.pipeline import extract

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="aubench-warm-") as tmp:
        try:
            extract.run(video, tmp, config, frames=frames, progress=False, models_dir=models_dir)
        except AubenchError:
            pass  # that video's problem is reported when it runs; the kernels it reached are compiled
    return time.perf_counter() - t0


StopCheck = Callable[[], bool]
