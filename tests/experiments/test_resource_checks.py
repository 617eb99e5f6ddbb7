"""experiments.memory_check and experiments.warmup_check on a few frames (the whole-clip runs are for the harness)."""

from __future__ import annotations

import pytest

from experiments import memory_check, warmup_check
from tests.conftest import MEDIA

VIDEO = str(MEDIA / "default.wmv")


@pytest.mark.slow
def test_memory_check_prints_both_passes_and_passes_a_generous_limit(capsys):
    assert memory_check.main([VIDEO, "--frames", "3", "--max-growth-mib", "1000"]) == 0
    out = capsys.readouterr().out
    assert "after pass 1 (3 frames" in out and "after pass 2 (3 frames" in out
    assert "OK" in out


@pytest.mark.slow
def test_memory_check_reports_every_pass_to_pass_growth(capsys):
    assert memory_check.main([VIDEO, "--frames", "2", "--passes", "3", "--max-growth-mib", "1000"]) == 0
    out = capsys.readouterr().out
    assert "after pass 3 (2 frames" in out
    assert "growth pass 1 -> pass 2" in out and "growth pass 2 -> pass 3" in out


def test_memory_check_fails_when_growth_exceeds_the_limit(capsys):
    # A negative limit cannot be met: the exit status must say so.
    assert memory_check.main([VIDEO, "--frames", "2", "--max-growth-mib", "-1"]) == 1
    assert "GROWS" in capsys.readouterr().out


def test_warmup_child_times_the_same_frame_twice():
    r = warmup_check._child(VIDEO, "fast", None)
    assert set(r) == {"import_s", "load_s", "first_frame_s", "again_s", "warmup_s"}
    assert r["again_s"] > 0 and abs(r["warmup_s"] - (r["first_frame_s"] - r["again_s"])) < 1e-9
