"""The derived-array cache (aubench.pipeline.cache) and the CCNF Sigmas it keeps across runs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from aubench.pipeline import cache
from aubench.pipeline.landmarks import patch_experts as pe
from aubench.pipeline.models.ccnf import _parse_ccnf_scale, read_ccnf_scale

from ..conftest import MODELS


@pytest.fixture
def cache_in(tmp_path, monkeypatch):
    monkeypatch.setenv("AUBENCH_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setattr(cache, "_RACY_NS", -1)  # the tests' model copies are fresh: store them anyway
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


def test_parsed_models_are_read_back_until_the_file_changes(cache_in, tmp_path):
    src = MODELS / "model" / "patch_experts" / "ccnf_patches_0.5_general.txt"
    copy = tmp_path / "experts.txt"
    copy.write_bytes(src.read_bytes())
    calls = []

    def parse(path):
        calls.append(path)
        return _parse_ccnf_scale(path)

    first = cache.parsed("CCNFScale", 1, copy, parse)
    again = cache.parsed("CCNFScale", 1, copy, parse)
    assert len(calls) == 1 and again is not first
    assert again.sha256 == first.sha256 and again.patch_scaling == first.patch_scaling
    np.testing.assert_array_equal(again.experts[0][5].weights, first.experts[0][5].weights)
    assert len(list(cache_in.glob("parsed-CCNFScale-v1-*.pkl"))) == 1
    cache.parsed("CCNFScale", 2, copy, parse)  # a new parser version parses again
    assert len(calls) == 2
    before = copy.stat().st_mtime_ns
    copy.write_bytes(src.read_bytes()[:-1] + b"\x00")  # same size, new content and mtime
    if copy.stat().st_mtime_ns == before:  # a coarse file-system clock: make the change visible
        import os

        os.utime(copy, ns=(before, before + 10_000_000))
    cache.parsed("CCNFScale", 1, copy, parse)
    assert len(calls) == 3


def test_a_broken_or_foreign_parsed_entry_is_a_miss(cache_in, tmp_path):
    f = tmp_path / "m.txt"
    f.write_text("x")
    assert cache.parsed("dict", 1, f, lambda p: {"n": 1}) == {"n": 1}
    (entry,) = cache_in.glob("parsed-dict-v1-*.pkl")
    entry.write_bytes(b"not a pickle")
    assert cache.parsed("dict", 1, f, lambda p: {"n": 2}) == {"n": 2}
    assert cache.parsed("list", 1, f, lambda p: [3]) == [3]  # another kind never reads a dict entry


def test_read_ccnf_scale_uses_the_cache(cache_in):
    path = MODELS / "model" / "patch_experts" / "ccnf_patches_0.5_general.txt"
    a = read_ccnf_scale(path)
    b = read_ccnf_scale(path)
    assert a is not b and a.sha256 == b.sha256 and len(list(cache_in.glob("parsed-CCNFScale-*.pkl"))) == 1


def test_read_pdm_uses_the_cache_and_keeps_its_arrays_read_only(cache_in, tmp_path):
    from aubench.pipeline.models.pdm import _parse_pdm, read_pdm

    path = MODELS / "model" / "pdms" / "In-the-wild_aligned_PDM_68.txt"
    a, b = read_pdm(path), read_pdm(path)
    assert a is not b and len(list(cache_in.glob("parsed-PDMModel-*.pkl"))) == 1
    fresh = _parse_pdm(path)
    for name in ("mean_shape", "princ_comp", "eigen_values"):
        np.testing.assert_array_equal(getattr(b, name), getattr(fresh, name))
        assert getattr(b, name).dtype == np.float32 and not getattr(b, name).flags.writeable
    # the same file under another name: the cached shape, that name
    link = tmp_path / "other_name.txt"
    link.symlink_to(path)
    assert read_pdm(link).path == link


def test_read_network_uses_the_cache_and_keeps_the_callers_name(cache_in):
    from aubench.pipeline.models.mtcnn_dat import _parse_network, read_network

    path = MODELS / "model" / "mtcnn_detector" / "RNet.dat"
    a, b = read_network(path), read_network(path, "RNet-as-named")
    assert len(list(cache_in.glob("parsed-Network-*.pkl"))) == 1
    assert a.name == "RNet" and b.name == "RNet-as-named" and b.path == path
    fresh = _parse_network(path)
    assert [layer.kind for layer in b.layers] == [layer.kind for layer in fresh.layers]
    for x, y in zip(b.layers, fresh.layers):
        for field in ("weights", "bias"):
            if getattr(y, field) is not None:
                np.testing.assert_array_equal(getattr(x, field), getattr(y, field))


def test_read_validator_uses_the_cache(cache_in):
    from aubench.pipeline.models.validator import _parse_validator, read_validator

    path = MODELS / "model" / "detection_validation" / "validator_cnn.txt"
    a, b = read_validator(path), read_validator(path)
    assert a is not b and b.path == path and len(list(cache_in.glob("parsed-ValidatorModel-*.pkl"))) == 1
    fresh = _parse_validator(path)
    assert len(b.views) == len(fresh.views)
    for x, y in zip(b.views, fresh.views):
        np.testing.assert_array_equal(x.mean_image, y.mean_image)
        np.testing.assert_array_equal(x.paw.pixel_mask, y.paw.pixel_mask)
        assert [layer.kind for layer in x.layers] == [layer.kind for layer in y.layers]


def _after_the_next_clock_tick(path):
    """Wait (no time limit asserted) until a file changed now gets a later ctime than ``path`` has."""
    probe = path.with_name(path.name + ".tick")
    while True:
        probe.write_bytes(b"")
        if probe.stat().st_ctime_ns > path.stat().st_ctime_ns:
            probe.unlink()
            return


def test_a_model_rewritten_in_place_with_its_size_and_mtime_restored_is_parsed_again(cache_in, tmp_path):
    import os

    src = MODELS / "model" / "pdms" / "In-the-wild_aligned_PDM_68.txt"
    copy = tmp_path / "pdm.txt"
    copy.write_bytes(src.read_bytes())
    old = copy.stat()
    first = cache.parsed("bytes", 1, copy, lambda p: p.read_bytes())
    assert len(list(cache_in.glob("parsed-bytes-v1-*.pkl"))) == 1
    _after_the_next_clock_tick(copy)
    data = bytearray(src.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit in the middle: same size
    with open(copy, "r+b") as fh:  # in place: same inode
        fh.write(data)
    os.utime(copy, ns=(old.st_atime_ns, old.st_mtime_ns))
    new = copy.stat()
    assert (new.st_ino, new.st_size, new.st_mtime_ns) == (old.st_ino, old.st_size, old.st_mtime_ns)
    again = cache.parsed("bytes", 1, copy, lambda p: p.read_bytes())
    assert again == bytes(data) and again != first


def test_a_file_changed_seconds_ago_is_parsed_but_not_stored(tmp_path, monkeypatch):
    monkeypatch.setenv("AUBENCH_CACHE_DIR", str(tmp_path / "c"))
    f = tmp_path / "fresh.txt"
    f.write_text("x")
    assert cache.parsed("str", 1, f, lambda p: p.read_text()) == "x"
    assert not list((tmp_path / "c").glob("parsed-*.pkl"))
