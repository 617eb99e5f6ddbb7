"""Facial Action Unit analysis of one tracked face (``FaceAnalyser.cpp::FaceAnalyser``).

Per frame (:meth:`FaceAnalyser.add_next_frame`, ``FaceAnalyser::AddNextFrame``):

1. fit the analyser's own PDM to the landmarks (``PDM::CalcParams``) -> pose and
   non-rigid parameters (:mod:`aubench.pipeline.au.geometry`);
2. similarity-align the face into 112x112 with the triangulation mask
   (:func:`aubench.pipeline.au.align.align_face_mask`); a black image when tracking failed;
3. FHOG of the aligned face (the ``fhog`` kernel): 12x12x31 = 4464 values;
4. on odd frame counts, the person-calibration running medians (:mod:`aubench.pipeline.au.calibration`);
5. the geometry descriptor (238) and the AU models (:mod:`aubench.pipeline.au.predictors`): raw
   online values, zeros for failed frames.

Video mode keeps every frame's predictions and the descriptors of the first 3000
successful frames; :meth:`FaceAnalyser.postprocess` then re-predicts them with the final
medians and applies OpenFace's offline correction (:mod:`aubench.pipeline.au.postprocess`), giving
the values FeatureExtraction's ``PostprocessOutputFile`` writes. Image mode
(:meth:`FaceAnalyser.predict_static`, ``PredictStaticAUsAndComputeFeatures``) uses the static
models with no calibration and clips intensities to [0, 5].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aubench.pipeline.au import align
from aubench.pipeline.au import postprocess as offline
from aubench.pipeline.au.calibration import FRONTAL, RunningMedians, updates_median, view_id
from aubench.pipeline.au.geometry import empty_geometry_descriptor, fit_geometry
from aubench.pipeline.au.hog import hog_descriptor
from aubench.pipeline.au.predictors import AUPredictor, AUValues
from aubench.pipeline.config import AnalyserParameters, ReuseParameters
from aubench.pipeline.errors import InputError, unknown_name
from aubench.pipeline.landmarks.pdm import calc_params
from aubench.pipeline.models import locate
from aubench.pipeline.models.au_models import read_au_models
from aubench.pipeline.models.pdm import read_pdm
from aubench.pipeline.models.triangulation import read_triangulation
from aubench.pipeline.registry import Kernels
from aubench.pipeline.timing import NULL_TIMER, StageTimer

# OpenFace's fixed alignment for the AU features (FaceAnalyserParameters::sim_scale_au, sim_size_au)
SIM_SCALE_AU = 0.7
SIM_SIZE_AU = 112
MAX_INIT_FRAMES = 3000  # successful frames re-predicted with the final medians


@dataclass(frozen=True)
class AnalysisResult:
    """One frame of one face.

    Attributes
    ----------
    aligned_bgr : (sim_size_out, sim_size_out, 3) uint8
        The similarity-aligned face written by ``-simalign`` (black when tracking failed).
    hog : (12, 12, 31) float32
        FHOG of the 112x112 AU alignment (written by ``-hogalign``).
    au_intensity, au_occurrence : dict
        ``{"AU01": value}``: the online predictions OpenFace writes before post-processing
        (raw SVR values, not clipped, in video mode; clipped to [0, 5] in image mode; 0 on
        failed frames).
    view : int
        Orientation bin used for calibration.
    params_global : (6,) float32, params_local : (m,) float32, geometry : (238,) float64
        The analyser's PDM fit and the geometry descriptor.
    """

    aligned_bgr: np.ndarray
    hog: np.ndarray
    au_intensity: dict[str, float]
    au_occurrence: dict[str, float]
    view: int = 0
    params_global: np.ndarray = field(default_factory=lambda: np.zeros(6, np.float32))
    params_local: np.ndarray = field(default_factory=lambda: np.zeros(34, np.float32))
    geometry: np.ndarray = field(default_factory=lambda: np.zeros(238))


@dataclass(frozen=True)
class PostprocessedAUs:
    """Every AU column of a whole video after the offline step: ``{"AU01": (T,) float64}``."""

    intensity: dict[str, np.ndarray]
    occurrence: dict[str, np.ndarray]
    successes: np.ndarray

    def row(self, index: int) -> tuple[dict[str, float], dict[str, float]]:
        """Frame ``index`` (0-based) as ``(intensity, occurrence)`` dicts."""
        return ({n: float(v[index]) for n, v in self.intensity.items()},
                {n: float(v[index]) for n, v in self.occurrence.items()})


class FaceAnalyser:
    """AU analysis of one tracked face over a video (or single images).

    Parameters
    ----------
    models_dir : path or None
        The OpenFace model folder (``AU_predictors/`` inside); None: :func:`aubench.pipeline.models.locate`.
    params : AnalyserParameters
        ``model_location`` (dynamic models) / ``static_model_location``, aligned output size and scale.
    kernels : Kernels
        Resolved variants (``calc_params``, ``face_mask``, ``fhog``, ``au_predict``, ``running_median``).
    dynamic : bool
        Video mode with the dynamic (person-calibrated) models and post-processing; False:
        the static models (images, or ``-au_static``).
    orientation_bins : sequence of (rx, ry, rz)
        Head-orientation bins of the calibration histograms (OpenFace 2.2: frontal only).
    reuse : ReuseParameters or None
        ``au_predict_every`` k > 1: the online prediction runs on every k-th frame and the frames
        between hold it (FHOG, geometry and the running medians are still computed on every frame,
        as OpenFace does, so calibration and the offline re-prediction are unchanged).
    """

    def __init__(self, models_dir: str | Path | None, params: AnalyserParameters, kernels: Kernels,
                 dynamic: bool = True, orientation_bins=FRONTAL, reuse: ReuseParameters | None = None):
        root = locate(models_dir)
        self.params = params
        self.predict_every = 1 if reuse is None else reuse.au_predict_every
        self.kernels = kernels
        self.dynamic = dynamic
        location = params.model_location if dynamic else params.static_model_location
        self.models = read_au_models(root / location)
        self.pdm = read_pdm(self.models.pdm_path)
        self.triangulation = read_triangulation(self.models.triangulation_path)
        self.predictor = AUPredictor(self.models)
        # the PDM fit is the landmark stage's calc_params kernel when the registry has it
        self._calc_params = getattr(kernels, "calc_params", None) or calc_params
        self.orientation_bins = tuple(tuple(float(v) for v in b) for b in orientation_bins)
        self.medians = RunningMedians(len(self.orientation_bins), 4464, 3 * self.pdm.n_points + self.pdm.n_modes)
        self.reset()

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Forget the person and the video so far (``FaceAnalyser::Reset``)."""
        self.frames_tracking = 0
        self.frames_tracking_succ = 0
        self.medians.reset()
        self.successes: list[bool] = []
        self.timestamps: list[float] = []
        self._held: AUValues | None = None  # the last online prediction ([reuse] au_predict_every)
        self.intensity_history: dict[str, list[float]] = {n: [] for n in self.predictor.intensity_names}
        self.occurrence_history: dict[str, list[float]] = {n: [] for n in self.predictor.occurrence_names}
        # descriptors of the first MAX_INIT_FRAMES successful frames, for the offline re-prediction
        self._init_hog: list[np.ndarray] = []
        self._init_geom: list[np.ndarray] = []
        self._init_views: list[int] = []

    @property
    def intensity_names(self) -> tuple[str, ...]:
        return self.predictor.intensity_names

    @property
    def occurrence_names(self) -> tuple[str, ...]:
        return self.predictor.occurrence_names

    # ------------------------------------------------------------------ stages
    def _align(self, bgr: np.ndarray, landmarks: np.ndarray, params_global: np.ndarray,
               scale: float, size: int, mask: bool, timer: StageTimer = NULL_TIMER) -> np.ndarray:
        if mask:
            return align.align_face_mask(bgr, landmarks, params_global, self.pdm, self.triangulation,
                                         sim_scale=scale, out_size=size, kernels=self.kernels, timer=timer)
        return align.align_face(bgr, landmarks, params_global, self.pdm, sim_scale=scale, out_size=size,
                                align=self.kernels.align_shapes)

    def _features(self, bgr: np.ndarray, landmarks: np.ndarray | None, timer: StageTimer):
        """Alignment, HOG and geometry of one frame (``landmarks`` None: tracking failed)."""
        p = self.params
        same_output = (p.sim_scale_out == SIM_SCALE_AU and p.sim_size_out == SIM_SIZE_AU and p.sim_align_face_mask)
        if landmarks is not None:
            with timer("au.geometry"):
                params_global, params_local, geometry = fit_geometry(self.pdm, landmarks, self._calc_params)
            with timer("au.align"):
                aligned_au = self._align(bgr, landmarks, params_global, SIM_SCALE_AU, SIM_SIZE_AU, True, timer)
                aligned_out = aligned_au if same_output else self._align(
                    bgr, landmarks, params_global, p.sim_scale_out, p.sim_size_out, p.sim_align_face_mask, timer)
        else:
            params_global = np.zeros(6, np.float32)
            params_local = np.zeros(self.pdm.n_modes, np.float32)
            geometry = empty_geometry_descriptor(self.pdm)
            aligned_au = np.zeros((SIM_SIZE_AU, SIM_SIZE_AU, 3), np.uint8)
            aligned_out = np.zeros((p.sim_size_out, p.sim_size_out, 3), np.uint8)
        hog, hog_flat = hog_descriptor(aligned_au, self.kernels, timer)
        view = view_id(self.orientation_bins, params_global[1:4])
        return aligned_out, hog, hog_flat, params_global, params_local, geometry, view

    @staticmethod
    def _check_inputs(bgr: np.ndarray, landmarks) -> np.ndarray:
        if not isinstance(bgr, np.ndarray) or bgr.dtype != np.uint8 or bgr.ndim != 3 or bgr.shape[2] != 3:
            got = f"{getattr(bgr, 'dtype', type(bgr).__name__)} {getattr(bgr, 'shape', '')}"
            raise InputError(f"FaceAnalyser: expected a BGR uint8 (h, w, 3) frame, got {got}; decode frames with OpenCV")
        lm = np.asarray(landmarks, dtype=np.float32)
        if lm.shape != (68, 2):
            raise InputError(f"FaceAnalyser: expected (68, 2) landmarks [x, y] in pixels, got shape {lm.shape}")
        return lm

    def add_next_frame(self, bgr: np.ndarray, landmarks68: np.ndarray, success: bool, timestamp: float,
                       timer: StageTimer = NULL_TIMER) -> AnalysisResult:
        """Analyse the next video frame (``FaceAnalyser::AddNextFrame`` with ``online=false``).

        Parameters
        ----------
        bgr : (h, w, 3) uint8 frame.
        landmarks68 : (68, 2) float landmarks of the tracked face (ignored when ``success`` is False).
        success : whether the tracker found the face in this frame.
        timestamp : seconds.
        """
        lm = self._check_inputs(bgr, landmarks68)
        success = bool(success)
        self.frames_tracking += 1
        aligned, hog, hog_flat, params_global, params_local, geometry, view = self._features(
            bgr, lm if success else None, timer)
        if success:
            self.frames_tracking_succ += 1
        if updates_median(self.frames_tracking):
            with timer("au.median"):
                self.medians.update(self.kernels, hog_flat, geometry, view, success)
        if self._held is not None and success and (self.frames_tracking - 1) % self.predict_every != 0:
            values = self._held  # between key frames: the last prediction stands
            timer.count("au.predict.reused", 1)
        else:
            with timer("au.predict"):
                values = self.predictor.predict(self.kernels, hog_flat, geometry,
                                                self.medians.hog_median, self.medians.geom_median)
            if self.predict_every > 1:
                self._held = values if success else None
        if not success:
            values = values.zeroed()
        for name, v in values.intensity.items():
            self.intensity_history[name].append(v)
        for name, v in values.occurrence.items():
            self.occurrence_history[name].append(v)
        if success and self.frames_tracking_succ - 1 < MAX_INIT_FRAMES:
            self._init_hog.append(hog.reshape(-1).copy())  # float32 holds the FHOG exactly
            self._init_geom.append(geometry)
            self._init_views.append(view)
        self.successes.append(success)
        self.timestamps.append(float(timestamp))
        return AnalysisResult(aligned, hog, values.intensity, values.occurrence, view,
                              params_global, params_local, geometry)

    def predict_static(self, bgr: np.ndarray, landmarks68: np.ndarray,
                       timer: StageTimer = NULL_TIMER) -> AnalysisResult:
        """Image mode (``FaceAnalyser::PredictStaticAUsAndComputeFeatures``): no calibration,
        intensities clipped to [0, 5]. Meant for an analyser built with ``dynamic=False``."""
        lm = self._check_inputs(bgr, landmarks68)
        aligned, hog, hog_flat, params_global, params_local, geometry, view = self._features(bgr, lm, timer)
        with timer("au.predict"):
            values = self.predictor.predict(self.kernels, hog_flat, geometry,
                                            self.medians.hog_median, self.medians.geom_median)
        intensity = {n: min(max(v, 0.0), 5.0) for n, v in values.intensity.items()}
        return AnalysisResult(aligned, hog, intensity, values.occurrence, view, params_global, params_local, geometry)

    # ------------------------------------------------------------------ offline step
    def repredicted(self) -> AUValues:
        """``FaceAnalyser::PostprocessPredictions``: the online history with its first
        ``MAX_INIT_FRAMES`` successful frames re-predicted with the final medians.
        Returns ``AUValues`` whose dict values are (T,) arrays."""
        intensity = {n: np.array(v, dtype=np.float64) for n, v in self.intensity_history.items()}
        occurrence = {n: np.array(v, dtype=np.float64) for n, v in self.occurrence_history.items()}
        if not self.dynamic:
            return AUValues(intensity, occurrence)
        frames = np.flatnonzero(np.array(self.successes, dtype=bool))[:MAX_INIT_FRAMES]
        for k, frame in enumerate(frames):
            v = self.predictor.predict(self.kernels, self._init_hog[k], self._init_geom[k],
                                       self.medians.hog_median, self.medians.geom_median)
            for name, value in v.intensity.items():
                intensity[name][frame] = value
            for name, value in v.occurrence.items():
                occurrence[name][frame] = value
        return AUValues(intensity, occurrence)

    def postprocess(self, intensity=None, occurrence=None, successes=None) -> PostprocessedAUs:
        """The AU values FeatureExtraction writes after the video (``PostprocessOutputFile``).

        Parameters
        ----------
        intensity, occurrence : {"AU01": (T,) online values} or None
            The per-frame online predictions as the run loop recorded them; None: this
            analyser's own history (the same values). Given ones must cover the same T frames.
        successes : (T,) bool or None
            Per-frame tracking success; None: this analyser's own.

        Returns
        -------
        PostprocessedAUs with every intensity and occurrence AU for all T frames.
        """
        n = len(self.successes)
        for given, what in ((intensity, "intensity"), (occurrence, "occurrence"), (successes, "successes")):
            if given is None:
                continue
            lengths = {len(v) for v in given.values()} if isinstance(given, dict) else {len(given)}
            if lengths != {n}:
                raise InputError(f"FaceAnalyser.postprocess: expected {what} for the {n} frames analysed, "
                                 f"got {sorted(lengths)}; pass the values of this analyser's video")
        ok = np.array(self.successes if successes is None else successes, dtype=bool)
        base = self.repredicted()
        # frames re-predicted with the final medians; the others keep their online values
        redone = np.zeros(n, bool)
        if self.dynamic:
            redone[np.flatnonzero(np.array(self.successes, dtype=bool))[:MAX_INIT_FRAMES]] = True
        reg, cls = dict(base.intensity), dict(base.occurrence)
        for target, given in ((reg, intensity), (cls, occurrence)):
            for name, values in (given or {}).items():
                if name not in target:
                    raise InputError(unknown_name("AU", name, target, "FaceAnalyser.postprocess"))
                target[name] = np.where(redone, target[name], np.asarray(values, dtype=np.float64))
        return PostprocessedAUs(
            offline.offline_intensity(reg, ok, self.models.intensity_cutoffs, self.dynamic),
            offline.offline_occurrence(cls),
            ok,
        )
