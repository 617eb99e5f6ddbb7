"""OpenFace's -tracked output: drawing on frames, the MJPG video, and the run loop writing it."""

from __future__ import annotations

import dataclasses
import shutil

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from aubench.pipeline import extract
from aubench.pipeline.config import Config, preset, with_overrides
from aubench.pipeline.errors import OutputError, Terminated
from aubench.pipeline.io.openface_csv import read_openface_csv
from aubench.pipeline.io.records import FaceRecord
from aubench.pipeline.io.tracked import TrackedVideo, annotate, head_box, project, write_tracked_image
from tests.conftest import MEDIA, REFERENCE
from tests.pipeline.test_extract import ExplodingTracker, FakeAnalyser

VIDEO = MEDIA / "default.wmv"
REF_CSV = REFERENCE / "default" / "default.csv"
INTRINSICS = (500.0, 500.0, 320.0, 240.0)  # OpenFace's default camera for 640x480


@pytest.fixture(scope="module")
def frame_and_record():
    """default.wmv's first frame and the C++ CSV's record of it (landmarks, eyes, gaze, pose, AUs)."""
    cap = cv2.VideoCapture(str(VIDEO))
    ok, bgr = cap.read()
    cap.release()
    assert ok
    return bgr, read_openface_csv(REF_CSV).records()[0]


