"""The OpenFace CSV reader on the reference files."""

from __future__ import annotations

import numpy as np
import pytest

from aubench.pipeline.errors import InputError
from aubench.pipeline.io.openface_csv import read_openface_csv
from tests.conftest import REFERENCE


def test_video_blocks():
    t = read_openface_csv(REFERENCE / "default" / "default.csv")
    assert t.is_sequence and len(t) == 288
    assert t.landmarks_2d().shape == (288, 68, 2) and t.landmarks_3d().shape == (288, 68, 3)
    assert t.eye_landmarks_2d().shape == (288, 56, 2) and t.eye_landmarks_3d().shape == (288, 56, 3)
    assert t.params_local().shape == (288, 34) and t.params_global().shape == (288, 6)
    assert t.pose().shape == (288, 6)
    g0, g1, ga = t.gaze()
    assert g0.shape == (288, 3) and ga.shape == (288, 2)
    assert t.frame[0] == 1 and t.success.all() and t.confidence[0] == pytest.approx(0.98)
    assert t.landmarks_2d()[0, 0].tolist() == [t.column("x_0")[0], t.column("y_0")[0]] == [147.5, 219.1]
    assert len(t.au_intensity()) == 17 and len(t.au_occurrence()) == 18
    rec = t.records()[0]
    assert rec.frame == 1 and rec.landmarks_2d[0, 1] == 219.1 and rec.au_occurrence["AU28"] in (0.0, 1.0)


def test_image_schema():
    t = read_openface_csv(REFERENCE / "images" / "sample6.csv")
    assert not t.is_sequence and len(t) == 12
    assert t.face_id.tolist() == list(range(12)) and t.success.all() and (t.timestamp == 0).all()
    assert t.landmarks_2d().shape == (12, 68, 2)


def test_failed_frames_read_as_failures():
    t = read_openface_csv(REFERENCE / "multi_face" / "multi_face.csv")
    assert (~t.success).sum() == 2


def test_missing_columns_are_named(tmp_path):
    path = tmp_path / "few.csv"
    path.write_text("frame,face_id,timestamp,confidence,success,x_0\n1,0,0.000,0.9,1,3.0\n")
    t = read_openface_csv(path)
    with pytest.raises(InputError, match="'y_0'") as err:
        t.landmarks_2d()
    assert str(path) in str(err.value)
    with pytest.raises(InputError, match="'pose_Tx'"):
        t.pose()
    rec = t.records()[0]  # missing blocks stay zero
    assert rec.landmarks_2d.shape == (68, 2) and not rec.landmarks_2d.any()


@pytest.mark.parametrize("text, match", [
    ("", "header"),
    ("a,b\n1,2\n", "header"),
    ("frame,face_id\n1,x\n", "unreadable"),
    ("frame,face_id\n1,2,3\n", "unreadable|columns"),
    ("frame,frame\n1,2\n", "twice"),
])
def test_bad_files(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as err:
        read_openface_csv(path)
    assert "\n" not in str(err.value)


def test_header_spaces_are_stripped(tmp_path):
    path = tmp_path / "old.csv"
    path.write_text("frame, face_id, timestamp, confidence, success\n1, 0, 0.0, 0.9, 1\n")
    t = read_openface_csv(path)
    assert t.confidence.tolist() == [0.9] and np.array_equal(t.frame, [1])


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_HEADER = (REFERENCE / "default" / "default.csv").read_text().splitlines()[0]
_ROW = (REFERENCE / "default" / "default.csv").read_text().splitlines()[1]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, len(_ROW) - 1), st.text(alphabet=",.-0123456789eE \nx\x00é", max_size=8),
       st.integers(0, 6))
def test_corrupted_rows_are_read_or_one_line_errors(tmp_path_factory, pos, junk, cut):
    row = _ROW[:pos] + junk + _ROW[pos + cut:]
    path = tmp_path_factory.mktemp("c") / "x.csv"
    path.write_text(_HEADER + "\n" + row + "\n", encoding="utf-8")
    try:
        table = read_openface_csv(path)
    except InputError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
    else:
        assert len(table.names) == 714 and all(v.shape == (len(table),) for v in table.columns.values())
