"""Aligned faces written as OpenFace names and encodes them."""

from __future__ import annotations

import cv2
import numpy as np

from aubench.pipeline.io.aligned import AlignedWriter, aligned_name
from tests.conftest import REFERENCE


def test_names():
    assert aligned_name(1) == "frame_det_00_000001.bmp"
    assert aligned_name(288, face_id=3) == "frame_det_03_000288.bmp"
    assert aligned_name(1, face_id=11, sequence=False) == "face_det_000011.bmp"


def test_bmp_bytes_match_the_reference(tmp_path):
    w = AlignedWriter(tmp_path / "default_aligned")
    for name in ("frame_det_00_000001.bmp", "frame_det_00_000050.bmp"):
        ref = REFERENCE / "default" / "default_aligned" / name
        frame = int(name[-10:-4])
        out = w.write(frame, cv2.imread(str(ref)), True)
        assert out.name == name and out.read_bytes() == ref.read_bytes()


def test_nobadaligned_skips_failed_frames(tmp_path):
    img = np.zeros((112, 112, 3), np.uint8)
    w = AlignedWriter(tmp_path / "a", nobadaligned=True)
    assert w.write(1, img, False) is None and not any((tmp_path / "a").iterdir())
    w = AlignedWriter(tmp_path / "b", nobadaligned=False)
    assert w.write(1, img, False).is_file()
