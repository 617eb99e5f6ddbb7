"""A fixed calibration workload, timed in the same job as the workload it normalises.

CI machines differ and drift; a timing divided by the time of a fixed,
unchanging workload measured minutes apart on the same machine is far more
stable than a raw timing (the gate compares such normalised figures). The
workload mixes what the pipeline spends its time on: small NumPy array
arithmetic, a small float32 matrix product, an OpenCV-free 2-D filter by
slicing, and a pure-Python loop (interpreter overhead). It never changes: its
:data:`VERSION` is stored with each figure and a different version makes the
figures "not comparable".
"""

from __future__ import annotations

import time

import numpy as np

VERSION = 2


def _numpy_part(a: np.ndarray, b: np.ndarray) -> float:
    acc = 0.0
    for _ in range(120):
        c = a @ b                                  # 64x64 float32 product (single BLAS call)
        d = c[1:-1, 1:-1] + c[:-2, 1:-1] + c[2:, 1:-1] + c[1:-1, :-2] + c[1:-1, 2:]
        e = np.exp(-np.abs(d) * 1e-3)
        acc += float(e.sum())
    return acc


def _python_part() -> int:
    total = 0
    table = {}
    for i in range(150_000):
        total += (i * 7) % 13
        if i % 97 == 0:
            table[i] = total
    return total + len(table)


def run_once() -> tuple[float, float]:
    """One pass of the calibration workload: (wall ms, process CPU ms)."""
    rng = np.random.default_rng(42)
    a = rng.standard_normal((64, 64)).astype(np.float32)
    b = rng.standard_normal((64, 64)).astype(np.float32)
    start, cpu = time.perf_counter(), time.process_time()
    _numpy_part(a, b)
    _python_part()
    return (time.perf_counter() - start) * 1000.0, (time.process_time() - cpu) * 1000.0


def measure(repeats: int = 7, warmup: int = 1) -> dict[str, float | int | list[float]]:
    """``repeats`` passes after ``warmup`` discarded ones (ms): their median and minimum.

    On a shared machine other processes only ever add time, so the minimum is
    the steadiest estimate of the machine's own speed; process CPU time
    (``cpu_*``) is steadier still, as time spent waiting for the CPU is not in it.
    """
    for _ in range(warmup):
        run_once()
    passes = [run_once() for _ in range(repeats)]
    times, cpu = [p[0] for p in passes], [p[1] for p in passes]
    return {"version": VERSION, "median_ms": float(np.median(times)), "min_ms": float(min(times)), "times_ms": times,
            "cpu_median_ms": float(np.median(cpu)), "cpu_min_ms": float(min(cpu))}
