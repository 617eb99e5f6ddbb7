"""The .hog reader and writer against the C++ reference files."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.pipeline.errors import InputError
from aubench.pipeline.io.hog_file import HogWriter, read_hog, write_hog
from tests.conftest import REFERENCE

HOGS = sorted(REFERENCE.glob("*/*.hog"))


@pytest.mark.parametrize("path", HOGS, ids=lambda p: p.name)
def test_round_trip_is_byte_identical(path, tmp_path):
    hog = read_hog(path)
    assert hog.descriptors.shape[1:] == (12, 12, 31) and hog.descriptors.dtype == np.float32
    out = write_hog(tmp_path / path.name, hog.descriptors, hog.good)
    assert out.read_bytes() == path.read_bytes()


def test_good_flags_and_values():
    hog = read_hog(REFERENCE / "multi_face" / "multi_face.hog")
    assert len(hog) == 702 and hog.good.sum() == 700  # the two failed frames are flagged -1
    default = read_hog(REFERENCE / "default" / "default.hog")
    assert len(default) == 288 and default.good.all()
    assert np.isfinite(default.descriptors).all() and default.descriptors.max() > 0


def test_truncated_file_is_one_line_error(tmp_path):
    raw = (REFERENCE / "default" / "default.hog").read_bytes()
    bad = tmp_path / "cut.hog"
    bad.write_bytes(raw[: 3 * 17872 + 100])
    with pytest.raises(InputError, match="truncated") as err:
        read_hog(bad)
    assert "\n" not in str(err.value) and str(bad) in str(err.value)
    bad.write_bytes(raw[:10])
    with pytest.raises(InputError, match="truncated"):
        read_hog(bad)


def test_writer_flushes_whole_records(tmp_path):
    path = tmp_path / "live.hog"
    w = HogWriter(path)
    w.write(np.ones((12, 12, 31)), True)
    w.write(np.zeros((12, 12, 31)), False)
    hog = read_hog(path)  # before close
    assert hog.good.tolist() == [True, False] and hog.descriptors[0].min() == 1.0
    w.close()


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=0, max_size=400))
def test_corrupted_bytes_never_crash(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("h") / "x.hog"
    path.write_bytes(np.array([12, 12, 31], "<i4").tobytes() + blob)
    try:
        read_hog(path)
    except InputError as exc:
        assert "\n" not in str(exc)
