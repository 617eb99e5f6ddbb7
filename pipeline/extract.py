"""The run loop: OpenFace 2.2 FeatureExtraction on one input (what ``aubench run`` calls).

Mirrors ``FeatureExtraction.cpp``'s main loop. For every frame of the input
(:mod:`aubench.pipeline.io.frames`), the per-frame step (:class:`aubench.pipeline.frame_step.FrameStep`):

1. landmarks: the tracker (``DetectLandmarksInVideo``: MTCNN (re)detection and CLNF
   tracking), which also gives the head pose (``GetPose``), the 3D landmarks
   (``CLNF::GetShape``), the eye landmarks and, on tracked frames, the gaze
   (``EstimateGaze``, ``GetGazeAngle``);
2. AUs: ``FaceAnalyser::AddNextFrame`` (alignment, FHOG, geometry, running medians,
   online predictions);

then the loop writes the CSV row, the ``.hog`` record and the aligned face
(``RecorderOpenFace::WriteObservation``), each flushed as written, and with ``[output] tracked``
the frame with its landmarks, gaze, head box and online AU values drawn on it
(``RecorderOpenFace::WriteObservationTracked``: ``<stem>.avi``, or ``<stem>.jpg`` for one image;
:mod:`aubench.pipeline.io.tracked`). Nothing is drawn when it is off.

After the last frame the AU columns are rewritten with the offline post-processed
values (``FaceAnalyser::PostprocessOutputFile``). A run stopped before that (Ctrl-C, SIGTERM,
an error) leaves a valid CSV of the frames done, with the online AU values; one stopped before
its first row leaves no CSV (a header alone would read as a result of zero frames). Output
problems (a full disk, a read-only folder) are :class:`aubench.pipeline.errors.OutputError`.

The stages (:mod:`aubench.pipeline.stages`) are loaded here unless given ready-made;
``landmarks_from`` replays an existing OpenFace CSV (:class:`aubench.pipeline.replay.ReplayTracker`)
in place of the tracker, so the AU stage can be run and measured on its own. Progress goes
to stderr as a tqdm bar (:mod:`aubench.pipeline.progress`), with a notice when Numba compiles
the kernels (:mod:`aubench.pipeline.compile_notice`).

Per-frame timing goes to the ``timer`` (:class:`aubench.pipeline.timing.StageTimer`): the loop
times ``decode``, ``au`` and ``write``; the tracker times ``detect``, ``landmarks``,
``pose`` and ``gaze`` itself (the replay tracker times ``landmarks``).
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from aubench.pipeline.compile_notice import CompileNotice
from aubench.pipeline.config import Config
from aubench.pipeline.errors import InputError, OutputError, check_stop, deferred_signals, output_error
from aubench.pipeline.frame_step import FrameStep, OnlineAUs, StepResult, csv_schema, fill_record
from aubench.pipeline.io.aligned import AlignedWriter
from aubench.pipeline.io.claim import claim_outputs
from aubench.pipeline.io.csv_out import CsvSchema, CsvWriter, remove_stale_temporaries, rewrite_au_columns
from aubench.pipeline.io.frames import open_input
from aubench.pipeline.io.hog_file import HogWriter
from aubench.pipeline.progress import progress_bar, progress_writer
from aubench.pipeline.replay import ReplayedFrame, ReplayTracker
from aubench.pipeline.run_result import RunResult, peak_rss_mb
from aubench.pipeline.stages import (
    Analyser,
    AnalysisOutput,
    PostprocessOutput,
    Tracker,
    TrackOutput,
    load_analyser,
    load_stages,
    load_tracker,
    resolve_kernels,
    stages_to_load,
)
from aubench.pipeline.timing import NULL_TIMER, JitMeter, StageTimer

# What callers imported from here before the loop's parts got modules of their own.
__all__ = ["run", "write_of_details", "RunResult", "ReplayTracker", "ReplayedFrame", "FrameStep", "fill_record",
           "Tracker", "TrackOutput", "Analyser", "AnalysisOutput", "PostprocessOutput", "load_tracker", "load_analyser"]


AUBENCH_DETAILS_PREFIX = "aubench: "


def read_config_line(details: Path) -> tuple[str, str] | None:
    """``(config name, config hash)`` from a ``<stem>_of_details.txt`` aubench wrote, else None."""
    try:
        text = details.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(AUBENCH_DETAILS_PREFIX) and ", config " in line:
            name, _, digest = line.split(", config ", 1)[1].rpartition(" ")
            return name, digest
    return None


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
    # beyond OpenFace's lines: what made the file, so a report of the CSV names the right configuration
    from aubench import __version__
    from aubench.pipeline.config import config_hash

    lines.append(f"{AUBENCH_DETAILS_PREFIX}{__version__}, config {config.name} {config_hash(config)}")
    try:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as exc:
        raise output_error(exc, path) from None


def make_out_dir(out_dir: Path) -> None:
    """Create the output folder, or say in one line why it cannot be (a file there, read-only, no permission)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(exc, out_dir) from None


