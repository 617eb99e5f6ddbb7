"""Per-stage timers: the pipeline's own profile (``aubench profile`` reads them).

A :class:`StageTimer` is an explicit object passed to the stages (no global
state). Stage names are dotted paths, ``"landmarks.scale1.response"``; a stage
nested inside another is timed in both. :data:`NULL_TIMER` costs nothing.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager


class StageTimer:
    """Accumulates wall time per stage and per frame.

    ``with timer("au.hog"): ...`` adds the elapsed time to stage ``au.hog`` of the
    current frame; :meth:`next_frame` closes a frame. :meth:`per_frame` returns
    ``{stage: [ms per frame]}``.
    """

    enabled = True

    def __init__(self) -> None:
        self._frames: list[dict[str, float]] = []
        self._current: dict[str, float] = defaultdict(float)
        self.counters: dict[str, list[float]] = defaultdict(list)

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self._current[stage] += (time.perf_counter() - start) * 1000.0

    def add(self, stage: str, ms: float) -> None:
        self._current[stage] += ms

    def count(self, name: str, value: float) -> None:
        """Record a per-call statistic (e.g. NU-RLMS iterations used)."""
        self.counters[name].append(float(value))

    def next_frame(self) -> None:
        self._frames.append(dict(self._current))
        self._current = defaultdict(float)

    def per_frame(self) -> dict[str, list[float]]:
        stages = sorted({s for f in self._frames for s in f})
        return {s: [f.get(s, 0.0) for f in self._frames] for s in stages}

    @property
    def frames(self) -> int:
        return len(self._frames)


class _NoOp:
    """A reusable context manager that does nothing (cheaper than a generator-based one)."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_OP = _NoOp()


class _NullTimer(StageTimer):
    enabled = False

    def __call__(self, stage: str) -> _NoOp:  # type: ignore[override]
        return _NO_OP

    def add(self, stage: str, ms: float) -> None:
        pass

    def count(self, name: str, value: float) -> None:
        pass

    def next_frame(self) -> None:
        pass


NULL_TIMER = _NullTimer()
