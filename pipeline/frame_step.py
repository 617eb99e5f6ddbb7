"""One frame through both stages: what ``FeatureExtraction.cpp`` does inside its loop.

:class:`FrameStep` takes a decoded frame through the tracker (``DetectLandmarksInVideo``,
``GetPose``, ``EstimateGaze``) and the AU analyser (``FaceAnalyser::AddNextFrame``) and
returns the CSV row (a :class:`aubench.pipeline.io.records.FaceRecord`) with the analysis
(aligned face, FHOG). :class:`OnlineAUs` keeps every frame's online AU values so the offline
post-processing (``FaceAnalyser::PostprocessOutputFile``) can run once the video is done.

Both the file-writing run loop (:func:`aubench.pipeline.extract.run`) and the Python API's
:class:`aubench.Stream` go through these, so a DataFrame and a CSV of the same frames hold
the same numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from aubench.pipeline.config import Config
from aubench.pipeline.io.csv_out import CsvSchema
from aubench.pipeline.io.records import FaceRecord
from aubench.pipeline.stages import Analyser, AnalysisOutput, PostprocessOutput, Tracker, TrackOutput
from aubench.pipeline.timing import NULL_TIMER, StageTimer

# optional TrackOutput blocks, copied into the FaceRecord field of the same name when present
_OPTIONAL_BLOCKS = ("landmarks_3d", "pose", "eye_landmarks_2d", "eye_landmarks_3d", "gaze_0", "gaze_1", "gaze_angle")


def _present(value: Any) -> bool:
    return value is not None and np.asarray(value).size > 0


def fill_record(record: FaceRecord, tracked: TrackOutput) -> FaceRecord:
    """Copy a tracker's output into ``record`` (optional blocks only when present)."""
    record.success = bool(tracked.success)
    record.confidence = float(tracked.confidence)
    record.landmarks_2d = np.asarray(tracked.landmarks, dtype=np.float64)
    record.params_global = np.asarray(tracked.params_global, dtype=np.float64)
    record.params_local = np.asarray(tracked.params_local, dtype=np.float64)
    for name in _OPTIONAL_BLOCKS:
        value = getattr(tracked, name, None)
        if _present(value):
            setattr(record, name, np.asarray(value, dtype=np.float64))
    return record


def csv_schema(config: Config, tracker: Tracker, analyser: Analyser | None) -> CsvSchema:
    """The CSV's blocks for these stages: ``[output]``'s, the analyser's AU names, no gaze
    block when the landmark model has no eye parts (as FeatureExtraction drops it)."""
    names = {}
    if analyser is not None:
        names = {"au_intensity": tuple(analyser.intensity_names), "au_occurrence": tuple(analyser.occurrence_names)}
    schema = CsvSchema.from_output(config.output, sequence=True, **names)
    if getattr(tracker, "has_eye_model", True) is False:
        schema = dataclasses.replace(schema, gaze=False)
    return schema


@dataclass(frozen=True)
class StepResult:
    """One frame's CSV row and, when the AU stage ran, its analysis (aligned face, FHOG)."""

    record: FaceRecord
    analysis: AnalysisOutput | None


