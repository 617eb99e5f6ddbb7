"""FaceLandmarkVidMulti: the C++ helpers' decisions, the per-frame control flow (stand-in
detector and CLNF), the run loop, and the real tracker against C++'s CSV of multi_face.avi."""

from __future__ import annotations

import os
import signal
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.harness.multi_face_parity import compare_multi, reference_csv
from aubench.pipeline import config as config_module
from aubench.pipeline.config import Config, LandmarkParameters
from aubench.pipeline.io.openface_csv import read_openface_csv
from aubench.pipeline.landmarks import pdm as pdm_ops
from aubench.pipeline.landmarks.clnf import FitResult
from aubench.pipeline.landmarks.tracker import LandmarkTracker
from aubench.pipeline.multi_face import (
    MultiFaceTracker,
    assign_detections,
    iou,
    landmark_box,
    non_overlapping_detections,
    overlapping_models,
    run_multi_face,
)
from tests.conftest import MEDIA, MODELS

VIDEO = MEDIA / "multi_face.avi"
SMALL = LandmarkParameters().window_sizes_small
INIT = LandmarkParameters().window_sizes_init

# Tolerances against C++'s CSV (rows matched by (frame, face_id)), from two measured spreads on this
# clip (2026-12-03, AMD EPYC with AVX-512; experiments/multi_face_parity.py's docstring has the table):
#   ours:  the whole clip, fast preset, one process per OpenBLAS kernel family (OPENBLAS_CORETYPE =
#          Haswell, Sandybridge, SkylakeX, Zen; numpy's OpenBLAS 0.3.31 loads Haswell's kernels for Zen);
#   C++:   FaceLandmarkVidMulti built from the reference sources, under SkylakeX and Sandybridge kernels,
#          against the reference (its Zen run, which that build reproduces byte for byte).
# Each tolerance is the largest figure of both times tests/tolerances.py's MARGIN (2), rounded.
FIRST_FRAMES = 60
TOLERANCES = {
    # first 60 frames: every run (ours x4, C++ x2) matched all 180 C++ rows, success agreement 100 %
    "first.landmark_median_px": 0.012,  # measured <= 0.0059 (the CSV's 0.1-px rounding)
    "first.landmark_max_px": 0.22,  # measured <= 0.110 (ours, Haswell); C++ SkylakeX 0.107
    "first.au_mae_mean": 0.02,  # measured <= 0.0097 (ours, Haswell)
    # whole clip: a small failing face near the PDM's 0.25-0.30 scale limits is chaotic: one validator
    # verdict that flips keeps (or frees) a slot a few frames longer and the later detections fill other slots
    "whole.rows_unmatched": 80,  # measured: ours 3 / 35 / 40 (SkylakeX / Haswell / Sandybridge); C++ 4 / 33
    "whole.frames_differing": 70,  # measured: ours 3 / 28 / 35; C++ 4 / 20
    "whole.success_agreement": 0.988,  # measured: ours >= 0.9948; C++ >= 0.9943
    "whole.landmark_median_px": 0.012,  # measured 0.0074 in all six runs (C++ too); README's C++ spread 0.012
    "whole.landmark_p95_px": 0.2,  # measured: ours <= 0.0986; C++ <= 0.0814
    "whole.au_mae_mean": 0.04,  # measured: ours <= 0.0188; C++ <= 0.0162 (the brief's target: 0.05)
}


# -- the C++ helpers -----------------------------------------------------------------------------

def test_iou_known_values():
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 10, 10), (10, 0, 10, 10)) == 0.0  # touching edges share no area
    assert iou((0, 0, 10, 10), (2, 2, 5, 5)) == pytest.approx(25 / 100)
    assert iou((0, 0, 0, 0), (0, 0, 10, 10)) == 0.0  # a reset model's box overlaps nothing
    assert iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0  # C++: 0/0 = NaN, which passes no threshold either
    assert iou((-5, -5, 10, 10), (0, 0, 10, 10)) == pytest.approx(25 / 175)


box_strategy = st.tuples(st.floats(-100, 600), st.floats(-100, 600), st.floats(1, 300), st.floats(1, 300))


