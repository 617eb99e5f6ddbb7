"""`aubench detect` (not implemented yet)."""

from __future__ import annotations

from pipeline.errors import AubenchError


def register(sub) -> None:
    p = sub.add_parser("detect", help="(not implemented yet)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    raise AubenchError("`aubench detect` is not implemented yet")