def _damage_notice(source: Any, outputs: _Outputs, done: int) -> str | None:
    """The input's damage notice as the run's one line (also appended to ``<stem>_of_details.txt``), or None."""
    said = source.damage_notice()
    if said is None:
        return None
    line = f"{outputs.csv_path}: {said}; the CSV has the {done} frames decoded"
    with open(outputs.details_path, "a", encoding="utf-8") as fh:
        fh.write(f"Input damaged: {said}\n")
    return line


def _duplicate_stderr() -> TextIO | None:
    """A text stream on a duplicate of fd 2 (None when stderr has no descriptor: the bar is then off)."""
    import os

    try:
        fd = os.dup(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):
        return None
    return os.fdopen(fd, "w", buffering=1, encoding=getattr(sys.stderr, "encoding", None) or "utf-8",
                     errors="replace")


def _timed_frames(frames: Iterator, timer: StageTimer) -> Iterator:
    """The input's frames, each decode timed as stage ``decode``."""
    while True:
        with timer("decode"):
            frame = next(frames, None)
        if frame is None:
            return
        yield frame


def _stages(config: Config, models_dir: str | Path | None, tracker: Tracker | None, analyser: Analyser | None,
            landmarks_from: str | Path | None, unround_landmarks: bool, jit: JitMeter,
            notice: CompileNotice) -> tuple[Tracker, Analyser | None, list[str]]:
    """The run's stages (a replayed CSV, the given ones or the real ones) and the names of those that run."""
    if landmarks_from is not None and tracker is None:
        tracker = ReplayTracker(landmarks_from, unround=unround_landmarks, models_dir=models_dir)
        extra = [s for s, key in (("pose", "pose"), ("gaze", "gaze_0")) if key in tracker.replayed]
        how = "unrounded" if unround_landmarks else "as rounded"
        ran = [f"landmarks (replayed from {tracker.path.name}, {how})"] + [f"{s} (replayed)" for s in extra]
    elif tracker is None:
        ran = ["detect", "landmarks", "pose", "gaze"]
    else:
        ran = ["landmarks", "pose", "gaze"]
    kernels = None
    if stages_to_load(config, tracker, analyser):
        kernels = resolve_kernels(config)
        jit.start()  # Numba is loaded now if a compiled variant was chosen
        notice.start()
    tracker, analyser = load_stages(config, models_dir, kernels, tracker=tracker, analyser=analyser)
    jit.start()  # ready-made stages: Numba is loaded by now if they use it
    notice.start()
    if analyser is not None:
        ran.append("au")
    return tracker, analyser, ran


def tracked_path(out_dir: Path, source: Any) -> Path:
    """OpenFace's ``-tracked`` output: ``<stem>.jpg`` for one image (as FaceLandmarkImg), ``<stem>.avi`` for a
    video or a folder of images; an OutputError when that is the input itself (``-o`` the input's folder)."""
    path = out_dir / f"{source.stem}{'.jpg' if source.kind == 'image' else '.avi'}"
    if path.exists() and source.path.exists() and path.samefile(source.path):
        raise OutputError(f"{path}: the tracked output would overwrite the input; choose another -o")
    return path


