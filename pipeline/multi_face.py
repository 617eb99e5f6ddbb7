"""Several faces tracked at once, as OpenFace 2.2's FaceLandmarkVidMulti does it.

Mirrors ``FaceLandmarkVidMulti.cpp``. A fixed set of ``[multi_face] max_faces`` (4) CLNF
models, each either free or tracking one face; the model's index is the CSV ``face_id``.
Every frame (``frame_count`` counts from 0):

1. when ``frame_count % detect_every == 0`` (every 8th frame, from the first) and a model
   is free, MTCNN finds every face (``DetectFacesMTCNN``);
2. detections whose box overlaps a model's landmark box with IoU > ``overlap_iou`` are
   dropped (``NonOverlapingDetections``; a free model's landmarks are all zero, so its box
   is empty and overlaps nothing). This runs on every frame, with or without detections;
3. in model order: a model with more than ``max_failures`` failures in a row is freed
   (``CLNF::Reset``); a free model takes the first detection not yet taken and fits from
   it (:meth:`aubench.pipeline.landmarks.tracker.LandmarkTracker.start_from_box`); a model
   already tracking fits from its previous parameters
   (:meth:`~aubench.pipeline.landmarks.tracker.LandmarkTracker.track_only`:
   ``DetectLandmarksInVideo`` with ``reinit_video_every = -1``, so it never re-detects);
4. ``RemoveOverlapingModels``: a tracking model whose landmark box overlaps a later
   tracking model's with IoU > ``overlap_iou`` is freed (the earlier one goes);
5. for each tracking model, in order: pose, 3D shape, eye landmarks, the gaze when the
   model's ``detection_success`` holds, the static AU models on its landmarks
   (``FaceAnalyser::PredictStaticAUsAndComputeFeatures``: no calibration, no
   post-processing), then one CSV row, ``.hog`` record and aligned face
   (``frame_det_<face_id:02d>_<frame:06d>.bmp``). A frame with no tracking model has no row.

The pure pieces (:func:`landmark_box`, :func:`iou`, :func:`non_overlapping_detections`,
:func:`overlapping_models`, :func:`assign_detections`) are the C++ helpers'
decisions with the same float arithmetic (``cv::Rect_<float>``), so a tie at the threshold
goes the way the C++ goes. :func:`run_multi_face` is the run loop, built like
:func:`aubench.pipeline.extract.run` (same outputs, claim, signals, progress, JIT metering).
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from aubench.pipeline.compile_notice import CompileNotice
from aubench.pipeline.config import Config
from aubench.pipeline.errors import InputError, check_stop, deferred_signals
from aubench.pipeline.extract import _damage_notice, _Outputs, _timed_frames, make_out_dir  # same files, same way
from aubench.pipeline.frame_step import csv_schema
from aubench.pipeline.io.claim import claim_outputs
from aubench.pipeline.io.frames import open_input
from aubench.pipeline.io.records import FaceRecord
from aubench.pipeline.io.tracked import annotate, write_tracked_image
from aubench.pipeline.landmarks.tracker import LandmarkTracker, TrackResult, c_mod, to_gray
from aubench.pipeline.progress import progress_bar, progress_writer
from aubench.pipeline.run_result import RunResult, peak_rss_mb
from aubench.pipeline.stages import needs_analyser, resolve_kernels
from aubench.pipeline.timing import NULL_TIMER, JitMeter, StageTimer

F32 = np.float32
Box = tuple[float, float, float, float]  # x, y, width, height in px (a cv::Rect_<float>)


# -- the C++ helpers' decisions -----------------------------------------------------------------

def landmark_box(landmarks: np.ndarray) -> Box:
    """``CLNF::GetBoundingBox``: the (n, 2) landmarks' extent as (x, y, w, h), in float32
    (``ExtractBoundingBox``). A reset model's landmarks are all zero: the box is (0, 0, 0, 0)."""
    lm = np.asarray(landmarks, dtype=F32).reshape(-1, 2)
    min_x, max_x = lm[:, 0].min(), lm[:, 0].max()
    min_y, max_y = lm[:, 1].min(), lm[:, 1].max()
    return (float(min_x), float(min_y), float(F32(max_x - min_x)), float(F32(max_y - min_y)))


