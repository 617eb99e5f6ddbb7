"""Single-face landmark tracking in video, as OpenFace 2.2's FeatureExtraction does it.

Reproduces ``LandmarkDetectorFunc.cpp::DetectLandmarksInVideo`` (the state machine that
decides between tracking from the previous frame and (re)detecting with MTCNN) and the
per-frame outputs FeatureExtraction records: ``GetPose``, ``CLNF::GetShape``,
``CalculateAllEyeLandmarks``, ``Calculate3DEyeLandmarks`` and, when the frame succeeded,
``EstimateGaze`` for both eyes and ``GetGazeAngle``.

The control flow, with OpenFace's names (state lives in :class:`TrackerState`):

1. If ``tracking_initialised``: one ``CLNF::DetectLandmarks`` from the previous
   parameters, with the small windows when the previous frame succeeded and the
   initial (large) ones otherwise; ``failures_in_a_row`` becomes -1 on success, +1 on failure.
2. Detection is attempted when tracking has not started and
   ``(failures_in_a_row + 1) % (reinit_video_every * 6) == 0`` (frame 1, then every 12th
   frame without a face), or when tracking has started, this frame failed and
   ``failures_in_a_row % reinit_video_every == 0`` (right after a failure, then every 2nd).
3. When MTCNN finds a face: the 11 rotation hypotheses are fitted from its box
   (``DetectLandmarksInImage`` with ``multi_view``) and the most likely is kept. A
   re-detection (not the first) that fails validation is rolled back: the main model's
   parameters, landmarks and likelihood return to the previous estimate, while the
   validator's verdict, certainty and the part models keep the failed attempt's values,
   exactly as the C++ leaves them; the frame reports failure.
4. Without a face before tracking starts, the frame counts as a failure; after more than
   100 failures in a row tracking is un-initialised (detection every 12th frame again).

OpenFace's face-template shortcut (``use_face_template``) is off in FeatureExtraction and
is not reproduced.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from aubench.pipeline.config import Config
from aubench.pipeline.errors import ConfigError
from aubench.pipeline.landmarks import gaze as gaze_ops
from aubench.pipeline.landmarks import pdm as pdm_ops
from aubench.pipeline.landmarks import pose as pose_ops
from aubench.pipeline.landmarks.reuse import ReuseCache
from aubench.pipeline.models.clnf_model import read_main_model
from aubench.pipeline.models.pdm import PDMModel, read_pdm
from aubench.pipeline.timing import NULL_TIMER, StageTimer

F32 = np.float32
LEFT_EYE, RIGHT_EYE = "left_eye_28", "right_eye_28"
EYE_PARTS = (LEFT_EYE, RIGHT_EYE)  # CSV order: eye_lmk_0..27 left, 28..55 right
FAILURES_BEFORE_UNINITIALISE = 100


def c_mod(a: int, b: int) -> int:
    """C++ ``%`` on ints (the sign follows the dividend)."""
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def to_gray(image: np.ndarray) -> np.ndarray:
    """``ImageManipulationHelpers.h::ConvertToGrayscale_8bit`` for uint8 images."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


@dataclass
class PartState:
    """A hierarchical part model's current estimate (what ``hierarchical_models[i]`` holds)."""

    params_global: np.ndarray
    params_local: np.ndarray
    landmarks: np.ndarray


@dataclass
class TrackerState:
    """The ``CLNF`` fields DetectLandmarksInVideo reads and writes (``CLNF::Reset`` values)."""

    tracking_initialised: bool = False
    detection_success: bool = False
    detection_certainty: float = 0.0
    failures_in_a_row: int = -1
    model_likelihood: float = -10.0
    params_global: np.ndarray = field(default_factory=lambda: np.array([1, 0, 0, 0, 0, 0], F32))
    params_local: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    landmark_likelihoods: np.ndarray | None = None
    parts: dict[str, PartState] = field(default_factory=dict)
    reuse: ReuseCache | None = None  # what tracked frames may reuse ([reuse] options on), else None


