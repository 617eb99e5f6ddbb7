"""The CSV writer against the C++ reference files, byte for byte."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.pipeline.config import OutputParameters
from aubench.pipeline.errors import InputError
from aubench.pipeline.io.csv_out import CsvSchema, CsvWriter, format_row, rewrite_au_columns, write_csv
from aubench.pipeline.io.openface_csv import read_openface_csv
from aubench.pipeline.io.records import FaceRecord
from tests.conftest import REFERENCE

VIDEO_CSVS = [REFERENCE / "default" / "default.csv", REFERENCE / "multi_face" / "multi_face.csv"]
IMAGE_CSVS = sorted((REFERENCE / "images").glob("*.csv"))


def _header(path):
    with path.open() as fh:
        return fh.readline()


def test_headers_match_the_reference():
    assert CsvSchema(sequence=True).header() == _header(REFERENCE / "default" / "default.csv")
    assert CsvSchema(sequence=False).header() == _header(REFERENCE / "images" / "sample1.csv")
    assert len(CsvSchema().columns()) == 714


@pytest.mark.parametrize("path", VIDEO_CSVS, ids=lambda p: p.name)
def test_video_csv_round_trip_is_byte_identical(path, tmp_path):
    """Parse the C++ CSV, write the records, rewrite the AU columns as post-processing does."""
    table = read_openface_csv(path)
    out = write_csv(tmp_path / path.name, table.records(), CsvSchema(sequence=True))
    # before post-processing the occurrence columns carry 1 decimal, as RecorderCSV writes them
    first_row = out.read_text().splitlines()[1].split(",")
    assert first_row[-1] in ("0.0", "1.0")
    rewrite_au_columns(out, table.au_intensity(), table.au_occurrence())
    assert out.read_bytes() == path.read_bytes()


@pytest.mark.parametrize("path", IMAGE_CSVS + [pytest.param(REFERENCE / "multi_face" / "FaceLandmarkVidMulti" / "multi_face.csv",
                                                            marks=pytest.mark.slow)],  # a whole clip, 3 faces a frame
                         ids=lambda p: p.parent.name + "/" + p.name)
def test_unpostprocessed_csv_round_trip_is_byte_identical(path, tmp_path):
    table = read_openface_csv(path)
    out = write_csv(tmp_path / path.name, table.records(), CsvSchema(sequence=table.is_sequence))
    assert out.read_bytes() == path.read_bytes()


def test_blocks_follow_output_flags():
    out = OutputParameters(gaze=False, landmarks_3d=False, aus=False)
    cols = CsvSchema.from_output(out).columns()
    assert cols[:6] == ["frame", "face_id", "timestamp", "confidence", "success", "pose_Tx"]
    assert not any(c.startswith(("gaze", "eye_lmk", "X_", "AU")) for c in cols)
    assert cols[-1] == "p_33"


def test_empty_aus_are_written_as_zero_and_rows_match_header():
    schema = CsvSchema()
    row = format_row(FaceRecord(frame=3, timestamp=0.2, confidence=0.5, success=True), schema)
    cells = row.rstrip("\n").split(",")
    assert len(cells) == len(schema.columns())
    assert cells[:5] == ["3", "0", "0.200", "0.50", "1"]
    assert cells[-35:] == ["0"] * 35


def test_float_fields_are_rounded_through_float32():
    """C++ keeps landmarks in float: 0.05 (float32 0.0500000007) prints 0.1 at 1 dp, as C++ does."""
    rec = FaceRecord(frame=1)
    rec.landmarks_2d[0, 0] = 0.05  # float64 0.05 is below .05; float32 above
    rec.pose[:] = [0.25, -0.04, 1.0, 0.0005, -0.0, 3.14159]
    cells = dict(zip(CsvSchema().columns(), format_row(rec, CsvSchema()).rstrip("\n").split(",")))
    assert cells["x_0"] == "0.1"
    assert cells["pose_Ty"] == "-0.0"
    assert cells["pose_Rx"] == "0.001"  # float32(0.0005) > 0.0005


def test_rows_are_flushed_as_written(tmp_path):
    path = tmp_path / "part.csv"
    w = CsvWriter(path, CsvSchema())
    w.write(FaceRecord(frame=1))
    w.write(FaceRecord(frame=2))
    # not closed: another reader sees the header and two whole rows
    table = read_openface_csv(path)
    assert table.frame.tolist() == [1, 2]
    w.close()


def test_rewrite_is_atomic_and_checks_lengths(tmp_path):
    path = write_csv(tmp_path / "a.csv", [FaceRecord(frame=1), FaceRecord(frame=2)], CsvSchema())
    before = path.read_bytes()
    schema = CsvSchema()
    reg = {n: [0.0, 1.0] for n in schema.intensity_names}
    cls = {n: [1.0] for n in schema.occurrence_names}  # wrong length
    with pytest.raises(InputError, match="AU01_c"):
        rewrite_au_columns(path, reg, cls)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]  # no temp file left
    with pytest.raises(InputError, match="AU28_c"):
        rewrite_au_columns(path, reg, {n: [1.0, 0.0] for n in schema.intensity_names})
    rewrite_au_columns(path, reg, {n: [1.0, 0.0] for n in schema.occurrence_names})
    rows = [r.split(",") for r in path.read_text().splitlines()[1:]]
    assert rows[1][-1] == "0.00" and rows[0][-1] == "1.00" and rows[1][-35] == "1.00"


finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, width=32)


@settings(max_examples=60, deadline=None)
@given(st.lists(finite, min_size=68 * 2, max_size=68 * 2), st.lists(finite, min_size=6, max_size=6),
       st.floats(0, 1), st.booleans())
def test_written_values_read_back_within_half_a_unit(lm, pose, conf, ok):
    rec = FaceRecord(frame=7, confidence=conf, success=ok)
    rec.landmarks_2d = np.array(lm, dtype=np.float64).reshape(2, 68).T
    rec.pose = np.array(pose, dtype=np.float64)
    line = CsvSchema().header() + format_row(rec, CsvSchema())
    names = CsvSchema().columns()
    cells = dict(zip(names, line.splitlines()[1].split(",")))
    assert abs(float(cells["x_5"]) - rec.landmarks_2d[5, 0]) <= 0.05 + 1e-3
    assert abs(float(cells["y_67"]) - rec.landmarks_2d[67, 1]) <= 0.05 + 1e-3
    assert abs(float(cells["pose_Rz"]) - pose[5]) <= 0.0005 + 1e-3
    assert cells["success"] == ("1" if ok else "0")
