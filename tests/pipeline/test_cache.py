"""The derived-array cache (pipeline.cache) and the CCNF Sigmas it keeps across runs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from pipeline import cache
from pipeline.landmarks import patch_experts as pe
from pipeline.models.ccnf import read_ccnf_scale

from ..conftest import MODELS


@pytest.fixture
def cache_in(tmp_path, monkeypatch):
    monkeypatch.setenv("AUBENCH_CACHE_DIR", str(tmp_path / "c"))
    return tmp_path / "c"


@settings(max_examples=25, deadline=None)
@given(arr=arrays(st.sampled_from([np.float32, np.float64, np.int32]), array_shapes(max_dims=3, max_side=6)))
def test_round_trip_of_any_array(tmp_path_factory, arr):
    import os

    before = os.environ["AUBENCH_CACHE_DIR"]
    os.environ["AUBENCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("c"))
    try:
        assert cache.save_array("k-1", arr)
        back = cache.load_array("k-1", arr.shape, arr.dtype)
        np.testing.assert_array_equal(back, arr)
        assert cache.load_array("k-1", arr.shape + (1,), arr.dtype) is None  # another shape: a miss
        assert cache.load_array("k-2", arr.shape, arr.dtype) is None
    finally:
        os.environ["AUBENCH_CACHE_DIR"] = before


def test_bad_entries_are_misses_and_get_rewritten(cache_in):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert cache.save_array("x", a)
    (cache_in / "x.npy").write_bytes(b"\x93NUMPY garbage")
    assert cache.load_array("x", (3, 4), np.float32) is None
    assert cache.load_array("x", (3, 4), np.float64) is None
    assert cache.save_array("x", a)
    np.testing.assert_array_equal(cache.load_array("x", (3, 4), np.float32), a)
    assert not list(cache_in.glob(".*.tmp"))  # no temporary left behind
    with pytest.raises(ValueError, match="cache key"):
        cache.save_array("../escape", a)


def test_off_and_unwritable_caches_never_fail(tmp_path, monkeypatch):
    a = np.ones(3)
    monkeypatch.setenv("AUBENCH_CACHE_DIR", "off")
    assert cache.cache_dir() is None and not cache.save_array("y", a) and cache.load_array("y", (3,), a.dtype) is None
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("AUBENCH_CACHE_DIR", str(blocker / "sub"))
    assert not cache.save_array("y", a)
    monkeypatch.delenv("AUBENCH_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "aubench"


def test_sigmas_are_computed_once_then_read_back(cache_in, monkeypatch):
    experts = read_ccnf_scale(MODELS / "model" / "patch_experts" / "ccnf_patches_0.5_general.txt")
    assert len(experts.sha256) == 64
    first = pe.SigmaCache().sigmas(2, experts, 0, 7)
    assert len(list(cache_in.glob("ccnf-sigma-v1-*-view0-w7.npy"))) == 1

    def refuse(*args):
        raise AssertionError("recomputed although cached")

    monkeypatch.setattr(pe, "compute_sigma", refuse)
    again = pe.SigmaCache().sigmas(2, experts, 0, 7)
    np.testing.assert_array_equal(again, first)
    with pytest.raises(AssertionError, match="recomputed"):
        pe.SigmaCache().sigmas(2, experts, 0, 9)  # another window: not in the cache
