"""``aubench variants``: list every kernel and its variants, with availability."""

from __future__ import annotations

from aubench.pipeline import registry


def register(sub) -> None:
    p = sub.add_parser("variants", help="list the hot kernels and their registered variants")
    p.set_defaults(func=_run)


def _run(args) -> int:
    rows = registry.describe()
    if not rows:
        print("no kernels registered")
        return 0
    width = max(len(r["kernel"]) + len(r["variant"]) for r in rows) + 2
    for r in rows:
        state = "" if r["available"] else f"  [unavailable: {r['reason']}]"
        approx = "  (approximate)" if r["approximate"] else ""
        print(f"{r['kernel'] + '=' + r['variant']:<{width}} {r['summary']}{approx}{state}")
    return 0
