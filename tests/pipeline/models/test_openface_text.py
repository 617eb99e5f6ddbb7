"""OpenFace's text matrix format: parsing, comment skipping and errors on damaged input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.pipeline.errors import ModelFormatError
from aubench.pipeline.models.openface_text import TextMatReader, read_mats


def test_reads_matrices_between_comment_lines(tmp_path):
    path = tmp_path / "m.txt"
    path.write_text("# first\n2\n3\n6\n1 2 3\n4 5 6\n# second\n\n1\n2\n4\n7 -8\n")
    a, b = read_mats(path, 2)
    assert a.dtype == np.float64 and a.shape == (2, 3)
    np.testing.assert_array_equal(a, [[1, 2, 3], [4, 5, 6]])
    assert b.dtype == np.int32
    np.testing.assert_array_equal(b, [[7, -8]])


def test_type_codes_map_to_dtypes(tmp_path):
    path = tmp_path / "m.txt"
    path.write_text("1 1 5 0.5\n1 1 0 255\n")
    reader = TextMatReader(path)
    assert reader.read_mat().dtype == np.float32
    assert reader.read_mat().dtype == np.uint8
    assert reader.at_end()


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("2 2 6 1 2 3\n", "end of file"),
        ("2 2 7 1 2 3 4\n", "type code"),
        ("2 x 6 1 2 3 4\n", "column count"),
        ("1 2 6 1 nope\n", "'nope'"),
        ("1 1 4 1.5\n", "integers"),
        ("1 1 6 nan\n", "finite"),
        ("-1 2 6\n", "plausible size"),
    ],
)
def test_damaged_files_raise_one_line_errors(tmp_path, text, fragment):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ModelFormatError) as err:
        TextMatReader(path).read_mat()
    assert str(path) in str(err.value) and fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(ModelFormatError, match="no such file"):
        TextMatReader(tmp_path / "absent.txt")
    path = tmp_path / "bin.txt"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ModelFormatError, match="non-ASCII"):
        TextMatReader(path)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_model_format_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "m.txt"
    path.write_bytes(data)
    try:
        read_mats(path, 2)
    except ModelFormatError:
        pass
