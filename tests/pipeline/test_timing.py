"""Stage timers and the JIT meter."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from aubench.pipeline.timing import NULL_TIMER, JitMeter, StageTimer


def test_stage_timer_and_null_timer():
    timer = StageTimer()
    with timer("a"):
        sum(range(1000))
    timer.count("n", 3)
    timer.next_frame()
    assert timer.frames == 1 and timer.per_frame()["a"][0] > 0 and timer.counters["n"] == [3.0]
    with NULL_TIMER("a"):
        pass
    assert NULL_TIMER.frames == 0


def test_jit_meter_measures_a_compilation_and_nothing_outside_it():
    from aubench.variants._jit import jit

    @jit(cache=False)  # decorating loads Numba; compiling waits for the first call
    def twice(x):
        return 2 * x

    meter = JitMeter()
    meter.start()
    assert twice(np.arange(3.0)).tolist() == [0.0, 2.0, 4.0]
    compiled = meter.stop()
    assert compiled > 0
    twice(np.arange(3.0))  # after stop: not counted
    assert meter.stop() == compiled


def test_jit_meter_does_not_import_numba():
    probe = ("import sys; from aubench.pipeline.timing import JitMeter; m = JitMeter(); m.start(); "
             "print('numba' in sys.modules, m.stop())")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "0.0"]
