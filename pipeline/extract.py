"""The run loop: OpenFace 2.2 FeatureExtraction on one input (what ``aubench run`` calls).

Mirrors ``FeatureExtraction.cpp``'s main loop. For every frame of the input
(:mod:`aubench.pipeline.io.frames`):

1. landmarks: the tracker (``DetectLandmarksInVideo``: MTCNN (re)detection and CLNF
   tracking), which also gives the head pose (``GetPose``), the 3D landmarks
   (``CLNF::GetShape``), the eye landmarks and, on tracked frames, the gaze
   (``EstimateGaze``, ``GetGazeAngle``);
2. AUs: ``FaceAnalyser::AddNextFrame`` (alignment, FHOG, geometry, running medians,
   online predictions);
3. the CSV row, the ``.hog`` record and the aligned face (``RecorderOpenFace::WriteObservation``),
   each flushed as written.

After the last frame the AU columns are rewritten with the offline post-processed
values (``FaceAnalyser::PostprocessOutputFile``). A run stopped before that (Ctrl-C, an
error) leaves a valid CSV of the frames done, with the online AU values.

The stages are small protocols (:class:`Tracker`, :class:`Analyser`); :class:`RunResult`
lists what ran.
``landmarks_from`` replays an existing OpenFace CSV (:class:`ReplayTracker`) in place of
the tracker, so the AU stage can be run and measured on its own.

Per-frame timing goes to the ``timer`` (:class:`aubench.pipeline.timing.StageTimer`): the loop
times ``decode``, ``au`` and ``write``; the tracker times ``detect``, ``landmarks``,
``pose`` and ``gaze`` itself (the replay tracker times ``landmarks``).
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO, runtime_checkable

import numpy as np

from aubench.pipeline.config import Config
from aubench.pipeline.errors import InputError
from aubench.pipeline.io.aligned import AlignedWriter
from aubench.pipeline.io.csv_out import CsvSchema, CsvWriter, rewrite_au_columns
from aubench.pipeline.io.frames import open_input
from aubench.pipeline.io.hog_file import HogWriter
from aubench.pipeline.io.openface_csv import OpenFaceTable, read_openface_csv
from aubench.pipeline.io.records import FaceRecord
from aubench.pipeline.landmarks import recorded
from aubench.pipeline.timing import NULL_TIMER, JitMeter, StageTimer


# --------------------------------------------------------------------------- stage protocols

@runtime_checkable
class TrackOutput(Protocol):
    """One frame's landmark-stage output (e.g. :class:`aubench.pipeline.landmarks.tracker.TrackResult`).

    Required: ``landmarks`` (68, 2) px, ``params_global`` (6,), ``params_local`` (34,),
    ``success`` (the CSV ``success``), ``confidence`` (the CSV ``confidence``).
    Optional attributes the loop copies when present (absent or None: zeros in the CSV):
    ``landmarks_3d`` (68, 3) mm, ``pose`` (6,) [Tx, Ty, Tz mm, Rx, Ry, Rz rad],
    ``eye_landmarks_2d`` (56, 2) px, ``eye_landmarks_3d`` (56, 3) mm, ``gaze_0``, ``gaze_1``
    (3,) unit vectors, ``gaze_angle`` (2,) rad.
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


# --------------------------------------------------------------------------- replaying a CSV