@settings(max_examples=200, deadline=None)
@given(box_strategy, box_strategy)
def test_iou_symmetric_and_bounded(a, b):
    v = iou(a, b)
    assert v == iou(b, a)
    assert 0.0 <= v <= 1.0


@settings(max_examples=100, deadline=None)
@given(box_strategy)
def test_iou_of_a_box_with_itself_is_one(a):
    assert iou(a, a) == pytest.approx(1.0, abs=1e-6)


def test_landmark_box():
    assert landmark_box(np.zeros((68, 2), np.float32)) == (0.0, 0.0, 0.0, 0.0)
    lm = np.array([[10.5, 20.0], [30.0, 5.25], [12.0, 40.0]], np.float32)
    assert landmark_box(lm) == (10.5, 5.25, 19.5, 34.75)


def test_non_overlapping_detections_drops_tracked_faces_keeps_order():
    d = [(0, 0, 10, 10), (100, 100, 10, 10), (200, 0, 10, 10), (1, 1, 10, 10)]
    models = [(0, 0, 0, 0), (100, 101, 10, 10), (0, 0, 0, 0), (0, 0, 10, 10)]
    assert non_overlapping_detections(models, d, 0.5) == [(200, 0, 10, 10)]
    assert non_overlapping_detections([(0, 0, 0, 0)] * 4, d, 0.5) == d  # free models overlap nothing
    # IoU exactly 0.5 is not "> 0.5": kept, as in the C++
    assert iou((0, 0, 10, 10), (0, 0, 10, 5)) == 0.5
    assert non_overlapping_detections([(0, 0, 10, 10)], [(0, 0, 10, 5)], 0.5) == [(0, 0, 10, 5)]
    det = SimpleNamespace(x=0.0, y=0.0, w=10.0, h=10.0)  # MTCNN's Detection objects are accepted too
    assert non_overlapping_detections([(0, 0, 10, 10)], [det], 0.5) == []


@settings(max_examples=100, deadline=None)
@given(st.lists(box_strategy, max_size=4), st.lists(box_strategy, max_size=6), st.floats(0.05, 0.95))
def test_non_overlapping_detections_property(models, detections, threshold):
    kept = non_overlapping_detections(models, detections, threshold)
    assert kept == [d for d in detections if d in kept]  # a subsequence, in order
    for d in detections:
        overlaps = any(iou(m, d) > threshold for m in models)
        assert (d in kept) != overlaps or detections.count(d) > 1


def test_overlapping_models_frees_the_earlier_one():
    a, b, c, far = (0, 0, 100, 100), (5, 5, 100, 100), (10, 10, 100, 100), (400, 400, 50, 50)
    assert overlapping_models([a, far, b, (0, 0, 0, 0)], [True, True, True, False], 0.5) == [0]
    assert overlapping_models([a, b, c, far], [True, True, True, True], 0.5) == [0, 1]  # the last of the chain stays
    assert overlapping_models([a, b, c, far], [True, False, True, True], 0.5) == [0]
    assert overlapping_models([a, b], [False, True], 0.5) == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=8), st.integers(0, 10))
def test_assign_detections_property(free, n_detections):
    taken = assign_detections(free, n_detections)
    assert all(free[m] for m in taken)
    assert len(taken) == min(sum(free), n_detections)
    # the first free models take the detections in order
    assert [taken[m] for m in sorted(taken)] == list(range(len(taken)))
    assert sorted(taken) == [m for m, f in enumerate(free) if f][:len(taken)]


# -- control flow with stand-ins ----------------------------------------------------------------

FACES = {  # a face's detection box per face
    "A": (100.0, 100.0, 120.0, 120.0),
    "B": (300.0, 100.0, 120.0, 120.0),
    "C": (450.0, 250.0, 120.0, 120.0),
}


