"""The one place Numba is configured (a lint test forbids ``numba.njit`` elsewhere).

Compiled functions are cached on disk (``cache=True``) so a second run skips
compilation; ``NUMBA_CACHE_DIR`` moves the cache. ``fastmath`` stays off:
reordering float operations would move results away from the C++ reference.
"""

from __future__ import annotations

from collections.abc import Callable

JIT_OPTIONS = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}


def jit(fn: Callable | None = None, **overrides):
    """``numba.njit`` with the project's options; usable as ``@jit`` or ``@jit(parallel=True)``."""
    import numba

    options = {**JIT_OPTIONS, **overrides}
    if fn is None:
        return numba.njit(**options)
    return numba.njit(**options)(fn)

