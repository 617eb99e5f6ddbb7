"""Telling the user that Numba is compiling the kernels, and how long it took.

The compiled variants are cached on disk (``cache=True``, :mod:`aubench.variants._jit`).
On a machine (or a ``NUMBA_CACHE_DIR``) where that cache is cold, the first frame of the
first run compiles every kernel it calls: tens of seconds with the progress bar at frame 1.
:class:`CompileNotice` says so once, when the first compilation starts, and says how long it
took once the frame is done.

It listens to Numba's ``numba:compile`` event, which ``Dispatcher.compile`` fires only when
the cache has no machine code for the call (a cache load fires nothing). With a warm cache
the cost is one listener registered and unregistered per run, and nothing is written.
Compilations of functions without a disk cache are not counted: they would recur every run,
and the notice promises a one-off.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable


def _cached(dispatcher: object) -> bool:
    """Whether ``dispatcher`` saves what it compiles (a ``cache=True`` function)."""
    cache = getattr(dispatcher, "_cache", None)
    return cache is not None and type(cache).__name__ != "NullCache"


class CompileNotice:
    """Writes one line when Numba starts compiling cached kernels and one when that is done.

    Parameters
    ----------
    write : takes one line of text (e.g. ``tqdm.write`` onto stderr), or None to say nothing
        (quiet).

    Use :meth:`start` once the kernels are resolved (Numba is imported by then; before that
    there is nothing to listen to), :meth:`frame_done` after each frame and :meth:`stop` at
    the end. ``seconds`` and ``kernels`` total what was compiled while listening.
    """

    def __init__(self, write: Callable[[str], None] | None):
        self.write = write
        self.seconds = 0.0
        self.kernels = 0
        self._listener = None
        self._announced = False
        self._burst_s = 0.0
        self._burst_n = 0

    def start(self) -> None:
        if self.write is None or self._listener is not None or "numba" not in sys.modules:
            return
        from numba.core import event

        notice = self

        class _Listener(event.Listener):
            depth = 0  # nested events: a kernel's compilation compiles the kernels it calls
            t0 = 0.0

            def on_start(self, ev):
                if not _cached(ev.data.get("dispatcher")):
                    return
                if self.depth == 0:
                    self.t0 = time.perf_counter()
                    notice._compiling()
                self.depth += 1

            def on_end(self, ev):
                if not _cached(ev.data.get("dispatcher")):
                    return
                self.depth -= 1
                if self.depth == 0:
                    notice._compiled(time.perf_counter() - self.t0)

        self._listener = _Listener()
        event.register("numba:compile", self._listener)

    def _compiling(self) -> None:
        if not self._announced:
            self._announced = True
            where = os.environ.get("NUMBA_CACHE_DIR")
            where = f" in {where}" if where else ""
            self.write("aubench: compiling the Numba kernels for this machine; this happens once, "
                       f"later runs load them from Numba's cache{where}")

    def _compiled(self, seconds: float) -> None:
        self.seconds += seconds
        self.kernels += 1
        self._burst_s += seconds
        self._burst_n += 1

    def frame_done(self) -> None:
        """Say how long the compilations since the last call took, if there were any."""
        if self._burst_n and self.write is not None and (self._listener is None or self._listener.depth == 0):
            more = "" if self._burst_n == self.kernels else " more"
            self.write(f"aubench: compiled {self._burst_n}{more} kernel{'s' if self._burst_n != 1 else ''} "
                       f"in {self._burst_s:.1f} s")
            self._burst_s, self._burst_n = 0.0, 0

    def stop(self) -> None:
        """Stop listening; report compilations not reported yet."""
        if self._listener is not None:
            from numba.core import event

            event.unregister("numba:compile", self._listener)
            self.frame_done()
            self._listener = None