class ScriptedDetector:
    """Every face in ``faces`` (names of FACES) on every frame, or per frame from ``per_frame``."""

    def __init__(self, faces=(), per_frame=None):
        self.faces, self.per_frame = list(faces), per_frame or {}
        self.frame = 0
        self.calls: list[int] = []

    def detect(self, bgr):
        self.calls.append(self.frame)
        names = self.per_frame.get(self.frame, self.faces)
        return [SimpleNamespace(x=FACES[n][0], y=FACES[n][1], w=FACES[n][2], h=FACES[n][3], confidence=0.99)
                for n in names]


class ScriptedCLNF:
    """Stand-in CLNF: the fit keeps the model where it is (the PDM shape of the given parameters);
    it fails when ``fail(frame, t_x)`` says so; ``snap`` moves every fit to one place (two models
    converging on the same face)."""

    def __init__(self, pdm, part_pdms, fail=lambda frame, tx: False, snap=None):
        self.pdm, self.part_pdms, self.fail, self.snap = pdm, part_pdms, fail, snap
        self.frame = 0
        self.calls: list[tuple] = []

    def detect_landmarks(self, gray, params_global, params_local, window_sizes, timer=None, likelihood=True):
        g = np.asarray(params_global, np.float32).copy()
        if self.snap is not None and self.snap(self.frame):
            g = np.array([1.0, 0, 0, 0, 200.0, 200.0], np.float32)
        self.calls.append((self.frame, tuple(window_sizes), round(float(g[4]))))
        loc = np.zeros(self.pdm.n_modes, np.float32)
        lm = pdm_ops.calc_shape_2d(self.pdm, g, loc)
        success = not self.fail(self.frame, float(g[4]))
        parts = {name: pdm_ops.calc_shape_2d(p, np.array([1.0, 0, 0, 0, 0, 0], np.float32),
                                             np.zeros(p.n_modes, np.float32)) for name, p in self.part_pdms.items()}
        part_params = {name: (np.array([1.0, 0, 0, 0, 0, 0], np.float32), np.zeros(p.n_modes, np.float32))
                       for name, p in self.part_pdms.items()}
        return FitResult(lm, g, loc, 0.5, np.zeros(68, np.float32), parts, [1], True, 0.98 if success else 0.02,
                         success, part_params)


def make_multi(detector, **clnf_kwargs):
    probe = LandmarkTracker(MODELS, Config(), None, detector=object(), clnf=object())
    clnf = ScriptedCLNF(probe.pdm, probe.part_pdms, **clnf_kwargs)
    return MultiFaceTracker(MODELS, Config(), None, detector=detector, clnf=clnf), clnf


def run_frames(tracker, detector, clnf, frames):
    bgr = np.zeros((480, 640, 3), np.uint8)
    gray = np.zeros((480, 640), np.uint8)
    out = []
    for f in range(1, frames + 1):
        detector.frame = clnf.frame = f
        out.append([t.face_id for t in tracker.step(bgr, gray)])
    return out


def test_detection_every_8th_frame_while_a_model_is_free():
    detector = ScriptedDetector(["A", "B"])
    tracker, clnf = make_multi(detector)
    ids = run_frames(tracker, detector, clnf, 20)
    assert detector.calls == [1, 9, 17]  # frame_count 0, 8, 16
    assert ids == [[0, 1]] * 20  # the faces already tracked are not taken again
    # the start fits with the initial windows, tracking after a success with the small ones
    assert [c[1] for c in clnf.calls[:4]] == [INIT, INIT, SMALL, SMALL]


def test_no_detection_once_every_model_is_tracking():
    detector = ScriptedDetector(per_frame={1: ["A", "B", "C"], 9: ["A", "B", "C"]})
    tracker, clnf = make_multi(detector)
    tracker.models = tracker.models[:3]
    tracker.reset()
    run_frames(tracker, detector, clnf, 12)
    assert detector.calls == [1]