class _Outputs:
    """What a run writes: the CSV, and with the AU stage the ``.hog`` file and the aligned faces
    (``[output] hogalign``, ``simalign``), ``<stem>_of_details.txt`` written on opening, and with
    ``[output] tracked`` the annotated frames (:mod:`aubench.pipeline.io.tracked`)."""

    def __init__(self, out_dir: Path, source: Any, config: Config, schema: CsvSchema, au_stage: bool):
        out = config.output
        stem = source.stem
        self.csv_path = out_dir / f"{stem}.csv"
        self.hog_path = out_dir / f"{stem}.hog" if out.hogalign and au_stage else None
        self.aligned_dir = out_dir / f"{stem}_aligned" if out.simalign and au_stage else None
        self.tracked_path = tracked_path(out_dir, source) if out.tracked else None
        cam = config.camera
        self.intrinsics = source.intrinsics(cam.fx, cam.fy, cam.cx, cam.cy)
        self.au_panel = au_stage and out.aus
        make_out_dir(out_dir)
        remove_stale_temporaries(self.csv_path)  # a rewrite's temporary file left by a killed run
        self.details_path = out_dir / f"{stem}_of_details.txt"
        write_of_details(self.details_path, source, config, schema, self.csv_path, self.hog_path, self.aligned_dir)
        self.csv = CsvWriter(self.csv_path, schema)
        self.hog = self.aligned = self.tracked = None
        try:
            self.hog = HogWriter(self.hog_path) if self.hog_path else None
            self.aligned = AlignedWriter(self.aligned_dir, out.nobadaligned) if self.aligned_dir else None
            if self.tracked_path is not None and source.kind != "image":
                from aubench.pipeline.io.tracked import TrackedVideo  # loaded only when a tracked output is asked

                self.tracked = TrackedVideo(self.tracked_path, source.fps, (source.width, source.height))
        except BaseException:
            self.close()
            self.remove_if_no_frame()
            raise

    def write(self, number: int, result: StepResult, bgr: Any) -> None:
        """One frame: its CSV row, FHOG record and aligned face, each flushed, and its annotated frame."""
        record = result.record
        self.csv.write(record)
        if self.hog is not None:
            self.hog.write(result.analysis.hog, record.success)
        if self.aligned is not None:
            self.aligned.write(number, result.analysis.aligned_bgr, record.success)
        if self.tracked_path is not None:
            from aubench.pipeline.io.tracked import annotate, write_tracked_image

            # the frame's online AU values: the post-processing rewrites only the CSV's
            drawn = annotate(bgr, [record], self.intrinsics, au_panel=self.au_panel)
            if self.tracked is not None:
                self.tracked.write(drawn)
            else:
                write_tracked_image(self.tracked_path, drawn)

    def close(self) -> None:
        self.csv.close()
        if self.hog is not None:
            self.hog.close()
        if self.tracked is not None:
            self.tracked.close()  # writes the AVI index: a stopped run's video plays the frames done

    def remove_if_no_frame(self) -> None:
        """After a run that failed before its first row: remove what would look like a result of zero frames
        (the header-only CSV, the empty .hog, the empty aligned folder and the details file naming them)."""
        if self.csv.rows:
            return
        self.csv.remove_if_empty()
        if self.hog is not None:
            self.hog.remove_if_empty()
        if self.tracked is not None:
            self.tracked_path.unlink(missing_ok=True)  # a video of no frame
        for path in (self.details_path, self.aligned_dir):
            try:
                if path == self.aligned_dir and path is not None:
                    path.rmdir()  # only when empty: an earlier run's faces are not this run's to delete
                elif path is not None:
                    path.unlink(missing_ok=True)
            except OSError:
                pass


