"""One video on two cores: the run loop's work split over threads, output identical to the one-thread loop.

Tracking is sequential (each frame's fit starts from the previous one), but decoding, the AU stage and
writing are not part of that chain. With ``[runtime] pipeline`` (``aubench run --pipeline``) a run uses:

- a **decode thread** (:class:`Prefetch`) that reads frames ahead into a short queue (OpenCV's decoder
  and colour conversion release the GIL);
- the **calling thread**, which tracks each frame (``DetectLandmarksInVideo``, pose, gaze) as soon as it
  is decoded;
- an **analysis thread** (:class:`InOrderWorker`) that takes the tracked frames in order through the AU
  stage (``FaceAnalyser::AddNextFrame``: its running medians need every earlier frame, so one thread,
  in order) and writes each row, FHOG record and aligned face.

The Numba kernels run without the GIL (``nogil``), so the two busy threads overlap where it matters.
Every frame sees the same inputs in the same order as in the one-thread loop, so the outputs are
byte-identical (``tests/pipeline/test_pipelined.py``). A stop (Ctrl-C, SIGTERM, an error) still writes
every frame already tracked before the outputs close: nothing tracked is lost.

The queues are short (:data:`DEPTH` frames): memory stays that of a few frames.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

DEPTH = 4  # frames decoded ahead, and tracked frames waiting for the AU stage
_END = object()


class Prefetch:
    """Iterates ``frames`` (the first ``limit`` of them) on a thread of its own, ``depth`` items ahead; an
    exception there is raised here.

    :meth:`close` stops the thread and closes the iterator on that thread (so a decoder is released by the
    thread that used it) before returning; call it before closing the input it reads.
    """

    def __init__(self, frames: Iterator, limit: int | None = None, depth: int = DEPTH, name: str = "aubench-decode"):
        self._frames = frames
        self._limit = limit
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            n = 0
            while self._limit is None or n < self._limit:
                item = next(self._frames, _END)
                if item is _END or not self._put(("item", item)):
                    break
                n += 1
            self._put(("end", None))
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(("error", exc))
        finally:
            close = getattr(self._frames, "close", None)
            if close is not None:
                close()

    def __iter__(self) -> Iterator:
        while True:
            kind, value = self._queue.get()
            if kind == "item":
                yield value
            elif kind == "end":
                return
            else:
                raise value

    def close(self) -> None:
        self._stop.set()
        while self._thread.is_alive():
            try:  # unblock a put waiting on a full queue
                self._queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self._thread.join()


class InOrderWorker:
    """Runs ``handle(item)`` for each submitted item, in submission order, on one thread.

    ``submit`` blocks while ``depth`` items wait. The first exception ``handle`` raises stops the worker;
    it is raised again by the next :meth:`submit` or by :meth:`finish`. :meth:`finish` waits until every
    item submitted before it is handled (or the worker failed).
    """

    def __init__(self, handle: Callable[[Any], None], depth: int = DEPTH, name: str = "aubench-analyse"):
        self._handle = handle
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.handled = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if self.error is not None:
                continue  # failed: drain without handling, so submit never blocks for ever
            try:
                self._handle(item)
                self.handled += 1
            except BaseException as exc:
                self.error = exc

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def submit(self, item: Any) -> None:
        self._raise()
        self._queue.put(item)

    def finish(self) -> None:
        """Handle everything submitted, stop the thread, raise the worker's error if it had one."""
        if self._thread.is_alive():
            self._queue.put(_END)
            self._thread.join()
        self._raise()