def _intersection_area(a: Box, b: Box) -> F32:
    """``(a & b).area()`` for ``cv::Rect_<float>`` (OpenCV 4's ``operator&=``), in float32."""
    ax, ay, aw, ah = (F32(v) for v in a)
    bx, by, bw, bh = (F32(v) for v in b)
    if aw <= 0 or ah <= 0 or bw <= 0 or bh <= 0:  # an empty rect intersects nothing
        return F32(0)
    (x_lo, w_lo), (x_hi, w_hi) = ((ax, aw), (bx, bw)) if ax < bx else ((bx, bw), (ax, aw))
    (y_lo, h_lo), (y_hi, h_hi) = ((ay, ah), (by, bh)) if ay < by else ((by, bh), (ay, ah))
    if (x_lo < 0 and x_lo + w_lo < x_hi) or (y_lo < 0 and y_lo + h_lo < y_hi):
        return F32(0)
    width = min(F32(w_lo - F32(x_hi - x_lo)), w_hi)
    height = min(F32(h_lo - F32(y_hi - y_lo)), h_hi)
    if width <= 0 or height <= 0:
        return F32(0)
    return F32(width * height)


def iou(a: Box, b: Box) -> float:
    """FaceLandmarkVidMulti's ``IOU``: intersection over union of two (x, y, w, h) boxes.

    The areas are float32 (``cv::Rect_<float>::area``); the union is the float sum of the two
    areas less the intersection, in double. Two empty boxes give NaN there (0/0), which no
    threshold test passes; here they give 0, which passes none either.
    """
    inter = _intersection_area(a, b)
    area_a = F32(F32(a[2]) * F32(a[3]))
    area_b = F32(F32(b[2]) * F32(b[3]))
    union = float(F32(area_a + area_b)) - float(inter)
    if union <= 0:
        return 0.0
    return float(inter) / union


def non_overlapping_detections(model_boxes: Sequence[Box], detections: Sequence[Any], threshold: float) -> list:
    """``NonOverlapingDetections``: the detections (``x, y, w, h`` attributes or 4-sequences)
    whose box overlaps no model's box with IoU above ``threshold``, in their order.
    Every model counts, free ones too (their empty box overlaps nothing)."""
    def as_box(d: Any) -> Box:
        return (d.x, d.y, d.w, d.h) if hasattr(d, "x") else tuple(d)

    kept = list(detections)
    for box in model_boxes:
        kept = [d for d in kept if not iou(box, as_box(d)) > threshold]
    return kept


def overlapping_models(boxes: Sequence[Box], active: Sequence[bool], threshold: float) -> list[int]:
    """``RemoveOverlapingModels``: the active models to free, in order: each one whose box
    overlaps a later active model's with IoU above ``threshold`` (the earlier model goes).

    The C++ frees models while it walks them, but a model is only freed on its own turn and
    only later models are compared with it, so walking the flags as given decides the same.
    """
    n = len(boxes)
    return [i for i in range(n) if active[i]
            and any(active[j] and iou(boxes[i], boxes[j]) > threshold for j in range(i + 1, n))]


def assign_detections(free: Sequence[bool], n_detections: int) -> dict[int, int]:
    """The per-model loop's slot assignment: each free model, in order, takes the first
    detection not taken yet, until they run out. Returns ``{model index: detection index}``."""
    taken = {}
    next_detection = 0
    for model, is_free in enumerate(free):
        if is_free and next_detection < n_detections:
            taken[model] = next_detection
            next_detection += 1
    return taken


# -- the tracker --------------------------------------------------------------------------------

@dataclass
class FaceTrack:
    """One tracking model's outputs on one frame: ``face_id`` (the model's index), ``track``
    (how many times that model has started on a face, counting from 1) and the tracker result."""

    face_id: int
    track: int
    result: TrackResult


