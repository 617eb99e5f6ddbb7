"""``aubench detect``: the CSV columns of reference/detections, --frames, --timing, errors as one line."""

from __future__ import annotations

import csv

from aubench.cli import main

from ...conftest import MEDIA, REFERENCE


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_image_detections_like_reference(tmp_path, capsys):
    out = tmp_path / "sample6.csv"
    assert main(["detect", str(MEDIA / "sample6.jpg"), "-o", str(out), "--variant", "mtcnn_conv=im2col"]) == 0
    rows, ref = _rows(out), _rows(REFERENCE / "detections" / "sample6.csv")
    assert list(rows[0]) == list(ref[0])
    assert len(rows) == len(ref) == 12
    for a, b in zip(rows, ref):
        assert a["face_idx"] == b["face_idx"] and a["num_detections"] == b["num_detections"]
        for key in ("x", "y", "w", "h"):
            assert abs(float(a[key]) - float(b[key])) < 0.01
    assert "12 detections" in capsys.readouterr().out


def test_video_frames_and_timing(tmp_path, capsys):
    out = tmp_path / "d.csv"
    assert main(["detect", str(MEDIA / "default.wmv"), "-o", str(out), "--frames", "3", "--timing"]) == 0
    rows = _rows(out)
    assert [r["frame"] for r in rows] == ["1", "2", "3"]
    printed = capsys.readouterr().out
    assert "first frame" in printed and "median over frames 2..3" in printed


def test_errors_are_one_line(tmp_path, capsys):
    assert main(["detect", str(tmp_path / "nope.jpg"), "-o", str(tmp_path / "x.csv")]) == 2
    assert main(["detect", str(MEDIA / "sample1.jpg"), "-o", str(tmp_path / "x.csv"), "--variant", "mtcnn_conv=fastest"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "nope.jpg" in err[0] and "im2col" in err[1]