@dataclass
class TrackResult:
    """One frame's tracking output (the CSV's landmark, pose and gaze columns).

    ``success`` is DetectLandmarksInVideo's return value (the CSV ``success``, the HOG
    file's good-frame flag and the gaze gate); ``detection_success`` is the model's own
    field, which FeatureExtraction hands to ``FaceAnalyser::AddNextFrame``. They differ
    only on a first detection that fails validation (returned True, model False).
    ``confidence`` is ``detection_certainty`` (the CSV ``confidence``). Gaze is zero when
    ``success`` is False, as FeatureExtraction leaves it.
    """

    landmarks: np.ndarray  # (68, 2) px
    params_global: np.ndarray  # (6,)
    params_local: np.ndarray  # (34,)
    success: bool
    confidence: float
    eye_landmarks_2d: np.ndarray  # (56, 2) px, left eye then right eye
    eye_landmarks_3d: np.ndarray  # (56, 3) mm
    landmarks_3d: np.ndarray  # (68, 3) mm
    pose: np.ndarray  # (6,) Tx, Ty, Tz (mm), Rx, Ry, Rz (rad)
    gaze_0: np.ndarray  # (3,) left eye
    gaze_1: np.ndarray  # (3,) right eye
    gaze_angle: np.ndarray  # (2,) rad
    detection_success: bool = False
    likelihood: float = 0.0
    detected: bool = False  # a face detection ran on this frame
    iterations: list = field(default_factory=list)  # NU-RLMS updates of the fits run on this frame

    def fill_record(self, record: Any) -> Any:
        """Copy the values into a :class:`aubench.pipeline.io.records.FaceRecord`; returns it."""
        record.confidence = float(self.confidence)
        record.success = bool(self.success)
        record.gaze_0 = self.gaze_0.astype(np.float64)
        record.gaze_1 = self.gaze_1.astype(np.float64)
        record.gaze_angle = self.gaze_angle.astype(np.float64)
        record.eye_landmarks_2d = self.eye_landmarks_2d.astype(np.float64)
        record.eye_landmarks_3d = self.eye_landmarks_3d.astype(np.float64)
        record.pose = self.pose.astype(np.float64)
        record.landmarks_2d = self.landmarks.astype(np.float64)
        record.landmarks_3d = self.landmarks_3d.astype(np.float64)
        record.params_global = self.params_global.astype(np.float64)
        record.params_local = self.params_local.astype(np.float64)
        return record


