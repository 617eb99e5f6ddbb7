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
import sys  # noqa: E402

from aubench.pipeline import __version__  # noqa: E402
from aubench.pipeline.errors import AubenchError  # noqa: E402

# Order shown in --help.
COMMANDS = ("run", "detect", "models", "variants", "profile", "parity", "ab", "report", "gate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aubench",
        description="OpenFace 2.2 Action Unit extraction, faithful and fast, with a benchmarking workbench.",
    )
    parser.add_argument("--version", action="version", version=f"aubench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"aubench.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except AubenchError as exc:
        print(f"aubench {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"aubench {args.command}: interrupted; output written so far is kept", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
