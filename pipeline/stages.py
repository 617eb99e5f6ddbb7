"""The two stages of a run, as protocols, and how the real ones are loaded.

FeatureExtraction has two libraries at work on each frame: ``LandmarkDetector``
(detection, CLNF tracking, pose, gaze) and ``FaceAnalyser`` (alignment, FHOG, AU
prediction). Here they are :class:`Tracker` and :class:`Analyser`; the run loop
(:mod:`aubench.pipeline.extract`), the batch workers (:mod:`aubench.pipeline.batch`) and the
Python API's stream (:mod:`aubench.api`) all get theirs from :func:`load_stages`, so the
kernels are resolved and the models read in one place. Tests and the harness may pass
stand-ins with the same interface (e.g. :class:`aubench.pipeline.replay.ReplayTracker`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from aubench.pipeline.config import Config
from aubench.pipeline.timing import NULL_TIMER, StageTimer


@runtime_checkable
class TrackOutput(Protocol):
    """One frame's landmark-stage output (e.g. :class:`aubench.pipeline.landmarks.tracker.TrackResult`).

    Required: ``landmarks`` (68, 2) px, ``params_global`` (6,), ``params_local`` (34,),
    ``success`` (the CSV ``success``), ``confidence`` (the CSV ``confidence``).
    Optional attributes the step copies when present (absent or None: zeros in the CSV):
    ``landmarks_3d`` (68, 3) mm, ``pose`` (6,) [Tx, Ty, Tz mm, Rx, Ry, Rz rad],
    ``eye_landmarks_2d`` (56, 2) px, ``eye_landmarks_3d`` (56, 3) mm, ``gaze_0``, ``gaze_1``
    (3,) unit vectors, ``gaze_angle`` (2,) rad; ``detection_success`` (what the AU stage is
    told, default ``success``) and ``analysis_landmarks`` (what the AU stage gets, default
    ``landmarks``).
    """

    landmarks: np.ndarray
    params_global: np.ndarray
    params_local: np.ndarray
    success: bool
    confidence: float


class Tracker(Protocol):
    """The landmark stage: ``aubench.pipeline.landmarks.tracker.LandmarkTracker(models_dir, config, kernels)``."""

    def track(self, bgr: np.ndarray, gray: np.ndarray, timer: StageTimer = NULL_TIMER) -> TrackOutput:
        """One frame: ``bgr`` (h, w, 3) uint8, ``gray`` (h, w) uint8 (``BGR2GRAY``)."""
        ...


class AnalysisOutput(Protocol):
    """One frame's AU-stage output (:class:`aubench.pipeline.au.analyser.AnalysisResult`)."""

    aligned_bgr: np.ndarray  # (112, 112, 3) uint8
    hog: np.ndarray  # (12, 12, 31) float
    au_intensity: Mapping[str, float]
    au_occurrence: Mapping[str, float]


class PostprocessOutput(Protocol):
    """The offline AU values of the whole video: ``{"AU01": (T,) array}`` each."""

    intensity: Mapping[str, np.ndarray]
    occurrence: Mapping[str, np.ndarray]


class Analyser(Protocol):
    """The AU stage: ``aubench.pipeline.au.analyser.FaceAnalyser(models_dir, config.analyser, kernels, dynamic=...)``."""

    intensity_names: tuple[str, ...]
    occurrence_names: tuple[str, ...]

    def add_next_frame(self, bgr: np.ndarray, landmarks68: np.ndarray, success: bool, timestamp: float,
                       timer: StageTimer = NULL_TIMER) -> AnalysisOutput:
        ...

    def postprocess(self, intensity: Mapping[str, Any], occurrence: Mapping[str, Any],
                    successes: Any) -> PostprocessOutput:
        ...


def needs_analyser(config: Config) -> bool:
    """Whether the configured outputs need the AU stage (AU columns, ``.hog`` or aligned faces)."""
    out = config.output
    return bool(out.aus or out.hogalign or out.simalign)


def resolve_kernels(config: Config) -> Any:
    """The configuration's ``[variants]`` resolved (:func:`aubench.pipeline.registry.resolve`)."""
    from aubench.pipeline import registry

    return registry.resolve(config.variant_selection, where="config [variants]")


def load_tracker(models_dir: Path, config: Config, kernels: Any) -> Tracker:
    """``aubench.pipeline.landmarks.tracker.LandmarkTracker(models_dir, config, kernels)``."""
    from aubench.pipeline.landmarks.tracker import LandmarkTracker

    return LandmarkTracker(models_dir, config, kernels)


def load_analyser(models_dir: Path, config: Config, kernels: Any) -> Analyser:
    """``aubench.pipeline.au.analyser.FaceAnalyser(models_dir, config.analyser, kernels, dynamic=...)``."""
    from aubench.pipeline.au.analyser import FaceAnalyser

    return FaceAnalyser(models_dir, config.analyser, kernels, dynamic=config.analyser.dynamic, reuse=config.reuse)


def load_stages(config: Config, models_dir: str | Path | None, kernels: Any, *, tracker: Tracker | None = None,
                analyser: Analyser | None = None) -> tuple[Tracker, Analyser | None]:
    """The stages a run needs, loading those not given.

    Parameters
    ----------
    config : the run's configuration.
    models_dir : the OpenFace model folder; None: :func:`aubench.pipeline.models.locate`.
    kernels : :func:`resolve_kernels` of ``config`` (used only when a stage is loaded).
    tracker, analyser : ready-made stages (a replayed CSV, a test's stand-in); None: the real
        tracker, and the real analyser when the outputs need one (:func:`needs_analyser`).

    Returns
    -------
    ``(tracker, analyser)``; ``analyser`` is None when none was given and no AU output is asked for.
    """
    if stages_to_load(config, tracker, analyser):
        from aubench.pipeline.models import locate

        models = locate(models_dir)
        if tracker is None:
            tracker = load_tracker(models, config, kernels)
        if analyser is None and needs_analyser(config):
            analyser = load_analyser(models, config, kernels)
    return tracker, analyser


def stages_to_load(config: Config, tracker: Tracker | None, analyser: Analyser | None) -> bool:
    """Whether :func:`load_stages` would load anything (and so needs the resolved kernels)."""
    return tracker is None or (analyser is None and needs_analyser(config))
