"""Errors that reach the user as one line (the CLI prints ``str(err)``, never a traceback).

Every message says what was expected, what was received and how to fix it.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
from collections.abc import Iterable
from pathlib import Path


class AubenchError(Exception):
    """Base class of every error the CLI reports as a single line."""


class ConfigError(AubenchError):
    """A configuration file, key or value is wrong."""


class ModelFormatError(AubenchError):
    """A model file is missing, truncated or not in the format OpenFace writes."""

    def __init__(self, path: str | Path, expected: str, got: str = "", fix: str = ""):
        self.path = Path(path)
        fix = fix or "re-fetch the models with `aubench models fetch` or point AUBENCH_MODELS at an intact OpenFace 2.2 install"
        got_txt = f", got {got}" if got else ""
        super().__init__(f"{self.path}: expected {expected}{got_txt}; {fix}")


class InputError(AubenchError):
    """An input video, image or CSV cannot be used."""


class OutputError(AubenchError):
    """An output file or folder cannot be created or written (full disk, read-only, permissions, wrong kind)."""


def output_error(exc: OSError, path: str | Path, *, frames: int | None = None, kept: str = "",
                 flag: str = "-o") -> OutputError:
    """The one-line :class:`OutputError` for an ``OSError`` met while writing ``path``.

    Says what failed (the file and, with ``frames``, how far the run got), what was kept
    (``kept``, e.g. "the CSV was truncated to its last complete row") and the fix, by errno.
    """
    where = f"writing {path}" + (f" after {frames} frame{'s' if frames != 1 else ''}" if frames is not None else "")
    kept_txt = f" ({kept})" if kept else ""
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1), errno.EFBIG):
        what = "no space left on device" if code == errno.ENOSPC else (exc.strerror or "file too large").lower()
        return OutputError(f"{what} {where}{kept_txt}; free space or choose another {flag}")
    if code == errno.EROFS:
        return OutputError(f"read-only file system {where}{kept_txt}; choose an {flag} on a writable file system")
    if code in (errno.EACCES, errno.EPERM):
        return OutputError(f"permission denied {where}{kept_txt}; choose an {flag} you can write to "
                           "or give yourself write permission there")
    if code == errno.EISDIR:
        return OutputError(f"{path} is a folder, expected a file for {flag}; give a file path such as "
                           f"{Path(path) / 'out.csv'}")
    if code in (errno.EEXIST, errno.ENOTDIR):
        return OutputError(f"{exc.filename or path} is a file, expected a folder for {flag}; give a folder path "
                           "(it is created) or move the file")
    reason = exc.strerror or type(exc).__name__
    return OutputError(f"{reason.lower()} {where}{kept_txt}; check {flag} and the file system it is on")


class VariantUnavailable(AubenchError):
    """A registered variant cannot run here (an optional dependency is missing)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the main thread is (:func:`raise_terminated`), so a run stops as on Ctrl-C:
    outputs closed with whole rows, temporaries removed. A KeyboardInterrupt, so every clean-up that
    Ctrl-C gets applies; ``signum`` tells the CLI which exit code to give (128 + 15)."""

    signum = 15


def raise_terminated(_signum, _frame) -> None:
    """A ``signal.signal(SIGTERM, ...)`` handler (the CLI's, and each batch worker's).

    Further SIGTERMs are ignored from here on, so a second one (a scheduler signalling the
    whole process group, then the parent again) cannot cut the clean-up short; SIGKILL still ends it.
    """
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated()


# The signal held back by deferred_signals(), raised at the next check_stop().
_PENDING: list[int | None] = [None]


@contextlib.contextmanager
def deferred_signals():
    """Within: SIGINT and SIGTERM are recorded and raised at the next :func:`check_stop` (the run loop
    calls it between frames), never in the middle of a compiled kernel: an exception raised by a signal
    handler while Numba code runs comes out as ``SystemError: ... returned a result with an exception
    set`` instead of the interrupt. A second signal raises at once (a stop that will not wait for the
    frame, e.g. during the first frame's compilation). Main thread only; elsewhere a no-op."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def hold(signum, _frame):
        if _PENDING[0] is None:
            _PENDING[0] = signum
            return
        _PENDING[0] = None
        _raise_signal(signum)

    previous = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    _PENDING[0] = None
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    check_stop()  # one that came after the last check is not lost


def check_stop() -> None:
    """Raise the signal :func:`deferred_signals` held back, if any (KeyboardInterrupt or Terminated)."""
    signum, _PENDING[0] = _PENDING[0], None
    if signum is not None:
        _raise_signal(signum)


def request_stop(signum: int | None) -> None:
    """Make the next :func:`check_stop` raise as if ``signum`` had arrived (None: withdraw a pending stop).
    Another thread's way to stop a run loop between frames (a Dask worker's task, which has no signals)."""
    _PENDING[0] = signum


def _raise_signal(signum: int) -> None:
    import signal

    if signum == signal.SIGTERM:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # as raise_terminated: a second one cannot cut the clean-up
        raise Terminated()
    raise KeyboardInterrupt()


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ' (did you mean "x"?)' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def unknown_name(kind: str, name: str, choices: Iterable[str], where: str = "") -> str:
    """Message for an unknown name: what was given, the closest match and the valid choices."""
    choices = sorted(choices)
    where_txt = f"{where}: " if where else ""
    return (
        f'{where_txt}unknown {kind} "{name}"{did_you_mean(name, choices)}; '
        f"valid: {', '.join(choices) if choices else '(none)'}"
    )