def read_all_frames(path) -> list[np.ndarray]:
    """Every frame decodable from a video, counted by reading (CAP_PROP_FRAME_COUNT is the header's claim)."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    return frames


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=2)


def face_rect(record, margin=0):
    lo, hi = record.landmarks_2d.min(axis=0), record.landmarks_2d.max(axis=0)
    return int(lo[0]) - margin, int(lo[1]) - margin, int(hi[0]) + margin, int(hi[1]) + margin


# ------------------------------------------------------------------------------------ annotate
def test_annotate_draws_the_face_and_the_panel_and_nothing_else(frame_and_record):
    bgr, record = frame_and_record
    before = bgr.copy()
    out = annotate(bgr, [record], INTRINSICS)
    assert out.shape == bgr.shape and out.dtype == np.uint8 and out is not bgr
    assert np.array_equal(bgr, before)  # input untouched
    diff = changed(out, bgr)
    for x, y in np.round(record.landmarks_2d).astype(int):  # a dot on every landmark
        assert diff[y - 1:y + 2, x - 1:x + 2].any(), (x, y)
    # the AU panel sits on the side away from the face and does not cover it
    x0, y0, x1, y1 = face_rect(record)
    panel_cols = np.flatnonzero(diff[: y0 // 2].any(axis=0))
    assert panel_cols.size and (panel_cols.max() < x0 or panel_cols.min() > x1)
    # far from the face, its box and the panel: untouched (the bottom rows and the right strip)
    assert not diff[440:].any() and not diff[y1 + 100:, x1 + 60:].any()


def test_annotate_draws_a_projected_head_box_around_the_face(frame_and_record):
    bgr, record = frame_and_record
    corners, edges = head_box(record.pose)
    assert len(edges) == 12
    assert np.allclose(corners.mean(axis=0), record.pose[:3])
    pixels = project(corners, INTRINSICS)
    centre = pixels.mean(axis=0)
    nose = record.landmarks_2d[30]
    assert np.linalg.norm(centre - nose) < 40  # centred on the head
    out = annotate(bgr, [dataclasses.replace(record, landmarks_2d=np.zeros((68, 2)))], INTRINSICS, au_panel=False)
    diff = changed(out, bgr)
    for x, y in np.round(pixels).astype(int):  # corners drawn
        assert diff[y - 2:y + 3, x - 2:x + 3].any()


def test_annotate_without_faces_says_so_and_draws_nothing_else(frame_and_record):
    bgr, _ = frame_and_record
    diff = changed(annotate(bgr, [], INTRINSICS), bgr)
    ys, xs = np.nonzero(diff)
    assert ys.size and ys.max() < 60 and xs.max() < 200  # the "no face" label, top left


def test_annotate_lost_face_gets_a_label_only(frame_and_record):
    bgr, record = frame_and_record
    lost = dataclasses.replace(record, success=False)
    diff = changed(annotate(bgr, [lost], INTRINSICS), bgr)
    x0, y0, x1, y1 = face_rect(record)
    assert diff[:y0].any()  # "face 0 lost" above the face
    assert not diff[y0 + 5:].any()  # no landmarks, box or panel


def test_annotate_with_only_the_landmarks(frame_and_record):
    """Optional blocks a stage did not fill (zeros) and no AU values: only the dots and the label."""
    bgr, record = frame_and_record
    bare = FaceRecord(frame=1, success=True, confidence=0.9, landmarks_2d=record.landmarks_2d.copy())
    diff = changed(annotate(bgr, [bare], INTRINSICS), bgr)
    x0, y0, x1, y1 = face_rect(record, margin=8)
    ys, xs = np.nonzero(diff)
    inside = (xs >= x0) & (xs <= x1) & (ys <= y1)
    assert inside.all()  # nothing outside the face and its label: no panel, no box
    assert np.array_equal(annotate(bgr, [bare], INTRINSICS, au_panel=False), annotate(bgr, [bare], INTRINSICS))


def test_annotate_several_faces_each_drawn_no_panel():
    """sample6.jpg's 12 faces (the C++ CSV): every face's landmarks drawn; AU labels instead of a panel."""
    bgr = cv2.imread(str(MEDIA / "sample6.jpg"))
    records = read_openface_csv(REFERENCE / "images" / "sample6.csv").records()
    assert len(records) == 12 and all(r.success for r in records)
    h, w = bgr.shape[:2]
    out = annotate(bgr, records, (500.0 * w / 640, 500.0 * h / 480, w / 2, h / 2))
    diff = changed(out, bgr)
    for r in records:
        for x, y in np.round(r.landmarks_2d[[8, 30, 36, 45]]).astype(int):
            assert diff[y - 2:y + 3, x - 2:x + 3].any()
    assert not diff[:25, w - 600:].any()  # no panel in the top right corner (where one would go)


def test_annotate_rejects_a_grey_image():
    with pytest.raises(ValueError, match=r"\(h, w, 3\)"):
        annotate(np.zeros((10, 10), np.uint8), [], INTRINSICS)


def _finite(shape, lo, hi):
    return arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False, allow_infinity=False))


@st.composite
def random_faces(draw):
    n = draw(st.integers(0, 3))
    faces = []
    for k in range(n):
        aus = draw(st.dictionaries(st.sampled_from(["AU01", "AU12", "AU28", "AU45"]), st.floats(-1, 7), max_size=4))
        faces.append(FaceRecord(
            frame=1, face_id=k, success=draw(st.booleans()), confidence=draw(st.floats(0, 1)),
            landmarks_2d=draw(_finite((68, 2), -5000, 5000)),
            eye_landmarks_2d=draw(_finite((56, 2), -5000, 5000)),
            eye_landmarks_3d=draw(_finite((56, 3), -3000, 3000)),
            gaze_0=draw(_finite(3, -1, 1)), gaze_1=draw(_finite(3, -1, 1)),
            # Tz around 0 and below: box corners and gaze ends behind the camera
            pose=np.concatenate([draw(_finite(2, -3000, 3000)), draw(_finite(1, -500, 3000)),
                                 draw(_finite(3, -7, 7))]),
            au_intensity={a: v for a, v in aus.items() if a != "AU28"},
            au_occurrence={a: float(v > 1) for a, v in aus.items()}))
    return faces


@settings(max_examples=60, deadline=None)
@given(faces=random_faces(), h=st.integers(8, 800), w=st.integers(8, 1300), f=st.floats(50, 3000),
       panel=st.booleans())
def test_annotate_never_raises_and_keeps_the_shape(faces, h, w, f, panel):
    bgr = np.full((h, w, 3), 90, np.uint8)
    out = annotate(bgr, faces, (f, f, w / 2, h / 2), au_panel=panel)
    assert out.shape == (h, w, 3) and out.dtype == np.uint8
    assert (bgr == 90).all()


def test_head_box_behind_the_camera_is_skipped_or_clipped():
    bgr = np.zeros((480, 640, 3), np.uint8)
    behind = FaceRecord(frame=1, success=True, pose=np.array([0, 0, -400.0, 0, 0, 0]))
    astride = FaceRecord(frame=1, success=True, pose=np.array([0, 0, 20.0, 0.3, 0.2, 0.1]))
    assert not changed(annotate(bgr, [behind], INTRINSICS, au_panel=False), bgr)[60:].any()
    assert changed(annotate(bgr, [astride], INTRINSICS, au_panel=False), bgr).any()


# ------------------------------------------------------------------------------------ writers
def test_tracked_video_writes_every_frame(tmp_path):
    path = tmp_path / "x.avi"
    with TrackedVideo(path, 0, (64, 48)) as video:  # fps 0 (an image folder): written at 30
        for i in range(7):
            video.write(np.full((48, 64, 3), 30 * i, np.uint8))
        with pytest.raises(ValueError, match=r"expected a \(48, 64, 3\) uint8 frame"):
            video.write(np.zeros((64, 48, 3), np.uint8))
    frames = read_all_frames(path)
    assert len(frames) == 7 and frames[0].shape == (48, 64, 3)
    assert [int(round(f.mean() / 30)) for f in frames] == list(range(7))  # in order (MJPG: lossy)
    assert cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_FPS) == pytest.approx(30)


def test_tracked_video_that_cannot_open_names_the_file(tmp_path):
    path = tmp_path / "missing-folder" / "x.avi"
    with pytest.raises(OutputError, match="missing-folder/x.avi"):
        TrackedVideo(path, 15, (64, 48))


def test_write_tracked_image(tmp_path):
    img = np.full((40, 50, 3), 128, np.uint8)
    write_tracked_image(tmp_path / "a.jpg", img)
    assert cv2.imread(str(tmp_path / "a.jpg")).shape == (40, 50, 3)
    with pytest.raises(OutputError, match="no-such-folder"):
        write_tracked_image(tmp_path / "no-such-folder" / "a.jpg", img)


# ------------------------------------------------------------------------------------ the run loop
def test_run_without_tracked_writes_no_video(tmp_path):
    res = extract.run(VIDEO, tmp_path, Config(), frames=3, landmarks_from=REF_CSV, analyser=FakeAnalyser(),
                      progress=False)
    assert res.tracked is None and not list(tmp_path.glob("*.avi")) and "avi" not in res.summary()


def test_replayed_run_writes_one_annotated_frame_per_frame(tmp_path):
    cfg = with_overrides(Config(), output={"tracked": True})
    res = extract.run(VIDEO, tmp_path, cfg, frames=6, landmarks_from=REF_CSV, analyser=FakeAnalyser(), progress=False)
    assert res.tracked == tmp_path / "default.avi" and f"wrote {res.tracked}" in res.summary()
    frames = read_all_frames(res.tracked)
    assert len(frames) == 6 and frames[0].shape == (480, 640, 3)
    assert cv2.VideoCapture(str(res.tracked)).get(cv2.CAP_PROP_FPS) == pytest.approx(15)


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), Terminated(), RuntimeError("stage bug")])
def test_interrupted_run_leaves_a_playable_video_of_the_frames_done(tmp_path, exc):
    """Ctrl-C, SIGTERM (as check_stop raises them between frames) or a failing stage: the video is closed with the CSV."""
    cfg = with_overrides(Config(), output={"tracked": True})
    with pytest.raises(type(exc)):
        extract.run(VIDEO, tmp_path, cfg, frames=20, tracker=ExplodingTracker(5, exc), analyser=FakeAnalyser(),
                    progress=False)
    rows = len(read_openface_csv(tmp_path / "default.csv"))
    assert rows == 5 and len(read_all_frames(tmp_path / "default.avi")) == rows


def test_run_stopped_before_its_first_frame_leaves_no_video(tmp_path):
    cfg = with_overrides(Config(), output={"tracked": True})
    with pytest.raises(KeyboardInterrupt):
        extract.run(VIDEO, tmp_path, cfg, frames=5, tracker=ExplodingTracker(0, KeyboardInterrupt()),
                    analyser=FakeAnalyser(), progress=False)
    assert not (tmp_path / "default.avi").exists() and not (tmp_path / "default.csv").exists()


def test_image_run_writes_a_jpg_and_never_over_its_input(tmp_path):
    cfg = with_overrides(Config(), output={"tracked": True})
    res = extract.run(MEDIA / "sample1.jpg", tmp_path / "out", cfg, landmarks_from=REFERENCE / "images" / "sample1.csv",
                      analyser=FakeAnalyser(), progress=False)
    assert res.tracked == tmp_path / "out" / "sample1.jpg"
    assert cv2.imread(str(res.tracked)).shape == cv2.imread(str(MEDIA / "sample1.jpg")).shape
    own = tmp_path / "sample1.jpg"
    shutil.copy(MEDIA / "sample1.jpg", own)
    before = own.read_bytes()
    with pytest.raises(OutputError, match="overwrite the input"):
        extract.run(own, tmp_path, cfg, landmarks_from=REFERENCE / "images" / "sample1.csv", analyser=FakeAnalyser(),
                    progress=False)
    assert own.read_bytes() == before


def test_image_folder_run_writes_a_video_at_30_fps(tmp_path):
    folder = tmp_path / "seq"
    folder.mkdir()
    shutil.copy(MEDIA / "sample1.jpg", folder / "1.jpg")  # one image: the replayed CSV has one row
    cfg = with_overrides(Config(), output={"tracked": True})
    res = extract.run(folder, tmp_path / "out", cfg, landmarks_from=REFERENCE / "images" / "sample1.csv",
                      analyser=FakeAnalyser(), progress=False)
    assert res.tracked == tmp_path / "out" / "seq.avi"
    assert len(read_all_frames(res.tracked)) == 1
    assert cv2.VideoCapture(str(res.tracked)).get(cv2.CAP_PROP_FPS) == pytest.approx(30)


@pytest.mark.slow
def test_real_run_writes_a_frame_exact_tracked_video(tmp_path):
    """The fast preset's tracker and AU stage on 30 frames: 30 video frames of the input's size, 30 CSV rows."""
    cfg = with_overrides(preset("fast"), output={"tracked": True})
    res = extract.run(VIDEO, tmp_path, cfg, frames=30, progress=False)
    frames = read_all_frames(tmp_path / "default.avi")
    assert res.tracked == tmp_path / "default.avi"
    assert len(frames) == 30 == len(read_openface_csv(res.csv)) and frames[0].shape == (480, 640, 3)