def _pipelined_frames(source: Any, frames: int | None, step: FrameStep, online: OnlineAUs, outputs: _Outputs,
                      timer: StageTimer, notice: CompileNotice, bar: Any) -> int:
    """The frame loop on three threads (:mod:`aubench.pipeline.pipelined`): decode ahead, track here, AU stage
    and writing in order on a worker. Returns the frames written. A stop or an error still writes every frame
    tracked before it (then raises); ``decode`` is the time the tracker waited for a frame."""
    au_timer = StageTimer() if timer.enabled else NULL_TIMER

    def analyse_and_write(item: tuple) -> None:
        frame, finish = item
        record, tracked = finish(au_timer)  # the tracker's outputs (pose, gaze) of this frame's state
        result = step.analyse(record, tracked, frame.bgr, au_timer)
        online.add(result.record)
        with au_timer("write"):
            outputs.write(frame.number, result, frame.bgr)
        au_timer.next_frame()
        bar.update()

    return _pipelined_loop(source, frames, step, timer, notice, analyse_and_write, au_timer)


def _pipelined_loop(source: Any, frames: int | None, step: FrameStep, timer: StageTimer, notice: CompileNotice,
                    analyse_and_write: Any, au_timer: StageTimer) -> int:
    from aubench.pipeline.pipelined import InOrderWorker, Prefetch

    prefetch = Prefetch(iter(source), limit=frames)
    worker = InOrderWorker(analyse_and_write)
    try:
        with deferred_signals():
            for frame in _timed_frames(iter(prefetch), timer):
                worker.submit((frame, step.track_later(frame.number, frame.timestamp, frame.bgr, frame.gray, timer)))
                timer.next_frame()
                notice.frame_done()
                check_stop()
    except BaseException:
        prefetch.close()
        try:
            worker.finish()  # the frames tracked so far are written; the first error is the one raised
        except BaseException:
            pass
        raise
    prefetch.close()
    worker.finish()
    if au_timer is not NULL_TIMER:
        timer.merge_frames(au_timer)
    return worker.handled


