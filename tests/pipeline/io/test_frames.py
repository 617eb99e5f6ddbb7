"""Frame sources on the real media: timestamps, grey frames, intrinsics, errors."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from aubench.pipeline.errors import InputError
from aubench.pipeline.io.frames import open_input
from aubench.pipeline.io.openface_csv import read_openface_csv
from tests.conftest import MEDIA, REFERENCE


def test_video_metadata_and_timestamps_match_the_reference():
    src = open_input(MEDIA / "default.wmv")
    assert (src.kind, src.width, src.height, src.fps, src.frame_count) == ("video", 640, 480, 15.0, 288)
    assert src.intrinsics() == (500.0, 500.0, 320.0, 240.0)
    frames = list(itertools.islice(src, 20))
    src.close()
    ref = read_openface_csv(REFERENCE / "default" / "default.csv")
    assert [f.number for f in frames] == list(range(1, 21))
    assert [f"{f.timestamp:.3f}" for f in frames] == [f"{t:.3f}" for t in ref.timestamp[:20]]
    f = frames[3]
    assert f.bgr.shape == (480, 640, 3) and f.bgr.dtype == np.uint8
    assert f.gray.shape == (480, 640) and np.array_equal(f.gray, cv2.cvtColor(f.bgr, cv2.COLOR_BGR2GRAY))


def test_whole_video_count():
    src = open_input(MEDIA / "default.wmv")
    assert sum(1 for _ in src) == 288


def test_config_intrinsics_override_defaults():
    src = open_input(MEDIA / "sample1.jpg")
    w, h = src.width, src.height
    fx, fy, cx, cy = src.intrinsics()
    assert cx == w / 2 and cy == h / 2
    assert fx == fy == pytest.approx((500 * w / 640 + 500 * h / 480) / 2, rel=1e-6)
    assert src.intrinsics(600, 610, 100, 90) == (600, 610, 100, 90)


def test_image_and_folder(tmp_path):
    src = open_input(MEDIA / "sample2.jpg")
    (frame,) = list(src)
    assert src.kind == "image" and src.fps == 0 and frame.number == 1 and frame.timestamp == 0.0
    assert np.array_equal(frame.bgr, cv2.imread(str(MEDIA / "sample2.jpg"), cv2.IMREAD_COLOR))
    # a folder: sorted images, greyscale converted to 3 channels, other files ignored
    shutil.copy(MEDIA / "sample2.jpg", tmp_path / "b.jpg")
    grey = cv2.cvtColor(frame.bgr, cv2.COLOR_BGR2GRAY)
    cv2.imwrite(str(tmp_path / "a.png"), grey)
    (tmp_path / "notes.txt").write_text("x")
    src = open_input(tmp_path)
    frames = list(src)
    assert src.kind == "images" and src.frame_count == 2 and src.stem == tmp_path.name
    assert [f.number for f in frames] == [1, 2] and all(f.timestamp == 0 for f in frames)
    assert frames[0].bgr.shape == frame.bgr.shape and np.array_equal(frames[0].bgr[..., 0], grey)
    assert np.array_equal(frames[1].bgr, frame.bgr)


@pytest.mark.parametrize("make, match", [
    (lambda d: d / "missing.avi", "no such file"),
    (lambda d: (d / "empty.avi").write_bytes(b"") or d / "empty.avi", "empty"),
    (lambda d: (d / "junk.avi").write_bytes(b"not a video" * 100) and d / "junk.avi", "cannot open"),
    (lambda d: (d / "bad.jpg").write_bytes(b"\xff\xd8garbage") and d / "bad.jpg", "cannot decode"),
    (lambda d: (d / "emptydir").mkdir() or d / "emptydir", "no images"),
])
def test_unusable_inputs_are_one_line_errors(tmp_path, make, match):
    path = make(tmp_path)
    with pytest.raises(InputError, match=match) as err:
        open_input(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize("clip, fps, count", [("default", 15.0, 288), ("2015-10-15-15-14", 30.0, 842),
                                              ("multi_face", 30.0, 702)])
def test_every_reference_timestamp(clip, fps, count):
    suffix = ".wmv" if clip == "default" else ".avi"
    src = open_input(MEDIA / f"{clip}{suffix}")
    src.close()
    assert (src.fps, src.frame_count) == (fps, count)
    ref = read_openface_csv(REFERENCE / clip / f"{clip}.csv")
    ours = [f"{src.timestamp(int(k)):.3f}" for k in ref.frame]
    assert ours == [f"{t:.3f}" for t in ref.timestamp]


def test_a_name_that_is_not_utf8_is_refused_before_opencv_sees_it(tmp_path):
    """OpenCV's binding segfaults on such a name (exit 139, no message); the input is refused in one line."""
    import os
    import shutil

    from aubench.pipeline.errors import InputError
    from aubench.pipeline.io.frames import open_input

    for name, src in ((b"clip_\xff.wmv", MEDIA / "default.wmv"), (b"face_\xfe.jpg", MEDIA / "sample1.jpg")):
        path = Path(os.fsdecode(os.path.join(os.fsencode(str(tmp_path)), name)))
        shutil.copy(src, path)
        with pytest.raises(InputError, match=r"not valid UTF-8, which OpenCV cannot open .* rename it"):
            open_input(path)
