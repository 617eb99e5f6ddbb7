"""Numba flags come from one place (variants/_jit.py), as stumpy enforces for its kernels."""

from __future__ import annotations

import re

from ..conftest import REPO

FORBIDDEN = re.compile(r"numba\.(n?jit|vectorize|guvectorize|cfunc)\b"
                       r"|from numba import [^#]*\b(n?jit|vectorize|guvectorize|cfunc)\b")


def test_numba_decorators_only_in_jit_module():
    offenders = []
    for folder in ("pipeline", "variants", "experiments", "reports"):
        for path in (REPO / folder).rglob("*.py"):
            if path.name == "_jit.py":
                continue
            text = path.read_text(encoding="utf-8")
            for lineno, line in enumerate(text.splitlines(), 1):
                if FORBIDDEN.search(line):
                    offenders.append(f"{path.relative_to(REPO)}:{lineno}: {line.strip()}")
    assert not offenders, "use aubench.variants._jit.jit instead of numba directly:\n" + "\n".join(offenders)