class MultiFaceTracker:
    """FaceLandmarkVidMulti's tracker: ``max_faces`` CLNF models sharing one set of model files.

    Parameters
    ----------
    models_dir : OpenFace model folder (holding ``model/``).
    config : the configuration (``[multi_face]``, ``[landmarks]``, ``[detector]``, ``[camera]``).
    kernels : resolved :class:`aubench.pipeline.registry.Kernels`.
    detector, clnf : optional ready-made stand-ins, as for
        :class:`aubench.pipeline.landmarks.tracker.LandmarkTracker`; ``detector.detect(bgr)``
        returns every face (objects with ``x, y, w, h``) in the detector's order.
    """

    def __init__(self, models_dir: str | Path, config: Config, kernels: Any, *, detector: Any = None,
                 clnf: Any = None):
        self.config = config
        self.params = config.multi_face
        first = LandmarkTracker(models_dir, config, kernels, detector=detector, clnf=clnf)
        # one CLNF (read once; its caches are pure) behind every model, each model its own state
        self.models = [first] + [LandmarkTracker(models_dir, config, kernels, detector=detector, clnf=first.clnf)
                                 for _ in range(self.params.max_faces - 1)]
        self.has_eye_model = first.has_eye_model
        self.reset()

    @property
    def detector(self) -> Any:
        """The MTCNN detector (loaded on first use)."""
        return self.models[0].detector

    def reset(self) -> None:
        """Free every model (a new video)."""
        for model in self.models:
            model.reset()
        self.active = [False] * len(self.models)
        self.starts = [0] * len(self.models)
        self.frame_count = 0

    def boxes(self) -> list[Box]:
        """Every model's landmark box (:func:`landmark_box`; free models: empty)."""
        return [landmark_box(m.state.landmarks) for m in self.models]

    def _free(self, index: int) -> None:
        self.active[index] = False
        self.models[index].reset()

    def step(self, bgr: np.ndarray, gray: np.ndarray | None = None, timer: StageTimer = NULL_TIMER) -> list[FaceTrack]:
        """One frame (``bgr`` (h, w, 3) uint8, ``gray`` its ``BGR2GRAY``): detection, tracking,
        overlap removal; returns the tracking models' outputs in ``face_id`` order."""
        p = self.params
        if gray is None:
            gray = to_gray(bgr)
        detections: list = []
        if c_mod(self.frame_count, p.detect_every) == 0 and not all(self.active):
            with timer("detect"):
                detections = self.detector.detect(bgr)
        detections = non_overlapping_detections(self.boxes(), detections, p.overlap_iou)
        # a model's freeing depends on its own failure count only: decided first, same outcome
        for i, model in enumerate(self.models):
            if model.state.failures_in_a_row > p.max_failures:
                self._free(i)
        taken = assign_detections([not a for a in self.active], len(detections))
        for i, model in enumerate(self.models):
            if i in taken:
                d = detections[taken[i]]
                box = (d.x, d.y, d.w, d.h) if hasattr(d, "x") else tuple(d)
                model.start_from_box(gray, box, timer)
                self.active[i] = True
                self.starts[i] += 1
            elif self.active[i]:
                model.track_only(gray, timer)
        for i in overlapping_models(self.boxes(), self.active, p.overlap_iou):
            self._free(i)
        self.frame_count += 1
        height, width = gray.shape[:2]
        return [FaceTrack(i, self.starts[i], self.models[i].outputs(width, height, timer))
                for i in range(len(self.models)) if self.active[i]]


# -- the run loop -------------------------------------------------------------------------------

def load_multi_face_stages(config: Config, models_dir: str | Path | None, kernels: Any):
    """The multi-face tracker and, when the outputs need one, the static AU analyser
    (``FaceAnalyserParameters::OptimizeForImages``: FaceLandmarkVidMulti never re-identifies a face,
    so it never calibrates to a person)."""
    from aubench.pipeline.models import locate

    models = locate(models_dir)
    tracker = MultiFaceTracker(models, config, kernels)
    analyser = None
    if needs_analyser(config):
        from aubench.pipeline.au.analyser import FaceAnalyser

        analyser = FaceAnalyser(models, config.analyser, kernels, dynamic=False)
    return tracker, analyser


def face_record(number: int, timestamp: float, track: FaceTrack) -> FaceRecord:
    """The CSV row of one tracked face (without its AU values)."""
    record = FaceRecord(frame=number, face_id=track.face_id, timestamp=timestamp)
    return track.result.fill_record(record)


