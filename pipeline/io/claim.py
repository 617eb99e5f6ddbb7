"""One run per output stem: a lock on ``OUT/.<stem>.lock``, and the stem's old outputs removed.

Two runs writing ``OUT/x.csv`` at once interleave their rows and the one that ends first
rewrites the other's AU columns, so a run claims its stem before it writes anything and
holds the claim until its last write (the AU rewrite included). The lock is per stem, not
per folder: runs of different videos into one folder are legitimate (the batch mode does it).

POSIX: ``fcntl.flock`` on the lock file; the kernel drops it when the holder dies, even by
SIGKILL, so a dead run never blocks the next. Elsewhere: the file is created with ``O_EXCL``
and holds the pid; a file whose pid no longer runs is taken over.

Once the stem is claimed and the run is about to write, the outputs of an earlier run of
that stem are removed (:meth:`OutputClaim.clear_stale`): a ``--frames 20`` re-run must not leave 217 aligned faces of a
237-frame run beside its 20-row CSV. Only aubench's own names are touched: ``<stem>.csv``,
``<stem>.hog``, ``<stem>_of_details.txt`` and the aligned-face names
(:func:`aubench.pipeline.io.aligned.aligned_name`) inside ``<stem>_aligned/``; other files
and other stems are left alone.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from aubench.pipeline.errors import AubenchError, InputError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

# AlignedWriter's names: frame_det_<face:02d>_<frame:06d>.<fmt> (video), face_det_<face:06d>.<fmt> (images).
_ALIGNED_NAME = re.compile(r"^(frame_det_\d{2,}_\d{6,}|face_det_\d{6,})\.(bmp|jpg|jpeg|png)$")


class OutputBusy(AubenchError):
    """Another aubench run is writing the same output stem."""


def lock_path(out_dir: Path, stem: str) -> Path:
    return out_dir / f".{stem}.lock"


def _holder(path: Path) -> tuple[int | None, str]:
    """(pid, start time) recorded in a lock file; (None, "?") when unreadable."""
    try:
        pid_txt, _, started = path.read_text(encoding="utf-8").strip().partition(" ")
        return int(pid_txt), started or "?"
    except (OSError, ValueError):
        return None, "?"


def _busy(out_dir: Path, stem: str, path: Path) -> OutputBusy:
    pid, started = _holder(path)
    return OutputBusy(f"{out_dir / (stem + '.csv')} is being written by another aubench run "
                      f"(pid {pid if pid is not None else '?'}, started {started}); "
                      "wait for it or choose another -o")


class OutputClaim:
    """The claim on ``out_dir/<stem>``: taken by :func:`claim_outputs`, given back by :meth:`release`."""

    def __init__(self, out_dir: Path, stem: str):
        self.out_dir = Path(out_dir)
        self.stem = stem
        self.path = lock_path(self.out_dir, stem)
        self._fd: int | None = None
        self.removed: list[Path] = []

    def _stamp(self, fd: int) -> None:
        os.ftruncate(fd, 0)
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        os.write(fd, f"{os.getpid()} {started}\n".encode())

    def _acquire_flock(self) -> None:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise _busy(self.out_dir, self.stem, self.path) from None
            # The holder we waited on may have unlinked the file before we locked it:
            # then we hold a lock on a name nobody else can find; open it again.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                self._fd = fd
                self._stamp(fd)
                return
            os.close(fd)

    def _acquire_excl(self) -> None:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                import psutil  # only here, off POSIX: importing it costs every run ~20 ms of start-up

                pid, _ = _holder(self.path)
                if pid is not None and psutil.pid_exists(pid):
                    raise _busy(self.out_dir, self.stem, self.path) from None
                try:
                    self.path.unlink()  # its run is gone: take it over
                except FileNotFoundError:
                    pass
                continue
            self._fd = fd
            self._stamp(fd)
            return
        raise _busy(self.out_dir, self.stem, self.path)

    def acquire(self) -> OutputClaim:
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            if fcntl is not None:
                self._acquire_flock()
            else:
                self._acquire_excl()
        except OSError as exc:
            raise InputError(f"{self.out_dir}: cannot create the lock file {self.path.name} ({exc.strerror}); "
                             "give an output folder you can write to") from None
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink()  # before unlocking, so a waiting run re-opens a fresh file (see _acquire_flock)
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None

    def clear_stale(self) -> list[Path]:
        """Remove the stem's outputs of an earlier run (:func:`remove_stale_outputs`); the paths removed."""
        if self._fd is None:
            raise RuntimeError(f"{self.path}: clear_stale() without holding the lock")
        self.removed = remove_stale_outputs(self.out_dir, self.stem)
        return self.removed

    def __enter__(self) -> OutputClaim:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def remove_stale_outputs(out_dir: Path, stem: str) -> list[Path]:
    """Remove what an earlier run of ``stem`` wrote into ``out_dir`` (aubench's names only); the paths removed."""
    out_dir = Path(out_dir)
    removed = []
    candidates = [out_dir / f"{stem}{suffix}" for suffix in (".csv", ".hog", "_of_details.txt")]
    aligned = out_dir / f"{stem}_aligned"
    if aligned.is_dir() and not aligned.is_symlink():
        candidates += sorted(p for p in aligned.iterdir() if _ALIGNED_NAME.match(p.name))
    for p in candidates:
        if p.is_file() and not p.is_symlink():
            try:
                p.unlink()
                removed.append(p)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise InputError(f"{p}: cannot remove this output of an earlier run ({exc.strerror}); "
                                 "remove it by hand or choose another -o") from None
    if aligned.is_dir() and not aligned.is_symlink() and not any(aligned.iterdir()):
        aligned.rmdir()  # emptied (or already empty): a run without --simalign leaves no folder behind
    return removed


def claim_outputs(out_dir: str | Path, stem: str) -> OutputClaim:
    """Lock ``out_dir/<stem>`` for this run, or raise :class:`OutputBusy`.

    The stem's old outputs are removed by :meth:`OutputClaim.clear_stale`, called when the run is
    about to write: a run that fails before (models missing, a bad ``--landmarks-from``) leaves
    the earlier run's outputs as they were.
    """
    return OutputClaim(Path(out_dir), stem).acquire()
