"""Per-stage timers: the pipeline's own profile (``aubench profile`` reads them).

A :class:`StageTimer` is an explicit object passed to the stages (no global
state). Stage names are dotted paths, ``"landmarks.scale1.response"``; a stage
nested inside another is timed in both. :data:`NULL_TIMER` costs nothing.
"""

from __future__ import annotations

import sys
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

    def merge_frames(self, other: StageTimer) -> None:
        """Add ``other``'s frames into this timer's, frame by frame (a thread's timer that saw the same frames)."""
        for mine, theirs in zip(self._frames, other._frames):
            for stage, ms in theirs.items():
                mine[stage] = mine.get(stage, 0.0) + ms
        for name, values in other.counters.items():
            self.counters[name].extend(values)

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


class JitMeter:
    """Time spent in Numba's compiler while the meter runs: compiling, or loading compiled
    machine code from the cache (with Numba's one-off initialisation on its first load).

    It listens to Numba's ``numba:compiler_lock`` event (outermost holds only) and never
    imports Numba itself: :meth:`start` does nothing when Numba is not loaded yet, so start
    it once the kernels are resolved. This is the "JIT warm-up" speed figures report apart.
    """

    def __init__(self) -> None:
        self._listener = None
        self._seconds = 0.0

    def start(self) -> None:
        if self._listener is not None or "numba" not in sys.modules:
            return
        from numba.core import event

        self._listener = event.TimingListener()
        event.register("numba:compiler_lock", self._listener)

    def stop(self) -> float:
        """Stop listening; the seconds measured so far."""
        if self._listener is not None:
            from numba.core import event

            event.unregister("numba:compiler_lock", self._listener)
            if self._listener.done:
                self._seconds += self._listener.duration
            self._listener = None
        return self._seconds