def run_multi_face(input_path: str | Path, out_dir: str | Path, config: Config, *, frames: int | None = None,
                   progress: bool = True, models_dir: str | Path | None = None,
                   progress_stream: TextIO | None = None, timer: StageTimer = NULL_TIMER,
                   tracker: MultiFaceTracker | None = None, analyser: Any = None,
                   out_name: str | None = None) -> RunResult:
    """Run FaceLandmarkVidMulti on ``input_path``; write ``out_dir/<stem>.csv`` (+ ``.hog``, ``_aligned/``).

    Parameters
    ----------
    input_path : a video file (or an image / a folder of images, read as a sequence).
    out_dir : output folder (created); claimed per stem as :func:`aubench.pipeline.extract.run` does.
    config : the configuration; ``[multi_face]`` holds the tracker's constants, ``[output]``
        the CSV blocks, ``hogalign``, ``simalign`` and ``nobadaligned``.
    frames : process only the first ``frames`` frames.
    progress : a progress bar over frames on ``progress_stream`` (default stderr).
    models_dir : the OpenFace model folder (default: :func:`aubench.pipeline.models.locate`).
    timer : per-stage timings (``decode``, ``detect``, ``landmarks``, ``pose``, ``gaze``, ``au``, ``write``).
    tracker, analyser : ready-made stages (tests); ``tracker`` is reset before the first frame.
    out_name : name the outputs ``out_name.csv`` etc. instead of after the input (OpenFace's ``-of``).

    With ``[output] tracked`` every frame is also drawn, each tracked face with its id, landmarks,
    gaze, pose box and its three strongest AUs (static models), into ``<stem>.avi``.

    Returns
    -------
    RunResult: ``frames`` counts the frames processed; the CSV has one row per tracked face per
    frame, in ``face_id`` order. A run stopped by Ctrl-C or SIGTERM leaves the rows of the frames done.
    """
    start = time.perf_counter()
    if frames is not None and frames < 1:
        raise InputError(f"--frames {frames}: expected a positive number of frames; give --frames 1 or more")
    source = open_input(input_path)
    source.out_name = out_name
    out_dir = Path(out_dir)
    make_out_dir(out_dir)
    stream = (progress_stream or sys.stderr) if progress and config.runtime.progress else None
    jit = JitMeter()
    notice = CompileNotice(progress_writer(stream))

    claim = None
    rows = 0
    tracks: set[tuple[int, int]] = set()
    most_at_once = 0
    try:
        claim = claim_outputs(out_dir, source.stem)
        if tracker is None or (analyser is None and needs_analyser(config)):
            kernels = resolve_kernels(config)
            jit.start()
            notice.start()
            loaded_tracker, loaded_analyser = load_multi_face_stages(config, models_dir, kernels)
            tracker = tracker or loaded_tracker
            analyser = analyser if analyser is not None else loaded_analyser
        jit.start()
        notice.start()
        tracker.reset()
        schema = csv_schema(config, tracker.models[0], analyser)
        claim.clear_stale()
        outputs = _Outputs(out_dir, source, config, schema, au_stage=analyser is not None)
        total = source.frame_count if frames is None else min(frames, source.frame_count or frames)
        bar = progress_bar(total, stream, f"aubench run --multi-face {source.path.name}")
        done = 0
        failed = True
        try:
            with deferred_signals():  # Ctrl-C / SIGTERM stop the run between frames
                for frame in itertools.islice(_timed_frames(iter(source), timer), frames):
                    faces = tracker.step(frame.bgr, frame.gray, timer)
                    drawn_records = []
                    for face in faces:
                        record = face_record(frame.number, frame.timestamp, face)
                        analysis = None
                        if analyser is not None:
                            with timer("au"):
                                analysis = analyser.predict_static(frame.bgr, record.landmarks_2d, timer)
                            record.au_intensity = {k: float(v) for k, v in analysis.au_intensity.items()}
                            record.au_occurrence = {k: float(v) for k, v in analysis.au_occurrence.items()}
                        with timer("write"):
                            outputs.csv.write(record)
                            if outputs.hog is not None:
                                outputs.hog.write(analysis.hog, record.success)
                            if outputs.aligned is not None:
                                outputs.aligned.write(frame.number, analysis.aligned_bgr, record.success,
                                                      face_id=face.face_id)
                        rows += 1
                        tracks.add((face.face_id, face.track))
                        drawn_records.append(record)
                    if outputs.tracked_path is not None:  # one annotated frame per frame, faces or not
                        with timer("write"):
                            drawn = annotate(frame.bgr, drawn_records, outputs.intrinsics, au_panel=outputs.au_panel,
                                             au_values="static")
                            if outputs.tracked is not None:
                                outputs.tracked.write(drawn)
                            else:
                                write_tracked_image(outputs.tracked_path, drawn)
                    most_at_once = max(most_at_once, len(faces))
                    timer.next_frame()
                    done += 1
                    notice.frame_done()
                    bar.update()
                    check_stop()
            failed = False
        finally:
            outputs.close()
            bar.close()
            if failed:
                outputs.remove_if_no_frame()
        damage = _damage_notice(source, outputs, done)
    finally:
        if claim is not None:
            claim.release()
        source.close()
        jit_s = jit.stop()
        notice.stop()
    ids = sorted({face_id for face_id, _ in tracks})
    notes = [f"faces: {rows} rows, {len(tracks)} face tracks (face_id {', '.join(map(str, ids)) or 'none'}), "
             f"at most {most_at_once} at once"]
    ran = ["detect", "landmarks", "pose", "gaze"] + (["au (static models)"] if analyser is not None else [])
    return RunResult(csv=outputs.csv_path, frames=done, wall_s=time.perf_counter() - start, hog=outputs.hog_path,
                     aligned_dir=outputs.aligned_dir, stages_ran=ran, peak_rss_mb=peak_rss_mb(), notes=notes,
                     jit_s=jit_s, input_notice=damage, tracked=outputs.tracked_path)
