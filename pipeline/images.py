"""Image mode: OpenFace 2.2 FaceLandmarkImg on still images (what ``aubench run IMAGE...`` calls).

Mirrors ``FaceLandmarkImg.cpp``'s loop. For every image, in the order given:

1. read it with ``cv::imread(IMREAD_COLOR)`` (:class:`aubench.pipeline.io.frames.FrameSource`);
   an image that cannot be read gets a one-line reason and the other images go on;
2. find every face with MTCNN (``LandmarkDetector::DetectFacesMTCNN``), in the detector's order;
3. for each face box: ``DetectLandmarksInImage`` from the box, then ``GetPose``, ``GetShape``,
   the eye landmarks and the gaze (estimated whatever the validator said), which is
   :meth:`aubench.pipeline.landmarks.tracker.LandmarkTracker.fit_image`;
4. the AUs with the static models, no person calibration and no post-processing
   (``FaceAnalyser::PredictStaticAUsAndComputeFeatures``,
   :meth:`aubench.pipeline.au.analyser.FaceAnalyser.predict_static`);
5. write ``OUT/<stem>.csv`` in FaceLandmarkImg's schema (``face,confidence,...``: one row per
   face, ``face`` the detection index, ``confidence`` the fit's detection certainty), and with
   ``[output] hogalign`` / ``simalign`` the ``.hog`` (good-frame flag: the fit's detection success)
   and ``OUT/<stem>_aligned/face_det_<face:06d>.bmp`` (none for a failed fit under ``nobadaligned``),
   plus ``OUT/<stem>_of_details.txt``.

Where this departs from the C++ on purpose:

* nothing lost, nothing half-written: an image's files appear only once all its faces are done
  (the CSV and ``.hog`` are written under temporary names in OUT and renamed; the CSV is renamed
  last, so a CSV on disk means a complete image). A run stopped by Ctrl-C or SIGTERM stops between
  images (:func:`aubench.pipeline.errors.deferred_signals`) and keeps the images done; a run that
  fails removes the files of the image it was writing;
* an image with no face: no CSV, as the C++, but also no empty ``.hog``, empty ``_aligned/`` and
  details file naming a CSV that does not exist (the C++ leaves those); the outcome says so in a notice;
* two inputs with the same stem would write the same ``OUT/<stem>.csv`` (the C++ overwrites the
  first with the second): refused before anything runs.

Each stem is claimed while its image is written (:func:`aubench.pipeline.io.claim.claim_outputs`),
and an earlier run's outputs of that stem are removed once the image has been read.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from aubench.pipeline.compile_notice import CompileNotice
from aubench.pipeline.config import Config
from aubench.pipeline.errors import InputError, check_stop, deferred_signals, output_error
from aubench.pipeline.frame_step import fill_record
from aubench.pipeline.io.aligned import AlignedWriter
from aubench.pipeline.io.claim import OutputBusy, claim_outputs
from aubench.pipeline.io.csv_out import CsvSchema, CsvWriter, remove_stale_temporaries
from aubench.pipeline.io.frames import IMAGE_EXTENSIONS, SEQUENCE_EXTENSIONS, FrameSource, to_gray
from aubench.pipeline.io.hog_file import HogWriter
from aubench.pipeline.io.records import FaceRecord
from aubench.pipeline.progress import progress_bar, progress_writer
from aubench.pipeline.run_result import peak_rss_mb
from aubench.pipeline.stages import needs_analyser, resolve_kernels
from aubench.pipeline.timing import JitMeter

__all__ = ["run_images", "image_files", "ImagesResult", "ImageOutcome", "FaceResult", "ImageStages"]


def image_files(folder: str | Path) -> list[Path]:
    """The images of ``folder`` that FaceLandmarkImg's ``-fdir`` reads, sorted by name.

    OpenFace's extensions (``.jpg .jpeg .png .bmp``), matched case-insensitively; other files
    (videos, text) are left out and sub-folders are not entered: whether a folder holding more
    than images is an error is the caller's decision.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: expected a folder of images, got "
                         f"{'a file' if folder.exists() else 'nothing (no such path)'}; give a folder")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SEQUENCE_EXTENSIONS)


@dataclass
class ImageOutcome:
    """What happened to one input image.

    ``csv`` the CSV written (None when none was: no face, an error); ``faces`` the faces found
    (rows in the CSV); ``notice`` a one-line remark (no face found, a damaged file); ``error`` the
    one-line reason the image could not be processed; ``hog``, ``aligned_dir`` the other files written.
    """

    path: Path
    csv: Path | None = None
    faces: int = 0
    notice: str | None = None
    error: str | None = None
    hog: Path | None = None
    aligned_dir: Path | None = None