def test_a_failing_face_is_freed_after_six_failures_and_its_slot_reused():
    # face A fails from frame 3 on: failures_in_a_row 0..5 on frames 3..8, freed at the start of frame 9,
    # where the detection (face C, new) restarts that slot; B keeps slot 1 throughout
    detector = ScriptedDetector(per_frame={1: ["A", "B"], 9: ["C", "B"]})
    tracker, clnf = make_multi(detector, fail=lambda frame, tx: 3 <= frame and 100 < tx < 260)
    ids = run_frames(tracker, detector, clnf, 10)
    assert ids[:8] == [[0, 1]] * 8
    assert ids[8] == [0, 1] and tracker.starts == [2, 1, 0, 0]
    a_calls = [c for c in clnf.calls if 100 < c[2] < 260]
    # the start with the initial windows, small ones after a success, initial ones again after a failure
    assert [c[1] for c in a_calls[:4]] == [INIT, SMALL, SMALL, INIT]
    assert tracker.models[0].state.failures_in_a_row == -1


def test_models_converging_on_one_face_keep_the_later():
    detector = ScriptedDetector(per_frame={1: ["A", "B"]}, faces=[])
    tracker, clnf = make_multi(detector, snap=lambda frame: frame >= 3)
    ids = run_frames(tracker, detector, clnf, 4)
    assert ids == [[0, 1], [0, 1], [1], [1]]
    assert not tracker.models[0].state.landmarks.any()  # freed: CLNF::Reset


def test_a_detection_skips_models_tracking_and_the_first_free_takes_it():
    detector = ScriptedDetector(per_frame={1: ["A"], 9: ["A", "C", "B"]})
    tracker, clnf = make_multi(detector)
    ids = run_frames(tracker, detector, clnf, 9)
    assert ids[-1] == [0, 1, 2]
    assert [m.state.params_global[4] > 400 for m in tracker.models[:3]] == [False, True, False]  # C went to slot 1


# -- the run loop -------------------------------------------------------------------------------

class FakeAnalyser:
    intensity_names = ("AU01", "AU02")
    occurrence_names = ("AU01", "AU45")

    def predict_static(self, bgr, landmarks, timer=None):
        return SimpleNamespace(hog=np.zeros((12, 12, 31), np.float32), aligned_bgr=np.zeros((112, 112, 3), np.uint8),
                               au_intensity={"AU01": 1.0, "AU02": 0.5}, au_occurrence={"AU01": 1.0, "AU45": 0.0})


class SignallingTracker(MultiFaceTracker):
    """Sends itself SIGINT while tracking frame ``at``: the run stops once that frame is written."""

    def __init__(self, *args, at, **kwargs):
        super().__init__(*args, **kwargs)
        self.at = at

    def step(self, bgr, gray=None, timer=None):
        if self.frame_count + 1 == self.at:
            os.kill(os.getpid(), signal.SIGINT)
        return super().step(bgr, gray)


def test_interrupted_run_leaves_the_frames_done(tmp_path):
    cfg = config_module.with_overrides(Config(), output={"hogalign": True, "simalign": True})
    probe = LandmarkTracker(MODELS, cfg, None, detector=object(), clnf=object())
    clnf = ScriptedCLNF(probe.pdm, probe.part_pdms)
    detector = SimpleNamespace(detect=ScriptedDetector(["A", "B"]).detect)
    tracker = SignallingTracker(MODELS, cfg, None, detector=detector, clnf=clnf, at=3)
    with pytest.raises(KeyboardInterrupt):
        run_multi_face(VIDEO, tmp_path, cfg, frames=10, progress=False, tracker=tracker, analyser=FakeAnalyser())
    table = read_openface_csv(tmp_path / "multi_face.csv")
    assert table.column("frame").tolist() == [1, 1, 2, 2, 3, 3]
    assert table.column("face_id").tolist() == [0, 1] * 3
    assert (tmp_path / "multi_face.hog").stat().st_size == 6 * (4 * 4 + 4 * 12 * 12 * 31)
    names = {p.name for p in (tmp_path / "multi_face_aligned").iterdir()}
    assert names == {f"frame_det_{face:02d}_{frame:06d}.bmp" for face in (0, 1) for frame in (1, 2, 3)}


