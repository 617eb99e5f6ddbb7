"""`aubench profile` (not implemented yet)."""

from __future__ import annotations

from pipeline.errors import AubenchError


def register(sub) -> None:
    p = sub.add_parser("profile", help="(not implemented yet)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    raise AubenchError("`aubench profile` is not implemented yet")