def run(input_path: str | Path, out_dir: str | Path, config: Config | None = None, timer: StageTimer = NULL_TIMER,
        *, frames: int | None = None, landmarks_from: str | Path | None = None, unround_landmarks: bool = True,
        progress: bool = True,
        models_dir: str | Path | None = None, tracker: Tracker | None = None, analyser: Analyser | None = None,
        progress_stream: TextIO | None = None, out_name: str | None = None, pipeline: bool | None = None) -> RunResult:
    """Run FeatureExtraction on ``input_path``; write ``out_dir/<stem>.csv`` (+ ``.hog``, ``_aligned/``, ``.avi``).

    Parameters
    ----------
    input_path : a video file, an image or a folder of images.
    out_dir : output folder (created). The run locks ``out_dir/.<stem>.lock`` until its last write
        and, before its first, removes the stem's outputs of an earlier run (:mod:`aubench.pipeline.io.claim`).
    config : the configuration (default: the reference); ``[output]`` selects the CSV blocks,
        ``hogalign``, ``simalign``, ``nobadaligned`` and ``tracked`` (one annotated frame per frame
        processed, drawn with the frame's online AU values; closed with the other outputs, so a
        stopped run leaves a playable video of the frames done); ``[camera]`` the intrinsics.
    timer : per-stage, per-frame timings; ``timer.next_frame()`` is called after each frame.
    frames : process only the first ``frames`` frames.
    landmarks_from : replay this OpenFace CSV's landmarks, success, confidence, pose, gaze
        and eye landmarks instead of running the tracker.
    unround_landmarks : with ``landmarks_from``, give the AU stage the PDM shape that explains
        the CSV's rounded landmarks and parameters (:class:`ReplayTracker`); False: the rounded ones.
    progress : show a progress bar (and the kernels' compile notice) on ``progress_stream``
        (default stderr); ``config.runtime.progress = false`` turns it off too.
    models_dir : the OpenFace model folder (default: :func:`aubench.pipeline.models.locate`).
    tracker, analyser : ready-made stages (tests, the harness, the batch workers); by default loaded here.
    out_name : name the outputs ``out_name.csv`` etc. instead of after the input (OpenFace's ``-of``).
    pipeline : one video on two cores (decode and AU stage on threads beside the tracker, identical output;
        :mod:`aubench.pipeline.pipelined`); default ``config.runtime.pipeline``.

    Returns
    -------
    RunResult with the paths written and the stages that ran.
    """
    start = time.perf_counter()
    config = config or Config()
    if frames is not None and frames < 1:
        raise InputError(f"--frames {frames}: expected a positive number of frames; give --frames 1 or more")
    source = open_input(input_path)  # checks the input before anything is loaded or written
    source.out_name = out_name
    out_dir = Path(out_dir)
    make_out_dir(out_dir)  # before the models load: a bad -o is said at once
    stream = (progress_stream or sys.stderr) if progress and config.runtime.progress else None
    pipeline = config.runtime.pipeline if pipeline is None else pipeline
    own_stream = None
    if pipeline and stream is sys.stderr:
        # the decode thread sends fd 2 to a file while OpenCV runs (frames._LibraryLog): the bar writes to
        # a duplicate of the terminal's descriptor, which that redirection does not move
        own_stream = stream = _duplicate_stderr()
    jit = JitMeter()
    notice = CompileNotice(progress_writer(stream))

    claim = None
    try:
        claim = claim_outputs(out_dir, source.stem)  # one run per stem (a second is refused here)
        tracker, analyser, ran = _stages(config, models_dir, tracker, analyser, landmarks_from, unround_landmarks,
                                         jit, notice)
        schema = csv_schema(config, tracker, analyser)
        claim.clear_stale()  # the stem's outputs of an earlier run, now that this one is about to write
        outputs = _Outputs(out_dir, source, config, schema, au_stage=analyser is not None)
        step = FrameStep(tracker, analyser)
        online = OnlineAUs(schema)
        total = source.frame_count if frames is None else min(frames, source.frame_count or frames)
        bar = progress_bar(total, stream, f"aubench run {source.path.name}")
        done = 0
        failed = True
        try:
            if pipeline:
                done = _pipelined_frames(source, frames, step, online, outputs, timer, notice, bar)
            else:
                # Ctrl-C and SIGTERM stop the run between frames (deferred_signals: never inside a kernel)
                with deferred_signals():
                    for frame in itertools.islice(_timed_frames(iter(source), timer), frames):
                        result = step(frame.number, frame.timestamp, frame.bgr, frame.gray, timer)
                        online.add(result.record)
                        with timer("write"):
                            outputs.write(frame.number, result, frame.bgr)
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
                # Kept: the whole rows of the frames done. Not kept: a header-only CSV, which would
                # look like the result of a video with no frame.
                outputs.remove_if_no_frame()

        damage = _damage_notice(source, outputs, done)
        # ---- offline AU post-processing (FeatureExtraction's PostprocessOutputFile)
        postprocessed, pp_ms = False, 0.0
        if analyser is not None and config.output.aus and config.analyser.postprocess and done > 0:
            t0 = time.perf_counter()
            pp = online.postprocess(analyser)
            rewrite_au_columns(outputs.csv_path, pp.intensity, pp.occurrence)
            pp_ms = (time.perf_counter() - t0) * 1000.0
            postprocessed = True
    finally:
        if claim is not None:
            claim.release()
        source.close()
        jit_s = jit.stop()
        notice.stop()
        if own_stream is not None:
            own_stream.close()
    notes = []
    if isinstance(tracker, ReplayTracker) and tracker.rows_unrounded + tracker.rows_kept_as_recorded:
        kept = tracker.rows_kept_as_recorded
        why = " (their landmarks and PDM parameters are not one PDM shape)" if kept else ""
        notes.append(f"replayed landmarks: {tracker.rows_unrounded} rows unrounded "
                     f"({tracker.rows_unrounded_3d} with the 3D landmarks), {kept} kept as recorded{why}")
    return RunResult(csv=outputs.csv_path, frames=done, wall_s=time.perf_counter() - start, hog=outputs.hog_path,
                     aligned_dir=outputs.aligned_dir, tracked=outputs.tracked_path, stages_ran=ran, postprocessed=postprocessed,
                     postprocess_ms=pp_ms,
                     peak_rss_mb=peak_rss_mb(), notes=notes, jit_s=jit_s, input_notice=damage)
