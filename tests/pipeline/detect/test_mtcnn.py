"""MTCNN detector: every stage against the C++ trace (frame 1 of default.wmv), robustness, face choice."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from aubench.harness.detect_parity import SELECTIONS
from aubench.pipeline import registry
from aubench.pipeline.config import DetectorParameters
from aubench.pipeline.detect import mtcnn
from aubench.pipeline.detect.mtcnn import MTCNNDetector
from aubench.pipeline.errors import InputError
from aubench.pipeline.timing import StageTimer

from ...conftest import MEDIA, MODELS, TRACE

MTCNN_TRACE = TRACE / "mtcnn"


def _csv(name):
    return np.loadtxt(MTCNN_TRACE / f"{name}.csv", delimiter=",", skiprows=1, ndmin=2)


@pytest.fixture(scope="module", params=sorted(SELECTIONS))
def detector(request):
    return MTCNNDetector(MODELS, DetectorParameters(), registry.resolve(SELECTIONS[request.param]))


@pytest.fixture(scope="module")
def frame1():
    cap = cv2.VideoCapture(str(MEDIA / "default.wmv"))
    ok, bgr = cap.read()
    cap.release()
    assert ok
    return bgr


@pytest.fixture(scope="module")
def traced(detector, frame1):
    trace = {}
    boxes = detector.detect_boxes(frame1, trace=trace)
    return trace, boxes


def test_pyramid(traced):
    trace, _ = traced
    table = _csv("pyramid")
    np.testing.assert_allclose(trace["scales"], table[:, 1], rtol=1e-15)
    assert [lv["size"] for lv in trace["levels"]] == [(int(r[3]), int(r[2])) for r in table]
    assert [lv["prob"].shape for lv in trace["levels"]] == [(int(r[5]), int(r[4])) for r in table]
    assert [len(lv["candidates"]) for lv in trace["levels"]] == [int(r[6]) for r in table]


@pytest.mark.parametrize("level", [0, 6])
def test_pnet_maps(traced, level):
    lv = traced[0]["levels"][level]
    tag = f"pnet_scale{level:02d}"
    np.testing.assert_allclose(lv["input"], np.load(MTCNN_TRACE / f"{tag}_input_normalised.npy"), atol=1e-5)
    np.testing.assert_allclose(lv["prob"], np.load(MTCNN_TRACE / f"{tag}_prob.npy"), atol=2e-5)
    np.testing.assert_allclose(lv["reg"].transpose(2, 0, 1), np.load(MTCNN_TRACE / f"{tag}_reg.npy"), atol=2e-5)
    cands = _csv(f"{tag}_candidates")
    np.testing.assert_array_equal(lv["candidates"].xywh, cands[:, 1:5])
    np.testing.assert_allclose(lv["candidates"].scores, cands[:, 5], atol=2e-5)
    np.testing.assert_allclose(lv["candidates"].corrections, cands[:, 6:10], atol=2e-5)


@pytest.mark.parametrize("stage,name", [
    ("stage1", "stage1_pnet_after_per_scale_nms"), ("stage2", "stage2_rnet_input_boxes"),
    ("stage3", "stage3_rnet_scores_all_inputs"), ("stage4", "stage4_onet_input_boxes"),
    ("stage5", "stage5_onet_scores_all_inputs"), ("stage6", "stage6_onet_after_threshold_correction_nms"),
])
def test_stage_boxes(traced, stage, name):
    ours, ref = traced[0][stage], _csv(name)
    assert len(ours) == len(ref)
    integer = stage in ("stage1", "stage2", "stage3", "stage4", "stage5")  # integer boxes until ONet's correction
    np.testing.assert_allclose(ours.xywh, ref[:, 1:5], atol=0 if integer else 1e-4)
    np.testing.assert_allclose(ours.scores, ref[:, 5], atol=1e-5)
    np.testing.assert_allclose(ours.corrections, ref[:, 6:10], atol=1e-5)


def test_final_box_is_clnf_input(traced, detector, frame1):
    ref = _csv("stage7_final_corrected_boxes")
    np.testing.assert_allclose(traced[1].xywh, ref[:, 1:5], atol=1e-4)
    box = np.load(TRACE / "clnf" / "frame0001" / "detect" / "mtcnn_box_xywh.npy").reshape(-1)
    single = detector.detect_single(frame1)
    np.testing.assert_allclose([single.x, single.y, single.w, single.h], box, atol=1e-4)
    assert abs(single.confidence - ref[0, 5]) < 1e-6


def test_stage_timer(detector, frame1):
    timer = StageTimer()
    detector.detect(frame1, timer)
    timer.next_frame()
    assert {"detect.pnet", "detect.rnet", "detect.onet", "detect.nms"} <= set(timer.per_frame())


def test_grey_frame_equals_three_equal_channels(detector, frame1):
    gray = cv2.cvtColor(frame1, cv2.COLOR_BGR2GRAY)
    a = detector.detect(gray)
    b = detector.detect(np.repeat(gray[:, :, None], 3, axis=2))
    assert a == b and len(a) == 1
    assert detector.detect(gray[:, :, None]) == a
    assert detector.detect(np.dstack([frame1, np.full(gray.shape, 255, np.uint8)])) == detector.detect(frame1)


@pytest.mark.parametrize("shape", [(1, 1), (1, 1, 3), (11, 11, 3), (59, 800, 3), (60, 60, 3), (13, 2000)])
def test_tiny_and_thin_frames(detector, shape):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, shape, dtype=np.uint8)
    assert detector.detect(img) == []
    assert detector.detect_single(img) is None


def test_no_face_is_empty(detector):
    assert detector.detect(np.full((480, 640, 3), 128, np.uint8)) == []


def test_huge_image_is_one_line_error(detector):
    huge = np.zeros((20000, 20000), np.uint8)  # 400 MB grey; refused before any copy
    with pytest.raises(InputError, match="20000x20000.*downscale") as info:
        detector.detect(huge)
    assert "\n" not in str(info.value)


def test_bad_dtype_and_shape(detector):
    with pytest.raises(InputError, match="uint8"):
        detector.detect(np.zeros((100, 100, 3), np.float32))
    with pytest.raises(InputError, match="shape"):
        detector.detect(np.zeros((100, 100, 2), np.uint8))


def test_banded_pnet_equals_whole(detector, monkeypatch):
    """A large pyramid level runs in row bands; the maps must not change."""
    img = cv2.imread(str(MEDIA / "sample6.jpg"))
    level = mtcnn.normalise(cv2.resize(img.astype(np.float32), (389, 301)))
    whole = detector.pnet_maps(level)
    monkeypatch.setattr(mtcnn, "PNET_BAND_PIXELS", 389 * 2 * 7)  # bands of 7 output rows
    banded = detector.pnet_maps(level)
    assert whole[0].shape == banded[0].shape == (146, 190)  # odd sizes: the last pooling window is partial
    np.testing.assert_allclose(banded[0], whole[0], atol=1e-6)
    np.testing.assert_allclose(banded[1], whole[1], atol=1e-6)


def test_detect_single_picks_the_widest():
    class Fake(MTCNNDetector):
        def __init__(self, faces):
            self._faces = faces

        def detect(self, image, timer=None):
            return list(self._faces)

    faces = [mtcnn.Detection(0, 0, 50, 50, 0.99), mtcnn.Detection(100, 0, 80, 60, 0.8),
             mtcnn.Detection(300, 0, 80, 90, 0.9)]
    assert Fake(faces).detect_single(None) == faces[1]  # widest; the first of equal widths
    assert Fake(faces).detect_single(None, preference=(330, 40)) == faces[2]
    assert Fake([]).detect_single(None) is None


def test_box_helpers_follow_cpp_types():
    boxes = mtcnn.Boxes(np.array([[10.5, 11.5, 20.4, 30.6]], np.float32), np.ones(1, np.float32),
                        np.array([[0.1, -0.2, 0.05, 0.3]], np.float32))
    corrected = mtcnn.apply_correction(boxes, add1=False)  # cv::Rect rounds half to even: (10, 12, 20, 31)
    np.testing.assert_allclose(corrected.xywh[0], [10 + 2.0, 12 - 6.2, 20 + 1.0 - 2.0, 31 + 9.3 + 6.2], rtol=1e-6)
    sq = mtcnn.rectify(mtcnn.Boxes(np.array([[-3.7, 5.2, 10.0, 15.9]], np.float32), boxes.scores, boxes.corrections))
    np.testing.assert_array_equal(sq.xywh[0], [-6, 5, 15, 15])  # truncation toward zero