@dataclass
class ImagesResult:
    """What one :func:`run_images` wrote, image by image."""

    images: list[ImageOutcome] = field(default_factory=list)
    wall_s: float = 0.0
    jit_s: float = 0.0  # Numba compiling / loading its cache during the run (JitMeter), reported apart
    peak_rss_mb: float = 0.0

    @property
    def faces(self) -> int:
        """Faces found over all images."""
        return sum(o.faces for o in self.images)

    @property
    def failed(self) -> list[ImageOutcome]:
        """The images that could not be processed (``error`` set)."""
        return [o for o in self.images if o.error is not None]

    def summary(self) -> str:
        """Lines for the user: what was written, faces per image, images without a face, failures, JIT apart."""
        written = [o for o in self.images if o.csv is not None]
        rss = f", peak RSS {self.peak_rss_mb:.0f} MiB" if self.peak_rss_mb else ""
        n = len(self.images)
        lines = [f"{len(written)} of {n} image{'s' * (n != 1)} written, {self.faces} face{'s' * (self.faces != 1)} "
                 f"in {self.wall_s:.1f} s{rss}"]
        if self.jit_s > 0.0005 and self.wall_s > self.jit_s:
            lines.append(f"JIT warm-up (Numba compiling or loading its cache, reported apart): {self.jit_s:.2f} s; "
                         f"{self.wall_s - self.jit_s:.1f} s without it")
        for o in written:
            extra = "".join(f", {p}" for p in (o.hog, o.aligned_dir) if p is not None)
            lines.append(f"wrote {o.csv} ({o.faces} face{'s' * (o.faces != 1)}){extra}")
        lines += [f"{o.path}: {o.notice}" for o in self.images if o.notice is not None]
        lines += [f"failed: {o.error}" for o in self.failed]
        return "\n".join(lines)


@dataclass(frozen=True)
class FaceResult:
    """One face of an image: its CSV row and, when the AU stage ran, its aligned face and FHOG."""

    record: FaceRecord
    aligned_bgr: np.ndarray | None
    hog: np.ndarray | None
    detection_success: bool


class ImageStages:
    """The stages of FaceLandmarkImg, loaded once for every image.

    Parameters
    ----------
    config : the run's configuration (``[detector]``, ``[landmarks]``, ``[analyser]``, ``[output]``,
        ``[camera]``, ``[variants]``).
    models_dir : the OpenFace model folder (default: :func:`aubench.pipeline.models.locate`).
    kernels : resolved variants (default: :func:`aubench.pipeline.stages.resolve_kernels` of ``config``).

    The AU stage (static models) is loaded only when the outputs need it
    (:func:`aubench.pipeline.stages.needs_analyser`).
    """

    def __init__(self, config: Config, models_dir: str | Path | None = None, kernels: Any = None):
        from aubench.pipeline.au.analyser import FaceAnalyser
        from aubench.pipeline.landmarks.tracker import LandmarkTracker
        from aubench.pipeline.models import locate

        self.config = config
        kernels = kernels if kernels is not None else resolve_kernels(config)
        models = locate(models_dir)
        self.tracker = LandmarkTracker(models, config, kernels)
        self.detector = self.tracker.detector  # FaceDetectorMTCNN, read once
        self.analyser = FaceAnalyser(models, config.analyser, kernels, dynamic=False) if needs_analyser(config) else None
        names = {}
        if self.analyser is not None:
            names = {"au_intensity": tuple(self.analyser.intensity_names),
                     "au_occurrence": tuple(self.analyser.occurrence_names)}
        # FaceLandmarkImg drops the gaze block when the landmark model has no eye parts
        gaze = config.output.gaze and self.tracker.has_eye_model
        self.schema = dataclasses.replace(CsvSchema.from_output(config.output, sequence=False, **names), gaze=gaze)

    def faces(self, bgr: np.ndarray, gray: np.ndarray | None = None) -> list[FaceResult]:
        """Every face of one BGR (h, w, 3) uint8 image, in MTCNN's order."""
        if gray is None:
            gray = to_gray(bgr)
        results = []
        for index, box in enumerate(self.detector.detect(bgr)):
            tracked = self.tracker.fit_image(bgr, gray, (box.x, box.y, box.w, box.h),
                                             multi_view=self.config.landmarks.multi_view)
            record = fill_record(FaceRecord(frame=0, face_id=index), tracked)
            aligned = hog = None
            if self.analyser is not None:
                analysis = self.analyser.predict_static(bgr, record.landmarks_2d)
                record.au_intensity = {k: float(v) for k, v in analysis.au_intensity.items()}
                record.au_occurrence = {k: float(v) for k, v in analysis.au_occurrence.items()}
                aligned, hog = analysis.aligned_bgr, analysis.hog
            results.append(FaceResult(record, aligned, hog, bool(tracked.detection_success)))
        return results