class FrameStep:
    """The per-frame work of FeatureExtraction: track, then analyse the AUs.

    Parameters
    ----------
    tracker : the landmark stage (:class:`aubench.pipeline.stages.Tracker`).
    analyser : the AU stage, or None when no AU output is wanted (AU columns stay as
        OpenFace writes them without an analyser).
    """

    def __init__(self, tracker: Tracker, analyser: Analyser | None):
        self.tracker = tracker
        self.analyser = analyser

    def __call__(self, number: int, timestamp: float, bgr: np.ndarray, gray: np.ndarray,
                 timer: StageTimer = NULL_TIMER) -> StepResult:
        """Frame ``number`` (1-based) at ``timestamp`` s: ``bgr`` (h, w, 3) uint8, ``gray`` its ``BGR2GRAY``."""
        record, tracked = self.track(number, timestamp, bgr, gray, timer)
        return self.analyse(record, tracked, bgr, timer)

    def track(self, number: int, timestamp: float, bgr: np.ndarray, gray: np.ndarray,
              timer: StageTimer = NULL_TIMER) -> tuple[FaceRecord, TrackOutput]:
        """The tracker's half of a frame: its CSV row without AU values, and what the tracker returned.

        Sequential (each frame starts from the previous one's fit); :meth:`analyse` may run on another
        thread, in frame order, since the tracker's output holds copies of its state."""
        record = FaceRecord(frame=number, face_id=0, timestamp=timestamp)
        tracked = self.tracker.track(bgr, gray, timer)
        fill_record(record, tracked)
        return record, tracked

    def track_later(self, number: int, timestamp: float, bgr: np.ndarray, gray: np.ndarray,
                    timer: StageTimer = NULL_TIMER) -> Callable[[StageTimer], tuple[FaceRecord, TrackOutput]]:
        """:meth:`track` with the tracker's outputs (pose, gaze) left to a function called later, possibly on
        another thread (a tracker with ``track_deferred``; others track in full now). The function takes the
        timer of the thread that calls it."""
        deferred = getattr(self.tracker, "track_deferred", None)
        if deferred is None:
            done = self.track(number, timestamp, bgr, gray, timer)
            return lambda _timer: done
        outputs = deferred(bgr, gray, timer)

        def finish(later_timer: StageTimer) -> tuple[FaceRecord, TrackOutput]:
            record = FaceRecord(frame=number, face_id=0, timestamp=timestamp)
            tracked = outputs(later_timer)
            fill_record(record, tracked)
            return record, tracked

        return finish

    def analyse(self, record: FaceRecord, tracked: TrackOutput, bgr: np.ndarray,
                timer: StageTimer = NULL_TIMER) -> StepResult:
        """The AU stage's half (``FaceAnalyser::AddNextFrame``): ``record``'s AU values filled in.

        Frames must come in order: the analyser's running medians depend on every earlier frame."""
        analysis = None
        if self.analyser is not None:
            # FaceAnalyser receives the model's own detection_success (C++: face_model.detection_success),
            # which differs from the written success flag on a first detection that fails validation.
            model_success = bool(getattr(tracked, "detection_success", record.success))
            # a replayed CSV gives the AU stage its unrounded landmarks and writes the recorded ones
            landmarks = getattr(tracked, "analysis_landmarks", None)
            if landmarks is None:
                landmarks = record.landmarks_2d
            with timer("au"):
                analysis = self.analyser.add_next_frame(bgr, landmarks, model_success, record.timestamp, timer)
            record.au_intensity = {k: float(v) for k, v in analysis.au_intensity.items()}
            record.au_occurrence = {k: float(v) for k, v in analysis.au_occurrence.items()}
        return StepResult(record, analysis)

    def reset(self) -> None:
        """Forget the face and the person (a new video): ``reset()`` on each stage that has one."""
        for stage in (self.tracker, self.analyser):
            if stage is not None and hasattr(stage, "reset"):
                stage.reset()


class OnlineAUs:
    """Every frame's online AU values and tracking success, for the offline post-processing.

    Parameters
    ----------
    schema : the CSV's schema; its AU names are the ones kept (a name the analyser did not
        give for a frame is kept as 0, as the CSV writes it).
    """

    def __init__(self, schema: CsvSchema):
        self.intensity: dict[str, list[float]] = {n: [] for n in schema.intensity_names}
        self.occurrence: dict[str, list[float]] = {n: [] for n in schema.occurrence_names}
        self.successes: list[bool] = []

    def __len__(self) -> int:
        return len(self.successes)

    def add(self, record: FaceRecord) -> None:
        """Keep ``record``'s AU values and success flag."""
        for n, values in self.intensity.items():
            values.append(record.au_intensity.get(n, 0.0))
        for n, values in self.occurrence.items():
            values.append(record.au_occurrence.get(n, 0.0))
        self.successes.append(record.success)

    def postprocess(self, analyser: Analyser) -> PostprocessOutput:
        """The offline AU values of every frame kept (``FaceAnalyser::PostprocessOutputFile``)."""
        return analyser.postprocess(self.intensity, self.occurrence, np.array(self.successes, dtype=bool))
