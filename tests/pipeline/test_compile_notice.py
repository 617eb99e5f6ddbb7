"""The compile notice: said once when Numba compiles cached kernels, silent when its cache is warm."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

PROBE = '''
from aubench.variants._jit import jit


@jit
def add(a, b):
    return a + b


@jit(cache=False)
def not_cached(a):
    return a * 2
'''

DRIVER = '''
import sys
sys.path.insert(0, sys.argv[1])
import numba  # noqa: F401  (the notice listens only once Numba is loaded)
import probe
from aubench.pipeline.compile_notice import CompileNotice

notice = CompileNotice(print)
notice.start()
probe.not_cached(1)  # compiled every run, never cached: not announced
notice.frame_done()
probe.add(1, 2)
notice.frame_done()
probe.add(1.0, 2.0)  # a second signature, compiled in a later "frame"
notice.stop()
print("kernels", notice.kernels)
'''


def _drive(folder, cache):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(folder)], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


@pytest.mark.slow
def test_notice_on_a_cold_cache_only(tmp_path):
    (tmp_path / "probe.py").write_text(textwrap.dedent(PROBE))
    cache = tmp_path / "numba_cache"
    cold = _drive(tmp_path, cache)
    assert len(cold) == 4, cold
    assert cold[0].startswith("aubench: compiling the Numba kernels") and str(cache) in cold[0]
    assert cold[1].startswith("aubench: compiled 1 kernel in ") and cold[1].endswith(" s")
    assert cold[2].startswith("aubench: compiled 1 more kernel in ")
    assert cold[3] == "kernels 2"
    assert _drive(tmp_path, cache) == ["kernels 0"]  # warm: loaded from the cache, nothing said


def test_quiet_notice_listens_to_nothing():
    from aubench.pipeline.compile_notice import CompileNotice

    notice = CompileNotice(None)
    notice.start()
    assert notice._listener is None
    notice.frame_done()
    notice.stop()
    assert notice.kernels == 0