def _temporary(path: Path) -> Path:
    """``.<name>.<pid>.part.tmp`` beside ``path``: the pid lets a later run's
    :func:`aubench.pipeline.io.csv_out.remove_stale_temporaries` tell a killed run's file from a live one's."""
    return path.with_name(f".{path.name}.{os.getpid()}.part.tmp")


def _unlink(path: Path | None) -> None:
    if path is None:
        return
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass  # the error being reported matters more than this clean-up


class _ImageFiles:
    """One image's outputs, written all at once by :meth:`write`: complete on return, absent on an error."""

    def __init__(self, out_dir: Path, source: FrameSource, config: Config, schema: CsvSchema, au_stage: bool):
        out = config.output
        stem = source.stem
        self.out_dir = out_dir
        self.source = source
        self.config = config
        self.schema = schema
        self.csv_path = out_dir / f"{stem}.csv"
        self.hog_path = out_dir / f"{stem}.hog" if out.hogalign and au_stage else None
        self.aligned_dir = out_dir / f"{stem}_aligned" if out.simalign and au_stage else None
        self.details_path = out_dir / f"{stem}_of_details.txt"
        self.tracked_path = None
        if out.tracked:
            from aubench.pipeline.extract import tracked_path

            self.tracked_path = tracked_path(out_dir, source)  # <stem>.jpg, never the input itself

    def write(self, faces: list[FaceResult], bgr: np.ndarray | None = None) -> None:
        from aubench.pipeline.extract import write_of_details

        out = self.config.output
        tmp_csv = _temporary(self.csv_path)
        tmp_hog = _temporary(self.hog_path) if self.hog_path is not None else None
        for path in (self.csv_path, self.hog_path):
            if path is not None:
                remove_stale_temporaries(path)  # a killed run's
        written: list[Path] = []
        aligned_made = False
        try:
            with CsvWriter(tmp_csv, self.schema) as csv:
                for face in faces:
                    csv.write(face.record)
            if tmp_hog is not None:
                with HogWriter(tmp_hog) as hog:
                    for face in faces:
                        hog.write(face.hog, face.detection_success)
            if self.aligned_dir is not None:
                aligned_made = not self.aligned_dir.exists()
                writer = AlignedWriter(self.aligned_dir, out.nobadaligned, sequence=False)
                for face in faces:
                    path = writer.write(0, face.aligned_bgr, face.detection_success, face_id=face.record.face_id)
                    if path is not None:
                        written.append(path)
            write_of_details(self.details_path, self.source, self.config, self.schema, self.csv_path,
                             self.hog_path, self.aligned_dir)
            written.append(self.details_path)
            if self.tracked_path is not None and bgr is not None:  # OpenFace's -tracked: every face drawn
                from aubench.pipeline.io.tracked import annotate, write_tracked_image

                cam = self.config.camera
                intrinsics = self.source.intrinsics(cam.fx, cam.fy, cam.cx, cam.cy)
                drawn = annotate(bgr, [f.record for f in faces], intrinsics,
                                 au_panel=self.config.output.aus and faces[0].hog is not None, au_values="static")
                write_tracked_image(self.tracked_path, drawn)
                written.append(self.tracked_path)
            if tmp_hog is not None:
                os.replace(tmp_hog, self.hog_path)
                written.append(self.hog_path)
            os.replace(tmp_csv, self.csv_path)  # last: a CSV on disk means the image is complete
        except BaseException as exc:
            for path in [tmp_csv, tmp_hog, *written]:
                _unlink(path)
            if aligned_made:
                try:
                    self.aligned_dir.rmdir()
                except OSError:
                    pass
            if isinstance(exc, OSError):  # a rename that failed (the writers report their own)
                raise output_error(exc, self.csv_path) from None
            raise


def _check_stems(paths: list[Path]) -> None:
    """Two inputs with one stem would write one ``OUT/<stem>.csv``: refuse before anything runs."""
    seen: dict[str, Path] = {}
    for path in paths:
        stem = path.stem
        if stem in seen:
            raise InputError(f"{seen[stem]} and {path} would both write {stem}.csv; rename one of them or run them "
                             "into different output folders")
        seen[stem] = path


