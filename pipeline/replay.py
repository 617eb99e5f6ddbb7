"""Replaying an OpenFace CSV in place of the tracker (``aubench run --landmarks-from``).

:class:`ReplayTracker` is a :class:`aubench.pipeline.stages.Tracker` whose frames are the
rows of a CSV that C++ OpenFace (or an earlier run) wrote, so the AU stage can be run and
measured on its own, on the landmarks C++ used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aubench.pipeline.errors import InputError
from aubench.pipeline.io.openface_csv import OpenFaceTable, read_openface_csv
from aubench.pipeline.landmarks import recorded
from aubench.pipeline.timing import NULL_TIMER, StageTimer


@dataclass
class ReplayedFrame:
    """A frame's landmark-stage values as an OpenFace CSV recorded them (a :class:`aubench.pipeline.stages.TrackOutput`)."""

    landmarks: np.ndarray
    params_global: np.ndarray
    params_local: np.ndarray
    success: bool
    confidence: float
    landmarks_3d: np.ndarray | None = None
    pose: np.ndarray | None = None
    eye_landmarks_2d: np.ndarray | None = None
    eye_landmarks_3d: np.ndarray | None = None
    gaze_0: np.ndarray | None = None
    gaze_1: np.ndarray | None = None
    gaze_angle: np.ndarray | None = None
    analysis_landmarks: np.ndarray | None = None  # what the AU stage gets (unrounded); None: ``landmarks``


class ReplayTracker:
    """A :class:`aubench.pipeline.stages.Tracker` that replays an OpenFace CSV: frame ``k`` gets the row with ``frame == k``.

    Landmarks, PDM parameters, success and confidence are required; pose, 3D landmarks,
    eye landmarks and gaze are copied when the CSV has them. An image-schema CSV
    (FaceLandmarkImg) gives its first face to frame 1.

    ``unround`` (default): the AU stage gets, for each row, the PDM shape that explains the
    CSV's 0.1-px landmarks, its 0.001 parameters and its 0.1-mm 3D landmarks
    (:mod:`aubench.pipeline.landmarks.recorded`), 6-40x closer to the landmarks C++ OpenFace used
    than the rounded ones; the written CSV keeps the recorded landmarks. A row that is not
    one PDM shape is used as recorded (``rows_kept_as_recorded`` counts them).
    ``models_dir`` locates the PDM.
    """

    def __init__(self, csv: str | Path | OpenFaceTable, *, unround: bool = True,
                 models_dir: str | Path | None = None):
        table = csv if isinstance(csv, OpenFaceTable) else read_openface_csv(csv)
        self.path = table.path
        n = len(table)
        if n == 0:
            raise InputError(f"{table.path}: the CSV has no rows; give the OpenFace CSV of this input for --landmarks-from")
        self.landmarks = table.landmarks_2d()
        self.params_global = table.params_global()
        self.params_local = table.params_local()
        self.success = table.success
        self.confidence = table.confidence
        self.optional: dict[str, np.ndarray] = {}
        getters = {"landmarks_3d": table.landmarks_3d, "pose": table.pose, "eye_landmarks_2d": table.eye_landmarks_2d,
                   "eye_landmarks_3d": table.eye_landmarks_3d}
        for name, get in getters.items():
            try:
                self.optional[name] = get()
            except InputError:
                pass
        if table.has("gaze_0_x"):
            self.optional["gaze_0"], self.optional["gaze_1"], self.optional["gaze_angle"] = table.gaze()
        if table.is_sequence:
            frames = table.frame
            self._row = {int(f): i for i, f in enumerate(frames) if int(table.face_id[i]) == 0}
        else:
            self._row = {1: 0}
        self._next = 1
        self._shape = None
        self._camera = False  # estimated on the first frame (needs the image size)
        self.rows_unrounded = self.rows_kept_as_recorded = self.rows_unrounded_3d = 0
        if unround:
            pdm = recorded.landmark_pdm(models_dir)
            if pdm.n_points == self.landmarks.shape[1] and pdm.n_modes == self.params_local.shape[1]:
                self._pdm, self._shape = pdm, recorded.RecordShape(pdm)

    @property
    def replayed(self) -> tuple[str, ...]:
        """The optional blocks the CSV provides (``pose``, ``gaze_0``, ...)."""
        return tuple(self.optional)

    def track(self, bgr: np.ndarray, gray: np.ndarray, timer: StageTimer = NULL_TIMER) -> ReplayedFrame:
        frame, self._next = self._next, self._next + 1
        with timer("landmarks"):
            i = self._row.get(frame)
            if i is None:
                raise InputError(f"{self.path}: no row for frame {frame} (the CSV covers frames "
                                 f"{min(self._row)}..{max(self._row)}); give the CSV written for this input, "
                                 "or limit the run with --frames")
            analysis = None
            if self._shape is not None:
                points_3d = self.optional.get("landmarks_3d")
                if self._camera is False:
                    size = (bgr.shape[1], bgr.shape[0])
                    self._camera = (None if points_3d is None
                                    else recorded.estimate_intrinsics(self.landmarks, points_3d, size))
                u = recorded.unround(self._pdm, self.landmarks[i], self.params_global[i], self.params_local[i],
                            landmarks_3d=None if self._camera is None else points_3d[i], camera=self._camera,
                            shape=self._shape)
                analysis = u.landmarks
                self.rows_unrounded += u.used
                self.rows_unrounded_3d += u.used_3d
                self.rows_kept_as_recorded += not u.used
            return ReplayedFrame(
                landmarks=self.landmarks[i], params_global=self.params_global[i], params_local=self.params_local[i],
                success=bool(self.success[i]), confidence=float(self.confidence[i]), analysis_landmarks=analysis,
                **{name: values[i] for name, values in self.optional.items()},
            )
