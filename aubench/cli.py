"""The ``aubench`` command line.

Each command lives in ``aubench/commands/<name>.py`` and provides
``register(subparsers)``, which adds its parser and sets ``func`` (called with
the parsed arguments; returns the exit code). Errors derived from
:class:`aubench.pipeline.errors.AubenchError` are printed as one line, never a traceback.
"""

from __future__ import annotations

import os

# BLAS on one thread unless the user says otherwise, set before NumPy loads OpenBLAS. As
# OpenFace itself does (openblas_set_num_threads(1) in its CCNF and MTCNN code): the products
# are small, threads only add overhead, and a threaded BLAS splits sums by core count, which
# moves results by an ulp that the tracker then carries on; parallelism comes from --workers.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402

from aubench.pipeline import __version__  # noqa: E402
from aubench.pipeline.errors import AubenchError, raise_terminated  # noqa: E402

# Order shown in --help.
COMMANDS = ("run", "FeatureExtraction", "FaceLandmarkImg", "FaceLandmarkVidMulti",
            "detect", "history", "models", "variants", "profile", "parity", "ab", "report", "gate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aubench",
        description="OpenFace 2.2 Action Unit extraction, faithful and fast, with a benchmarking workbench.",
    )
    parser.add_argument("--version", action="version", version=f"aubench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    registered = set()
    for name in COMMANDS:
        module = _command_module(name)
        if module not in registered:  # the three OpenFace programs share one module
            importlib.import_module(f"aubench.commands.{module}").register(sub)
            registered.add(module)
    return parser


def _command_module(name: str) -> str:
    from aubench.commands.openface import PROGRAMS

    return "openface" if name in PROGRAMS else name


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code.

    0 success, 1 a verdict failed (parity, gate), 2 an error (one line on stderr), 128 + the signal's
    number when stopped by one, as a shell reports it: 130 on Ctrl-C (SIGINT), 143 on SIGTERM; the
    output written so far is kept in both cases. A closed stdout (``aubench ... | head``) ends the
    command quietly with 141 (128 + SIGPIPE), what a C tool killed by SIGPIPE reports.
    """
    from aubench.commands import openface

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in openface.PROGRAMS:
        # OpenFace's own command line (single-dash flags): read by its module, not by argparse
        command = argv[0]

        def call() -> int:
            return openface.main(command, argv[1:])
    else:
        tokens: list[str] = []
        if argv and argv[0] == "run":  # OpenFace's flags may stand among run's own
            own, tokens = openface.split_openface_tokens(argv[1:])
            argv = ["run", *own]
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 0
        if tokens:
            args.openface = tokens
        command = args.command

        def call() -> int:
            return args.func(args)
    previous = _install_sigterm()
    try:
        code = int(call() or 0)
        sys.stdout.flush()  # here, where a broken pipe is caught, not in the interpreter's exit
        return code
    except AubenchError as exc:
        print(f"aubench {command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        name = signal.Signals(signum).name
        print(f"aubench {command}: interrupted ({name}); output written so far is kept", file=sys.stderr)
        return 128 + int(signum)
    except BrokenPipeError:
        _silence_stdout()
        return 128 + 13
    except OSError as exc:  # not routed to an AubenchError where it happened: still one line, never a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"aubench {command}: error: {where}{exc.strerror or exc}; check that path, its permissions and "
              "the free space of its file system", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _install_sigterm():
    """Handle SIGTERM as Ctrl-C while a command runs (main thread only; returns the handler it replaced)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, raise_terminated)


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at devnull so the interpreter's final flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