def _process(path: Path, out_dir: Path, stages: ImageStages, config: Config, out_name: str | None = None
             ) -> ImageOutcome:
    """One image: read, claim its stem, find and analyse its faces, write its files."""
    outcome = ImageOutcome(path)
    try:
        if not path.exists():
            raise InputError(f"{path}: no such file; give an image file ({', '.join(IMAGE_EXTENSIONS)})")
        if path.is_dir() or path.suffix.lower() not in IMAGE_EXTENSIONS:
            got = "a folder" if path.is_dir() else f"a {path.suffix or 'extension-less'} file"
            raise InputError(f"{path}: expected an image ({', '.join(IMAGE_EXTENSIONS)}), got {got}; "
                             "give image files (a folder's images: image_files(folder))")
        source = FrameSource(path)  # cv::imread(IMREAD_COLOR); a missing or undecodable file is an InputError
        source.out_name = out_name
        frame = next(iter(source))
    except InputError as err:
        outcome.error = str(err)
        return outcome
    damage = source.damage_notice()
    try:
        claim = claim_outputs(out_dir, source.stem)
    except OutputBusy as err:  # another run is writing this stem: its image is left to it
        outcome.error = str(err)
        return outcome
    try:
        faces = stages.faces(frame.bgr, frame.gray)
        claim.clear_stale()  # this run's result for the stem replaces an earlier one's
        if not faces:
            outcome.notice = "no face found; no CSV written (as OpenFace's FaceLandmarkImg)"
        else:
            files = _ImageFiles(out_dir, source, config, stages.schema, stages.analyser is not None)
            files.write(faces, frame.bgr)
            outcome.csv, outcome.faces = files.csv_path, len(faces)
            outcome.hog, outcome.aligned_dir = files.hog_path, files.aligned_dir
        if damage is not None:
            outcome.notice = f"{damage}; {outcome.notice}" if outcome.notice else damage
    finally:
        claim.release()
    return outcome


def run_images(inputs: Sequence[str | Path], out_dir: str | Path, config: Config, *, progress: bool = True,
               models_dir: str | Path | None = None, progress_stream: TextIO | None = None,
               out_name: str | None = None) -> ImagesResult:
    """Run FaceLandmarkImg on each image of ``inputs``: ``out_dir/<stem>.csv`` (+ ``.hog``, ``_aligned/``) per image.

    Parameters
    ----------
    inputs : image files, processed in this order (a folder's: :func:`image_files`). Two with the
        same stem are refused before anything runs (they would write the same CSV).
    out_dir : output folder (created).
    config : ``[detector]``, ``[landmarks]`` (``multi_view``), ``[analyser]`` (static models),
        ``[output]`` (CSV blocks, ``hogalign``, ``simalign``, ``nobadaligned``), ``[camera]``
        (intrinsics; 0: OpenFace's default from each image's size), ``[variants]``.
    progress : a bar over the images, the Numba compile notice and each image's notice on
        ``progress_stream`` (default stderr); ``config.runtime.progress = false`` turns it off too.
    models_dir : the OpenFace model folder (default: :func:`aubench.pipeline.models.locate`).
    out_name : with one image, name its outputs ``out_name.csv`` etc. (OpenFace's ``-of``).

    Returns
    -------
    ImagesResult: per image the CSV written and its faces, or why there is none (``notice``: no
    face; ``error``: unreadable). Errors of the run itself (output folder not writable, full disk,
    models missing) raise :class:`aubench.pipeline.errors.AubenchError`; Ctrl-C / SIGTERM raise
    after the image being processed, keeping every image done.
    """
    from aubench.pipeline.extract import make_out_dir

    start = time.perf_counter()
    paths = [Path(p) for p in inputs]
    if not paths:
        raise InputError("no images given; give one or more image files or a folder of images")
    if out_name is not None and len(paths) != 1:
        raise InputError(f"-of {out_name}: names one image's outputs, but {len(paths)} images were given")
    _check_stems(paths)
    out_dir = Path(out_dir)
    make_out_dir(out_dir)  # before the models load: a bad -o is said at once
    stream = (progress_stream or sys.stderr) if progress and config.runtime.progress else None
    say = progress_writer(stream)
    jit = JitMeter()
    notice = CompileNotice(say)
    result = ImagesResult()
    try:
        kernels = resolve_kernels(config)
        jit.start()  # Numba is loaded now if a compiled variant was chosen
        notice.start()
        stages = ImageStages(config, models_dir, kernels)
        jit.start()  # in case the stages, not the registry, loaded Numba
        notice.start()
        bar = progress_bar(len(paths), stream, "aubench run images", unit="image")
        try:
            # Ctrl-C and SIGTERM stop the run between images (deferred_signals: never inside a kernel)
            with deferred_signals():
                for path in paths:
                    outcome = _process(path, out_dir, stages, config, out_name)
                    result.images.append(outcome)
                    notice.frame_done()
                    for line in (outcome.notice, outcome.error):
                        if line is not None and say is not None:
                            say(line if line.startswith(str(path)) else f"{path}: {line}")
                    bar.update()
                    check_stop()
        finally:
            bar.close()
    finally:
        result.jit_s = jit.stop()
        notice.stop()
        result.wall_s = time.perf_counter() - start
        result.peak_rss_mb = peak_rss_mb()
    return result