def test_run_summary_counts_face_tracks(tmp_path):
    detector = ScriptedDetector(per_frame={1: ["A", "B"], 9: ["C"]})
    tracker, clnf = make_multi(detector)
    step = tracker.step

    def numbered_step(bgr, gray=None, timer=None):  # the stand-ins see the frame number
        detector.frame = clnf.frame = tracker.frame_count + 1
        return step(bgr, gray)

    tracker.step = numbered_step
    result = run_multi_face(VIDEO, tmp_path, Config(), frames=10, progress=False, tracker=tracker,
                            analyser=FakeAnalyser())
    assert result.frames == 10
    assert "22 rows, 3 face tracks (face_id 0, 1, 2), at most 3 at once" in result.summary()


# -- the real tracker against C++ ---------------------------------------------------------------

def test_start_from_box_is_the_frontal_detection_from_the_box():
    """The box overload of DetectLandmarksInVideo on a reset model (CalcParams from the box, zero local
    parameters, one DetectLandmarks with the initial windows) is what detect_from_box fits without the
    rotation hypotheses; the model's failure count starts as DetectLandmarksInVideo leaves it."""
    import cv2

    from aubench.pipeline.registry import resolve

    cap = cv2.VideoCapture(str(VIDEO))
    ok, bgr = cap.read()
    cap.release()
    assert ok
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    tracker = LandmarkTracker(MODELS, Config(), resolve({}), detector=object())
    box = (303.913361, 201.694901, 109.75238, 109.623772)  # MTCNN's first face of frame 1 (reference/detections)
    success = tracker.start_from_box(gray, box)
    fit = tracker.clnf.detect_from_box(gray.astype(np.float32), box, multi_view=False)
    np.testing.assert_array_equal(tracker.state.landmarks, fit.landmarks)
    np.testing.assert_array_equal(tracker.state.params_global, fit.params_global)
    assert success == fit.detection_success and tracker.state.tracking_initialised
    assert tracker.state.failures_in_a_row == (-1 if success else 0)
    out = tracker.outputs(640, 480)
    assert out.success == success and out.confidence == fit.detection_certainty


@pytest.fixture(scope="module")
def first_frames(tmp_path_factory):
    out = tmp_path_factory.mktemp("multi_first")
    result = run_multi_face(VIDEO, out, config_module.preset("fast"), frames=FIRST_FRAMES, progress=False)
    return result


def test_header_equals_cpp(first_frames):
    ours = first_frames.csv.read_text().splitlines()[0]
    assert ours == reference_csv().read_text().splitlines()[0]


def test_first_frames_match_cpp(first_frames):
    fig = compare_multi(first_frames.csv, frames=FIRST_FRAMES)
    assert fig["rows"]["only_reference"] == 0 and fig["rows"]["only_ours"] == 0, fig["rows"]
    assert fig["frames"]["face_ids_differ"] == 0
    assert fig["success_agreement"] == 1.0
    assert fig["landmarks"]["error_median_px"] <= TOLERANCES["first.landmark_median_px"]
    assert fig["landmarks"]["error_max_px"] <= TOLERANCES["first.landmark_max_px"], fig["landmarks"]
    assert fig["au"]["intensity_mae_mean"] <= TOLERANCES["first.au_mae_mean"], fig["au"]


@pytest.mark.slow
def test_whole_clip_matches_cpp(tmp_path):
    result = run_multi_face(VIDEO, tmp_path, config_module.preset("fast"), progress=False)
    fig = compare_multi(result.csv)
    unmatched = fig["rows"]["only_reference"] + fig["rows"]["only_ours"]
    assert unmatched <= TOLERANCES["whole.rows_unmatched"], fig["rows"]
    assert fig["frames"]["face_ids_differ"] <= TOLERANCES["whole.frames_differing"], fig["frames"]
    assert fig["success_agreement"] >= TOLERANCES["whole.success_agreement"]
    assert fig["landmarks"]["error_median_px"] <= TOLERANCES["whole.landmark_median_px"], fig["landmarks"]
    assert fig["landmarks"]["error_p95_px"] <= TOLERANCES["whole.landmark_p95_px"], fig["landmarks"]
    assert fig["au"]["intensity_mae_mean"] <= TOLERANCES["whole.au_mae_mean"], fig["au"]