class LandmarkTracker:
    """FeatureExtraction's single-face tracker: MTCNN (re)detection + CLNF tracking + pose/gaze.

    Parameters
    ----------
    models_dir : OpenFace model folder (holding ``model/``).
    config : :class:`aubench.pipeline.config.Config` (``landmarks``, ``detector``, ``camera`` sections).
    kernels : resolved :class:`aubench.pipeline.registry.Kernels`.
    detector, clnf : optional ready-made stand-ins (tests); by default
        ``aubench.pipeline.detect.mtcnn.MTCNNDetector`` and ``aubench.pipeline.landmarks.clnf.CLNF``.
        ``detector.detect_single(bgr)`` returns an object with ``x, y, w, h`` or None;
        ``clnf.detect_landmarks(gray_f32, params_global, params_local, window_sizes, timer, likelihood=False)``
        and ``clnf.detect_from_box(gray_f32, box_xywh, timer)`` return a
        :class:`aubench.pipeline.landmarks.clnf.FitResult`.
    """

    def __init__(self, models_dir: str | Path, config: Config, kernels: Any, *, detector: Any = None, clnf: Any = None):
        self.models_dir = Path(models_dir)
        self.config = config
        self.params = config.landmarks
        if self.params.reinit_video_every < 1:
            raise ConfigError(
                f"{config.source or 'config'}: [landmarks] reinit_video_every must be at least 1 "
                f"(OpenFace divides by it), got {self.params.reinit_video_every}; use the default 2"
            )
        if clnf is None:
            from aubench.pipeline.landmarks.clnf import CLNF

            clnf = CLNF(self.models_dir, self.params, kernels)
        self.clnf = clnf
        if hasattr(clnf, "main") and hasattr(clnf, "parts"):  # the CLNF's own PDMs: no second parse
            self.pdm: PDMModel = clnf.main.pdm
            self.part_pdms: dict[str, PDMModel] = {name: model.pdm for name, _, model, _ in clnf.parts}
        else:
            spec = read_main_model(self.models_dir / self.params.model_location)
            self.pdm = read_pdm(spec.main.pdm)
            self.part_pdms = {p.name: read_pdm(p.files.pdm) for p in spec.parts}
        self.has_eye_model = all(name in self.part_pdms for name in EYE_PARTS)
        reuse = getattr(config, "reuse", None)
        self.reuse_params = reuse if reuse is not None and reuse.any else None
        self._detector = detector
        self._kernels = kernels
        self.state = TrackerState()
        self.reset()

    # -- state ---------------------------------------------------------------------------------
    @property
    def detector(self) -> Any:
        """The MTCNN detector, loaded on first use (as OpenFace loads it lazily)."""
        if self._detector is None:
            from aubench.pipeline.detect.mtcnn import MTCNNDetector

            self._detector = MTCNNDetector(self.models_dir, self.config.detector, self._kernels)
        return self._detector

    def reset(self) -> None:
        """``CLNF::Reset``: forget the face (a new video)."""
        n, m = self.pdm.n_points, self.pdm.n_modes
        self.state = TrackerState(
            params_local=np.zeros(m, F32),
            landmarks=np.zeros((n, 2), F32),
            landmark_likelihoods=np.zeros(n, F32),
            parts={
                name: PartState(np.array([1, 0, 0, 0, 0, 0], F32), np.zeros(p.n_modes, F32), np.zeros((p.n_points, 2), F32))
                for name, p in self.part_pdms.items()
            },
            reuse=None if self.reuse_params is None else ReuseCache(self.reuse_params),
        )

    def _adopt(self, fit: Any) -> None:
        """Store a DetectLandmarks result in the model state (what the C++ writes in place)."""
        s = self.state
        s.params_global = np.asarray(fit.params_global, F32).copy()
        s.params_local = np.asarray(fit.params_local, F32).copy()
        s.landmarks = np.asarray(fit.landmarks, F32).copy()
        s.model_likelihood = float(fit.likelihood)
        if getattr(fit, "landmark_likelihoods", None) is not None:
            s.landmark_likelihoods = np.asarray(fit.landmark_likelihoods, F32).copy()
        s.detection_success = bool(fit.detection_success)
        certainty = fit.detection_certainty
        s.detection_certainty = float(certainty) if certainty is not None else (1.0 if fit.detection_success else 0.0)
        part_params = getattr(fit, "part_params", {}) or {}
        for name, lm in (getattr(fit, "part_landmarks", {}) or {}).items():
            if name not in s.parts:
                continue
            if name in part_params:
                pg, pl = part_params[name]
            else:  # a fit without the part parameters: recover them from the landmarks
                pg, pl = pdm_ops.calc_params(self.part_pdms[name], lm)
            s.parts[name] = PartState(np.asarray(pg, F32).copy(), np.asarray(pl, F32).copy(), np.asarray(lm, F32).copy())

    # -- one frame -----------------------------------------------------------------------------
    def track(self, bgr: np.ndarray, gray: np.ndarray | None = None, timer: StageTimer = NULL_TIMER) -> TrackResult:
        """``DetectLandmarksInVideo`` on one frame, then FeatureExtraction's pose/gaze outputs.

        Parameters
        ----------
        bgr : (h, w, 3) uint8 frame as decoded.
        gray : (h, w) uint8; when None it is made as ``ConvertToGrayscale_8bit`` does
            (``COLOR_BGR2GRAY``, ``COLOR_BGRA2GRAY`` for 4 channels).
        """
        if gray is None:
            gray = to_gray(bgr)
        with timer("landmarks"):
            success, detected, iterations = self._detect_landmarks_in_video(bgr, gray, timer)
        return self._outputs(gray.shape[1], gray.shape[0], success, detected, iterations, timer)

    def track_deferred(self, bgr: np.ndarray, gray: np.ndarray | None = None,
                       timer: StageTimer = NULL_TIMER) -> Callable[[StageTimer], TrackResult]:
        """:meth:`track` in two halves: ``DetectLandmarksInVideo`` now, and a function that computes the frame's
        outputs (pose, 3D shape, eye landmarks, gaze) later, on any thread, from this frame's state.

        The state's arrays are replaced by each frame, never written in place, so the snapshot the function
        holds stays this frame's while the tracker goes on to the next one."""
        if gray is None:
            gray = to_gray(bgr)
        with timer("landmarks"):
            success, detected, iterations = self._detect_landmarks_in_video(bgr, gray, timer)
        state = dataclasses.replace(self.state, parts=dict(self.state.parts))
        width, height = gray.shape[1], gray.shape[0]
        return lambda later_timer: self._outputs(width, height, success, detected, iterations, later_timer,
                                                 state=state)

    def _detect_landmarks_in_video(self, bgr: np.ndarray, gray: np.ndarray, timer: StageTimer):
        s, p = self.state, self.params
        gray_f32 = np.asarray(gray, dtype=F32)
        iterations: list = []
        initial_detection = not s.tracking_initialised

        if s.tracking_initialised:
            iterations += self._fit_from_previous(gray_f32, timer)

        every = p.reinit_video_every
        wants_detection = (
            not s.tracking_initialised and c_mod(s.failures_in_a_row + 1, every * 6) == 0
        ) or (s.tracking_initialised and not s.detection_success and every > 0 and c_mod(s.failures_in_a_row, every) == 0)

        if wants_detection:
            with timer("detect"):
                detection = self.detector.detect_single(bgr)
            if detection is not None:
                s.tracking_initialised = True
                saved = (s.params_global.copy(), s.params_local.copy(), s.model_likelihood,
                         s.landmarks.copy(), None if s.landmark_likelihoods is None else s.landmark_likelihoods.copy())
                box = np.array([detection.x, detection.y, detection.w, detection.h], dtype=np.float64)
                with timer("landmarks.detect"):
                    fit = self.clnf.detect_from_box(gray_f32, box, timer)
                if s.reuse is not None:  # the next tracked frame starts afresh from the detection
                    s.reuse.invalidate()
                iterations += list(getattr(fit, "iterations", []))
                self._adopt(fit)
                if not initial_detection and not fit.detection_success:
                    # roll back the main model only (parts, success and certainty stay)
                    s.params_global, s.params_local, s.model_likelihood, s.landmarks, s.landmark_likelihoods = saved
                    return False, True, iterations
                s.failures_in_a_row = -1
                return True, True, iterations

        if not s.tracking_initialised:
            s.failures_in_a_row += 1
        if s.failures_in_a_row > FAILURES_BEFORE_UNINITIALISE:
            s.tracking_initialised = False
        return s.detection_success, wants_detection, iterations

    def _fit_from_previous(self, gray_f32: np.ndarray, timer: StageTimer) -> list:
        """DetectLandmarksInVideo's tracking step: one ``CLNF::DetectLandmarks`` from the current
        parameters (small windows after a success, the initial ones after a failure), then
        ``failures_in_a_row`` -1 on success, +1 on failure. Returns the NU-RLMS updates."""
        s, p = self.state, self.params
        windows = p.window_sizes_small if s.detection_success else p.window_sizes_init
        cache, start, extra = s.reuse, s.params_global, {}
        if cache is not None:  # [reuse] on: only after a success may anything be reused
            if not s.detection_success:
                cache.invalidate()
            cache.next_frame()
            start = cache.predicted_start(s.params_global)
            extra = {"reuse": cache}
        with timer("landmarks.track"):
            # tracking never reads the model likelihood (it ranks detection hypotheses only)
            fit = self.clnf.detect_landmarks(gray_f32, start, s.params_local, windows, timer,
                                             likelihood=False, **extra)
        self._adopt(fit)
        if cache is not None:
            if fit.detection_success:
                cache.tracked(fit.params_global)
            else:
                cache.invalidate()
        s.failures_in_a_row = -1 if fit.detection_success else s.failures_in_a_row + 1
        return list(getattr(fit, "iterations", []))

    # -- FaceLandmarkVidMulti's per-face model (reinit_video_every = -1) ----------------------------
    def start_from_box(self, gray: np.ndarray, box_xywh, timer: StageTimer = NULL_TIMER) -> bool:
        """A free model taking a face detection, as FaceLandmarkVidMulti restarts one.

        ``CLNF::Reset``, ``detection_success = false``, then the box overload of
        ``DetectLandmarksInVideo``: zero local parameters, global ones from the box
        (``PDM::CalcParams`` from a bounding box, no rotation), ``tracking_initialised``, and one
        :meth:`track_only` step, which (the model not having succeeded yet) fits with the
        initial windows. Unlike FeatureExtraction's (re)detection no rotation hypotheses are
        tried. Returns ``detection_success``.
        """
        self.reset()
        s = self.state
        s.params_global = pdm_ops.calc_params_from_box(self.pdm, np.asarray(box_xywh, dtype=np.float64),
                                                       (0.0, 0.0, 0.0), np.zeros(self.pdm.n_modes, F32))
        s.tracking_initialised = True
        return self.track_only(gray, timer)

    def track_only(self, gray: np.ndarray, timer: StageTimer = NULL_TIMER) -> bool:
        """``DetectLandmarksInVideo`` with ``reinit_video_every = -1`` (FaceLandmarkVidMulti's setting)
        on a model whose tracking has started: one fit from the previous parameters, the failure
        count updated, and never a face detection (with a negative ``reinit_video_every`` neither
        re-detection test can pass once tracking has started; FaceLandmarkVidMulti frees a model
        long before the 100 failures that would un-initialise it). Returns ``detection_success``.
        """
        if not self.state.tracking_initialised:
            raise ValueError("track_only: this model is not tracking a face yet; start it with start_from_box")
        with timer("landmarks"):
            self._fit_from_previous(np.asarray(gray, dtype=F32), timer)
        return self.state.detection_success

    def outputs(self, width: int, height: int, timer: StageTimer = NULL_TIMER) -> TrackResult:
        """The model's current outputs as FaceLandmarkVidMulti records them for a ``width`` x ``height``
        frame: pose, 3D shape, eye landmarks, and the gaze only when ``detection_success``."""
        s = self.state
        return self._outputs(width, height, s.detection_success, False, [], timer)

    def fit_image(self, bgr: np.ndarray, gray: np.ndarray | None, box_xywh, *, multi_view: bool = False,
                  timer: StageTimer = NULL_TIMER) -> TrackResult:
        """FaceLandmarkImg on one face box: ``DetectLandmarksInImage`` from ``box_xywh`` (x, y, w, h px),
        then its outputs: ``GetPose``, ``GetShape``, the eye landmarks and the gaze of both eyes,
        which FaceLandmarkImg estimates whatever the validator said (``success`` is the fit's
        ``detection_success``). The state is reset first: one image's faces do not share a fit.

        ``multi_view``: the 11 rotation hypotheses (OpenFace's ``-multi_view 1`` / ``-wild``); FaceLandmarkImg's
        default fits the frontal one only.
        """
        if gray is None:
            gray = to_gray(bgr)
        self.reset()
        box = np.asarray(box_xywh, dtype=np.float64)
        with timer("landmarks"):
            fit = self.clnf.detect_from_box(np.asarray(gray, dtype=F32), box, timer, multi_view=multi_view)
        self._adopt(fit)
        s = self.state
        s.tracking_initialised = True
        return self._outputs(gray.shape[1], gray.shape[0], s.detection_success, True,
                             list(getattr(fit, "iterations", [])), timer, gaze_always=True)

    def _outputs(self, width: int, height: int, success: bool, detected: bool, iterations: list,
                 timer: StageTimer, gaze_always: bool = False, state: TrackerState | None = None) -> TrackResult:
        s = self.state if state is None else state
        cam = self.config.camera
        intr = pose_ops.camera_intrinsics(width, height, cam.fx, cam.fy, cam.cx, cam.cy)
        with timer("pose"):
            pose = pose_ops.get_pose(self.pdm, s.params_global, s.params_local, s.landmarks, intr)
            landmarks_3d = pose_ops.get_shape_3d(self.pdm, s.params_global, s.params_local, s.landmarks, intr)
        n_eye = sum(self.part_pdms[name].n_points for name in EYE_PARTS) if self.has_eye_model else 56
        eye_2d = np.zeros((n_eye, 2), F32)
        eye_3d = np.zeros((n_eye, 3), F32)
        gaze_0 = np.zeros(3, F32)
        gaze_1 = np.zeros(3, F32)
        angle = np.zeros(2, F32)
        if self.has_eye_model:
            with timer("gaze"):
                eyes_3d = {}
                for name in EYE_PARTS:
                    part = s.parts[name]
                    eyes_3d[name] = pose_ops.get_shape_3d(
                        self.part_pdms[name], part.params_global, part.params_local, part.landmarks, intr
                    )
                eye_2d = np.concatenate([s.parts[name].landmarks for name in EYE_PARTS]).astype(F32)
                eye_3d = np.concatenate([eyes_3d[name] for name in EYE_PARTS]).astype(F32)
                if success or gaze_always:
                    gaze_0 = gaze_ops.estimate_gaze(pose, landmarks_3d, eyes_3d[LEFT_EYE], True)
                    gaze_1 = gaze_ops.estimate_gaze(pose, landmarks_3d, eyes_3d[RIGHT_EYE], False)
                    angle = gaze_ops.gaze_angle(gaze_0, gaze_1)
        return TrackResult(
            landmarks=s.landmarks.copy(), params_global=s.params_global.copy(), params_local=s.params_local.copy(),
            success=bool(success), confidence=float(s.detection_certainty), eye_landmarks_2d=eye_2d,
            eye_landmarks_3d=eye_3d, landmarks_3d=landmarks_3d, pose=pose, gaze_0=gaze_0, gaze_1=gaze_1,
            gaze_angle=angle, detection_success=bool(s.detection_success), likelihood=float(s.model_likelihood),
            detected=bool(detected), iterations=iterations,
        )