@dataclass
class ReplayedFrame:
    """A frame's landmark-stage values as an OpenFace CSV recorded them (a :class:`TrackOutput`)."""

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
    """A :class:`Tracker` that replays an OpenFace CSV: frame ``k`` gets the row with ``frame == k``.

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


# --------------------------------------------------------------------------- loading stages

def load_tracker(models_dir: Path, config: Config, kernels: Any) -> Tracker:
    """``aubench.pipeline.landmarks.tracker.LandmarkTracker(models_dir, config, kernels)``."""
    module = importlib.import_module("aubench.pipeline.landmarks.tracker")
    return module.LandmarkTracker(models_dir, config, kernels)


def load_analyser(models_dir: Path, config: Config, kernels: Any) -> Analyser:
    """``aubench.pipeline.au.analyser.FaceAnalyser(models_dir, config.analyser, kernels, dynamic=...)``."""
    module = importlib.import_module("aubench.pipeline.au.analyser")
    return module.FaceAnalyser(models_dir, config.analyser, kernels, dynamic=config.analyser.dynamic)


# --------------------------------------------------------------------------- progress

class Progress:
    """Frames done / total, fps and ETA on ``stream`` (one updating line on a terminal)."""

    def __init__(self, total: int | None, stream: TextIO | None, label: str, interval_s: float | None = None):
        self.total = total or None
        self.stream = stream
        self.label = label
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self.interval = interval_s if interval_s is not None else (0.5 if self.tty else 5.0)
        self.start = time.perf_counter()
        self._last = self.start
        self._printed = False

    def _line(self, done: int) -> str:
        elapsed = time.perf_counter() - self.start
        fps = done / elapsed if elapsed > 0 else 0.0
        if self.total:
            pct = 100.0 * done / self.total
            eta = (self.total - done) / fps if fps > 0 else float("nan")
            eta_txt = f"ETA {eta:.0f} s" if eta == eta else "ETA ?"
            return f"{self.label}: frame {done}/{self.total} ({pct:.0f}%), {fps:.1f} fps, {eta_txt}"
        return f"{self.label}: frame {done}, {fps:.1f} fps"

    def update(self, done: int) -> None:
        if self.stream is None:
            return
        now = time.perf_counter()
        if now - self._last < self.interval:
            return
        self._last = now
        self._emit(self._line(done))

    def _emit(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self._printed = True

    def finish(self, done: int) -> None:
        if self.stream is None:
            return
        if self._printed or self.tty:
            self._emit(self._line(done))
            if self.tty:
                self.stream.write("\n")
                self.stream.flush()


# --------------------------------------------------------------------------- the loop

@dataclass
class RunResult:
    """What a run wrote and which stages ran."""

    csv: Path
    frames: int
    wall_s: float
    hog: Path | None = None
    aligned_dir: Path | None = None
    stages_ran: list[str] = field(default_factory=list)
    postprocessed: bool = False
    postprocess_ms: float = 0.0
    peak_rss_mb: float = 0.0
    notes: list[str] = field(default_factory=list)
    jit_s: float = 0.0  # Numba compiling / loading cached code during the run (aubench.pipeline.timing.JitMeter)

    def summary(self) -> str:
        """Lines for the user: what was written, the JIT warm-up apart, the stages run and any notes."""
        fps = self.frames / self.wall_s if self.wall_s > 0 else 0.0
        rss = f", peak RSS {self.peak_rss_mb:.0f} MiB" if self.peak_rss_mb else ""
        lines = [f"wrote {self.csv} ({self.frames} frames in {self.wall_s:.1f} s, {fps:.1f} fps{rss})"]
        if self.jit_s > 0.0005 and self.wall_s > self.jit_s:
            lines.append(f"JIT warm-up (Numba compiling or loading its cache, reported apart): {self.jit_s:.2f} s; "
                         f"{self.frames / (self.wall_s - self.jit_s):.1f} fps without it")
        for path in (self.hog, self.aligned_dir):
            if path is not None:
                lines.append(f"wrote {path}")
        lines.append("stages run: " + ", ".join(self.stages_ran))
        lines += self.notes
        return "\n".join(lines)


def _present(value: Any) -> bool:
    return value is not None and np.asarray(value).size > 0


def fill_record(record: FaceRecord, tracked: TrackOutput) -> FaceRecord:
    """Copy a tracker's output into ``record`` (optional blocks only when present)."""
    record.success = bool(tracked.success)
    record.confidence = float(tracked.confidence)
    record.landmarks_2d = np.asarray(tracked.landmarks, dtype=np.float64)
    record.params_global = np.asarray(tracked.params_global, dtype=np.float64)
    record.params_local = np.asarray(tracked.params_local, dtype=np.float64)
    for name, attr in (("landmarks_3d", "landmarks_3d"), ("pose", "pose"), ("eye_landmarks_2d", "eye_landmarks_2d"),
                       ("eye_landmarks_3d", "eye_landmarks_3d"), ("gaze_0", "gaze_0"), ("gaze_1", "gaze_1"),
                       ("gaze_angle", "gaze_angle")):
        value = getattr(tracked, attr, None)
        if _present(value):
            setattr(record, name, np.asarray(value, dtype=np.float64))
    return record


def write_of_details(path: Path, source: Any, config: Config, schema: CsvSchema, csv_path: Path,
                     hog_path: Path | None, aligned_dir: Path | None) -> None:
    """``<stem>_of_details.txt`` as ``RecorderOpenFace`` writes it (input, camera, outputs)."""
    cam = config.camera
    fx, fy, cx, cy = source.intrinsics(cam.fx, cam.fy, cam.cx, cam.cy)
    lines = [f"Input:{source.path}", f"Input full path:{source.path.resolve()}",
             f"Camera parameters:{fx:g},{fy:g},{cx:g},{cy:g}"]
    if hog_path is not None:
        lines.append(f"Output HOG:{hog_path.name}")
    if aligned_dir is not None:
        lines.append(f"Output aligned directory:{aligned_dir.name}")
    lines.append(f"Output csv:{csv_path.name}")
    for label, on in (("Gaze", schema.gaze), ("AUs", schema.aus), ("Landmarks 2D", schema.landmarks_2d),
                      ("Landmarks 3D", schema.landmarks_3d), ("Pose", schema.pose), ("Shape parameters", schema.pdmparams)):
        lines.append(f"{label}: {int(on)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _timed_frames(frames: Iterator, timer: StageTimer) -> Iterator:
    """The input's frames, each decode timed as stage ``decode``."""
    while True:
        with timer("decode"):
            frame = next(frames, None)
        if frame is None:
            return
        yield frame


def run(input_path: str | Path, out_dir: str | Path, config: Config | None = None, timer: StageTimer = NULL_TIMER,
        *, frames: int | None = None, landmarks_from: str | Path | None = None, unround_landmarks: bool = True,
        progress: bool = True,
        models_dir: str | Path | None = None, tracker: Tracker | None = None, analyser: Analyser | None = None,
        progress_stream: TextIO | None = None) -> RunResult:
    """Run FeatureExtraction on ``input_path``; write ``out_dir/<stem>.csv`` (+ ``.hog``, ``_aligned/``).

    Parameters
    ----------
    input_path : a video file, an image or a folder of images.
    out_dir : output folder (created).
    config : the configuration (default: the reference); ``[output]`` selects the CSV blocks,
        ``hogalign``, ``simalign`` and ``nobadaligned``; ``[camera]`` the intrinsics.
    timer : per-stage, per-frame timings; ``timer.next_frame()`` is called after each frame.
    frames : process only the first ``frames`` frames.
    landmarks_from : replay this OpenFace CSV's landmarks, success, confidence, pose, gaze
        and eye landmarks instead of running the tracker.
    unround_landmarks : with ``landmarks_from``, give the AU stage the PDM shape that explains
        the CSV's rounded landmarks and parameters (:class:`ReplayTracker`); False: the rounded ones.
    progress : report frames done, fps and ETA on ``progress_stream`` (default stderr).
    models_dir : the OpenFace model folder (default: :func:`aubench.pipeline.models.locate`).
    tracker, analyser : ready-made stages (tests, the harness, the batch workers); by default loaded here.

    Returns
    -------
    RunResult with the paths written and the stages that ran.
    """
    start = time.perf_counter()
    config = config or Config()
    out = config.output
    if frames is not None and frames < 1:
        raise InputError(f"--frames {frames}: expected a positive number of frames; give --frames 1 or more")
    source = open_input(input_path)  # checks the input before anything is loaded or written
    out_dir = Path(out_dir)
    ran: list[str] = []
    kernels = None
    jit = JitMeter()

    def resolved_kernels():
        nonlocal kernels
        if kernels is None:
            from aubench.pipeline import registry

            kernels = registry.resolve(config.variant_selection, where="config [variants]")
            jit.start()  # Numba is loaded now if a compiled variant was chosen
        return kernels

    def models():
        from aubench.pipeline.models import locate

        return locate(models_dir)

    try:
        # ---- stages
        if landmarks_from is not None and tracker is None:
            tracker = ReplayTracker(landmarks_from, unround=unround_landmarks, models_dir=models_dir)
            extra = [s for s, key in (("pose", "pose"), ("gaze", "gaze_0")) if key in tracker.replayed]
            how = "unrounded" if unround_landmarks else "as rounded"
            ran.append(f"landmarks (replayed from {tracker.path.name}, {how})")
            ran += [f"{s} (replayed)" for s in extra]
        elif tracker is None:
            tracker = load_tracker(models(), config, resolved_kernels())
            ran += ["detect", "landmarks", "pose", "gaze"]
        else:
            ran += ["landmarks", "pose", "gaze"]
        if analyser is None and (out.aus or out.hogalign or out.simalign):
            analyser = load_analyser(models(), config, resolved_kernels())
        if analyser is not None:
            ran.append("au")

        # ---- outputs
        names = {}
        if analyser is not None:
            names = {"au_intensity": tuple(analyser.intensity_names), "au_occurrence": tuple(analyser.occurrence_names)}
        schema = CsvSchema.from_output(out, sequence=True, **names)
        if getattr(tracker, "has_eye_model", True) is False:
            # FeatureExtraction drops the gaze block when the landmark model has no eye parts
            schema = dataclasses.replace(schema, gaze=False)
        stem = source.stem
        csv_path = out_dir / f"{stem}.csv"
        hog_path = out_dir / f"{stem}.hog" if out.hogalign and analyser is not None else None
        aligned_dir = out_dir / f"{stem}_aligned" if out.simalign and analyser is not None else None
        out_dir.mkdir(parents=True, exist_ok=True)
        write_of_details(out_dir / f"{stem}_of_details.txt", source, config, schema, csv_path, hog_path, aligned_dir)

        intensity: dict[str, list[float]] = {n: [] for n in schema.intensity_names}
        occurrence: dict[str, list[float]] = {n: [] for n in schema.occurrence_names}
        successes: list[bool] = []
        total = source.frame_count if frames is None else min(frames, source.frame_count or frames)
        stream = (progress_stream or sys.stderr) if progress and config.runtime.progress else None
        bar = Progress(total, stream, f"aubench run {source.path.name}")
        done = 0
        hog_writer = HogWriter(hog_path) if hog_path else None
        aligned_writer = AlignedWriter(aligned_dir, out.nobadaligned) if aligned_dir else None
        try:
            with CsvWriter(csv_path, schema) as writer:
                for frame in itertools.islice(_timed_frames(iter(source), timer), frames):
                    record = FaceRecord(frame=frame.number, face_id=0, timestamp=frame.timestamp)
                    # FaceAnalyser receives the model's own detection_success (C++: face_model.detection_success),
                    # which differs from the written success flag on a first detection that fails validation.
                    tracked = tracker.track(frame.bgr, frame.gray, timer)
                    fill_record(record, tracked)
                    model_success = bool(getattr(tracked, "detection_success", record.success))
                    analysis_landmarks = getattr(tracked, "analysis_landmarks", None)
                    if analysis_landmarks is None:
                        analysis_landmarks = record.landmarks_2d
                    if analyser is not None:
                        with timer("au"):
                            result = analyser.add_next_frame(frame.bgr, analysis_landmarks, model_success,
                                                             frame.timestamp, timer)
                        record.au_intensity = {k: float(v) for k, v in result.au_intensity.items()}
                        record.au_occurrence = {k: float(v) for k, v in result.au_occurrence.items()}
                        for n in intensity:
                            intensity[n].append(record.au_intensity.get(n, 0.0))
                        for n in occurrence:
                            occurrence[n].append(record.au_occurrence.get(n, 0.0))
                    successes.append(record.success)
                    with timer("write"):
                        writer.write(record)
                        if hog_writer is not None:
                            hog_writer.write(result.hog, record.success)
                        if aligned_writer is not None:
                            aligned_writer.write(frame.number, result.aligned_bgr, record.success)
                    timer.next_frame()
                    done += 1
                    bar.update(done)
        finally:
            if hog_writer is not None:
                hog_writer.close()
            bar.finish(done)

        # ---- offline AU post-processing (FeatureExtraction's PostprocessOutputFile)
        postprocessed, pp_ms = False, 0.0
        if analyser is not None and out.aus and config.analyser.postprocess and done > 0:
            t0 = time.perf_counter()
            pp = analyser.postprocess(intensity, occurrence, np.array(successes, dtype=bool))
            rewrite_au_columns(csv_path, pp.intensity, pp.occurrence)
            pp_ms = (time.perf_counter() - t0) * 1000.0
            postprocessed = True
    finally:
        source.close()
        jit_s = jit.stop()
    notes = []
    if isinstance(tracker, ReplayTracker) and tracker.rows_unrounded + tracker.rows_kept_as_recorded:
        kept = tracker.rows_kept_as_recorded
        why = " (their landmarks and PDM parameters are not one PDM shape)" if kept else ""
        notes.append(f"replayed landmarks: {tracker.rows_unrounded} rows unrounded "
                     f"({tracker.rows_unrounded_3d} with the 3D landmarks), {kept} kept as recorded{why}")
    return RunResult(csv=csv_path, frames=done, wall_s=time.perf_counter() - start, hog=hog_path,
                     aligned_dir=aligned_dir, stages_ran=ran,
                     postprocessed=postprocessed, postprocess_ms=pp_ms, peak_rss_mb=_peak_rss_mb(), notes=notes,
                     jit_s=jit_s)


def _peak_rss_mb() -> float:
    """This process's peak resident set size in MiB (``ru_maxrss`` is KiB on Linux)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
