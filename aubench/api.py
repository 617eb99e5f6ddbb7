"""The Python API: :func:`extract` (an input to a DataFrame) and :class:`Stream` (one frame at a time).

Both run the same per-frame step as ``aubench run`` (:class:`aubench.pipeline.frame_step.FrameStep`)
and build their DataFrame from the same CSV rows (:func:`aubench.pipeline.io.csv_out.format_row`,
with the offline AU post-processing of :func:`aubench.pipeline.io.csv_out.rewrite_au_lines`), so
a DataFrame holds exactly the numbers of the CSV the command writes for the same input and
settings: the same columns, the same rounding. :func:`extract` is a :class:`Stream` fed with
the input's frames.

Nothing heavy is imported until a function is called: ``import aubench`` stays cheap.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from aubench.pipeline.config import Config, build
from aubench.pipeline.errors import ConfigError, InputError, unknown_name

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from aubench.pipeline.stages import Tracker

__all__ = ["extract", "Stream", "FrameResult", "RUN_OPTIONS", "INPUT_COLUMN"]

# The options of `aubench run` that extract() takes as keywords (the others write files:
# -o, --hogalign, --simalign), with their defaults.
RUN_OPTIONS: dict[str, Any] = {
    "landmarks_from": None,  # --landmarks-from CSV: replay an OpenFace CSV's landmarks, run the AU stage alone
    "raw_landmarks": False,  # --raw-landmarks: with landmarks_from, give the AU stage the CSV's rounded landmarks
    "workers": None,  # --workers N: processes for a folder of videos (0: all cores; default: config [runtime])
    "quiet": False,  # --quiet: no progress bar and no compile notice on stderr
    "multi_face": False,  # --multi-face: videos as FaceLandmarkVidMulti does them (up to 4 faces, face_id)
    "sequence": False,  # --sequence: a folder of images is one video (FeatureExtraction -fdir), not photos
}
# The column extract() puts first for a folder (or a list of videos): which file each row comes from.
INPUT_COLUMN = "input"
# BLAS thread-count variables; when the user set none, BLAS runs on one thread as under `aubench run`.
_BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


# --------------------------------------------------------------------------- one frame's result

@dataclass(frozen=True)
class FrameResult:
    """One frame as :meth:`Stream.process` returns it: what OpenFace has before the video ends.

    Attributes
    ----------
    frame : int
        1-based frame number in the stream.
    timestamp : float
        Seconds.
    success : bool
        Whether the face was tracked in this frame (the CSV's ``success``).
    confidence : float
        The tracker's detection certainty (the CSV's ``confidence``).
    landmarks : ndarray, (68, 2) float64
        2D facial landmarks ``[x, y]``, pixels.
    pose : ndarray, (6,) float64
        Head pose ``[Tx, Ty, Tz]`` (mm, camera coordinates) and ``[Rx, Ry, Rz]`` (rad).
    gaze_0, gaze_1 : ndarray, (3,) float64
        Left and right eye gaze directions (unit vectors, camera coordinates); zeros when not tracked.
    gaze_angle : ndarray, (2,) float64
        Gaze angles ``[x, y]`` (rad).
    au_intensity : dict
        ``{"AU01": value}``: the *online* intensities, OpenFace's per-frame predictions before
        its offline post-processing (not clipped; 0 on frames not tracked).
    au_occurrence : dict
        ``{"AU01": 0.0 or 1.0}``: the online occurrence calls.

    The arrays are read-only copies. The offline values (person calibration over the whole
    video, smoothing, clipping) are in :meth:`Stream.to_frame` at the end.
    """

    frame: int
    timestamp: float
    success: bool
    confidence: float
    landmarks: np.ndarray
    pose: np.ndarray
    gaze_0: np.ndarray
    gaze_1: np.ndarray
    gaze_angle: np.ndarray
    au_intensity: dict[str, float]
    au_occurrence: dict[str, float]

    @classmethod
    def _of(cls, record: Any) -> FrameResult:
        def frozen(a):
            a = np.array(a, dtype=np.float64)
            a.flags.writeable = False
            return a

        return cls(frame=int(record.frame), timestamp=float(record.timestamp), success=bool(record.success),
                   confidence=float(record.confidence), landmarks=frozen(record.landmarks_2d), pose=frozen(record.pose),
                   gaze_0=frozen(record.gaze_0), gaze_1=frozen(record.gaze_1), gaze_angle=frozen(record.gaze_angle),
                   au_intensity=dict(record.au_intensity), au_occurrence=dict(record.au_occurrence))


# --------------------------------------------------------------------------- what Stream and extract share

class _Session:
    """The stages (loaded once), the per-frame step, and the rows of the video so far."""

    def __init__(self, config: Config, models: str | Path | None, *, notice_stream: TextIO | None,
                 tracker: Tracker | None = None):
        from aubench.pipeline import stages
        from aubench.pipeline.compile_notice import CompileNotice
        from aubench.pipeline.frame_step import FrameStep, csv_schema
        from aubench.pipeline.progress import progress_writer

        self.config = config
        self.notice = CompileNotice(progress_writer(notice_stream))
        self._blas = _blas_controller()
        with self.one_blas_thread():
            kernels = stages.resolve_kernels(config) if stages.stages_to_load(config, tracker, None) else None
            self.notice.start()
            tracker, analyser = stages.load_stages(config, models, kernels, tracker=tracker)
            self.notice.start()
        self.step = FrameStep(tracker, analyser)
        self.schema = csv_schema(config, tracker, analyser)
        self.rows: list[str] = []
        self._new_video()

    def _new_video(self) -> None:
        from aubench.pipeline.frame_step import OnlineAUs

        self.rows = []
        self.online = OnlineAUs(self.schema)

    def reset(self) -> None:
        """A new video or person: forget the face, the calibration and the rows."""
        self.step.reset()
        self._new_video()

    def one_blas_thread(self):
        """BLAS on one thread while the pipeline runs, as ``aubench run`` has it (``aubench/cli.py``):
        a threaded BLAS splits sums by core count and moves results by an ulp. Kept when the
        user set a thread count in the environment."""
        if self._blas is None:
            return contextlib.nullcontext()
        return self._blas.limit(limits=1, user_api="blas")

    def feed(self, number: int, timestamp: float, bgr: np.ndarray, gray: np.ndarray) -> Any:
        """One frame through the step; its CSV row kept; returns its FaceRecord."""
        from aubench.pipeline.io.csv_out import format_row

        record = self.step(number, timestamp, bgr, gray).record
        self.online.add(record)
        self.rows.append(format_row(record, self.schema).rstrip("\n"))
        self.notice.frame_done()
        return record

    def dataframe(self, postprocess: bool = True) -> pd.DataFrame:
        """The rows so far as the CSV has them, AU columns post-processed when ``postprocess``
        and the configuration does it (``[analyser] postprocess``)."""
        import pandas as pd

        from aubench.pipeline.io.csv_out import rewrite_au_lines

        lines = [self.schema.header().rstrip("\n")] + self.rows
        analyser = self.step.analyser
        if postprocess and self.rows and analyser is not None and self.schema.aus and self.config.analyser.postprocess:
            with self.one_blas_thread():
                pp = self.online.postprocess(analyser)
            lines = rewrite_au_lines(lines, pp.intensity, pp.occurrence, where="aubench.Stream")
        return pd.read_csv(io.StringIO("\n".join(lines) + "\n"))

    def close(self) -> None:
        self.notice.stop()


def _blas_controller():
    """The BLAS libraries to hold to one thread (None when the user set a thread count).

    threadpoolctl sees the libraries loaded when it is made: NumPy's, and SciPy's, loaded here
    first because the landmark stage's first frame calls its LAPACK
    (``aubench.pipeline.landmarks.patch_experts``).
    """
    if any(os.environ.get(v) for v in _BLAS_ENV):
        return None
    import scipy.linalg  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


# --------------------------------------------------------------------------- Stream

class Stream:
    """AU extraction fed one frame at a time: a webcam, a network stream, any frame source.

    Parameters
    ----------
    config : str, path or Config, default ``"fast"``
        A shipped preset (``"fast"``, ``"reference"``, ...), a TOML file (as ``aubench run --config``)
        or a :class:`aubench.pipeline.config.Config`.
    models : path, optional
        The OpenFace model folder (``model/`` and ``AU_predictors/``); default: ``$AUBENCH_MODELS``,
        then the folder ``aubench models use`` or ``aubench models fetch`` set up.
    variants : mapping, optional
        ``{kernel: variant}`` overrides, as ``--variant KERNEL=VARIANT`` (``aubench variants`` lists them).
    fps : float, default 30.0
        Frame rate used for the timestamps of frames given without one: frame ``k`` is at
        ``(k - 1) / fps`` s, as OpenFace times a video; 0 gives every frame timestamp 0 (images).
    quiet : bool, default False
        No notice on stderr when Numba compiles the kernels (the first use on a machine).

    Notes
    -----
    The models load when the stream is made. Each :meth:`process` tracks the face from the
    previous frames, as FeatureExtraction does on a video (one face), and returns the frame's
    :class:`FrameResult` with the *online* AU values; :meth:`to_frame` gives every frame so
    far with OpenFace's offline post-processing, as :func:`extract` returns it. Each frame's
    CSV row is kept for :meth:`to_frame` (about 5 KB of text a frame); :meth:`reset` starts over (a new
    video or person) and frees them. A stream is not thread-safe: feed it from one thread.

    Examples
    --------
    >>> import cv2, aubench
    >>> capture = cv2.VideoCapture(0)
    >>> with aubench.Stream(fps=capture.get(cv2.CAP_PROP_FPS) or 30) as stream:  # doctest: +SKIP
    ...     for _ in range(300):
    ...         ok, frame = capture.read()
    ...         if not ok:
    ...             break
    ...         result = stream.process(frame)
    ...         if result.success:
    ...             print(result.frame, result.au_intensity["AU12"])
    ...     table = stream.to_frame()
    """

    def __init__(self, config: str | Path | Config = "fast", *, models: str | Path | None = None,
                 variants: Mapping[str, str] | None = None, fps: float = 30.0, quiet: bool = False):
        cfg = build(config, variants)
        self._init(cfg, models, fps, quiet, tracker=None)

    @classmethod
    def _open(cls, config: Config, models: str | Path | None, fps: float, quiet: bool,
              tracker: Tracker | None) -> Stream:
        """A stream on a built config with an optional ready-made tracker (extract's replay)."""
        self = cls.__new__(cls)
        self._init(config, models, fps, quiet, tracker)
        return self

    def _init(self, config: Config, models: str | Path | None, fps: float, quiet: bool,
              tracker: Tracker | None) -> None:
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not fps >= 0:
            raise ConfigError(f"fps={fps!r}: expected a frame rate >= 0 (frames per second; 0: images, "
                              "every timestamp 0)")
        self.fps = float(fps)
        self.config = config
        self._session: _Session | None = _Session(config, models, notice_stream=None if quiet else sys.stderr,
                                                  tracker=tracker)

    # ------------------------------------------------------------------ frames
    @property
    def frames(self) -> int:
        """Frames processed since the stream was made or last reset."""
        return len(self._live().rows)

    def process(self, frame: np.ndarray, timestamp: float | None = None) -> FrameResult:
        """Track and analyse the next frame.

        Parameters
        ----------
        frame : ndarray, (h, w, 3) uint8
            A BGR image, as ``cv2.VideoCapture.read()`` and ``cv2.imread`` give it; greyscale
            (h, w) and BGRA (h, w, 4) are converted.
        timestamp : float, optional
            Seconds; default ``(k - 1) / fps`` for the k-th frame.

        Returns
        -------
        FrameResult
            Landmarks, pose, gaze, success, confidence and the online AU values of this frame.
        """
        session = self._live()
        bgr, gray = _as_bgr_and_gray(frame)
        number = len(session.rows) + 1
        if timestamp is None:
            timestamp = (number - 1) * (1.0 / self.fps) if self.fps > 0 else 0.0
        else:
            try:
                timestamp = float(timestamp)
            except (TypeError, ValueError):
                raise InputError(f"timestamp={timestamp!r}: expected seconds as a number, or None for "
                                 "(k - 1) / fps") from None
        with session.one_blas_thread():
            record = session.feed(number, timestamp, bgr, gray)
        return FrameResult._of(record)

    def to_frame(self, postprocess: bool = True) -> pd.DataFrame:
        """Every frame processed so far, one row each, with the columns of ``aubench run``'s CSV.

        Parameters
        ----------
        postprocess : bool, default True
            Apply OpenFace's offline AU post-processing (``FaceAnalyser::PostprocessOutputFile``:
            person calibration over all the frames, smoothing, clipping), as :func:`extract` and
            the CSV have it, when the configuration does (``[analyser] postprocess``); False: the
            online values :meth:`process` returned, rounded as the CSV rounds them.

        Returns
        -------
        pandas.DataFrame
            The numbers of the CSV ``aubench run`` would write for these frames (the same
            rounding); the stream can go on after it.
        """
        return self._live().dataframe(postprocess)

    def reset(self) -> None:
        """Start over, as on a new video: forget the face, the person's calibration and the frames."""
        self._live().reset()

    def close(self) -> None:
        """Release the models; the stream cannot process frames afterwards."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def _live(self) -> _Session:
        if self._session is None:
            raise InputError("this aubench.Stream is closed; make a new Stream to process more frames")
        return self._session

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._session is None else f"{len(self._session.rows)} frames"
        return f"aubench.Stream(config={self.config.name!r}, fps={self.fps:g}, {state})"


def _as_bgr_and_gray(frame: Any) -> tuple[np.ndarray, np.ndarray]:
    """A frame given to :meth:`Stream.process` as (h, w, 3) uint8 BGR and its ``BGR2GRAY``."""
    from aubench.pipeline.io.frames import to_bgr, to_gray

    if frame is None:
        raise InputError("frame is None: the frame source gave no image (cv2.VideoCapture.read() returns "
                         "ok=False at the end or on a camera error); check ok before passing the frame")
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim not in (2, 3) or (
            frame.ndim == 3 and frame.shape[2] not in (1, 3, 4)) or frame.size == 0:
        got = f"{frame.dtype} array of shape {frame.shape}" if isinstance(frame, np.ndarray) else type(frame).__name__
        raise InputError(f"expected a BGR uint8 image of shape (h, w, 3) as cv2.VideoCapture.read() gives, got {got}; "
                         "convert it with cv2.cvtColor / .astype(np.uint8)")
    bgr = np.ascontiguousarray(to_bgr(frame))
    return bgr, to_gray(bgr)


# --------------------------------------------------------------------------- extract

def extract(path: str | Path, config: str | Path | Config = "fast", *, frames: int | None = None,
            models: str | Path | None = None, variants: Mapping[str, str] | None = None,
            **options: Any) -> pd.DataFrame:
    """Landmarks, head pose, gaze and Action Units of a video, an image or a folder, as a DataFrame.

    What ``aubench run PATH -o OUT`` writes to ``OUT/<name>.csv``, without the file.

    Parameters
    ----------
    path : str or path
        A video file (FeatureExtraction), an image or a folder of images (FaceLandmarkImg: every
        face of each image), a folder of videos, or a ``.txt`` list of videos and images (one path
        per line). ``sequence=True`` makes a folder of images one video; ``multi_face=True`` tracks
        up to 4 faces per video (FaceLandmarkVidMulti).
    config : str, path or Config, default ``"fast"``
        A shipped preset (``"fast"``, ``"reference"``, ...), a TOML file (as ``aubench run --config``)
        or a :class:`aubench.pipeline.config.Config`.
    frames : int, optional
        Only the first ``frames`` frames (of each video); default all.
    models : path, optional
        The OpenFace model folder (``model/`` and ``AU_predictors/``); default: ``$AUBENCH_MODELS``,
        then the folder ``aubench models use`` or ``aubench models fetch`` set up.
    variants : mapping, optional
        ``{kernel: variant}`` overrides, as ``--variant KERNEL=VARIANT`` (``aubench variants`` lists them).
    **options
        The other options of ``aubench run`` (:data:`RUN_OPTIONS`): ``landmarks_from`` (an OpenFace
        CSV of this video whose landmarks, pose and gaze are replayed: the AU stage alone),
        ``raw_landmarks`` (with it, the CSV's rounded landmarks), ``workers`` (processes for a
        folder of videos; 0: all cores), ``multi_face``, ``sequence`` and ``quiet`` (no progress bar
        on stderr).

    Returns
    -------
    pandas.DataFrame
        Exactly the columns and numbers of the CSV (OpenFace FeatureExtraction's 714 for a video,
        FaceLandmarkImg's 711 (``face,confidence,...``) for an image: one row per face,
        FaceLandmarkVidMulti's for ``multi_face``), rounded as the CSV rounds them, AU columns of a
        video after the offline post-processing. For a folder or a list, one DataFrame for all its
        inputs with a first column ``input``: the file each row comes from (``frame`` counts within
        each video; an image without a face has no row).

    Raises
    ------
    aubench.AubenchError
        With one message saying what to fix: a missing or unreadable input (InputError), an
        unknown preset, variant or option (ConfigError), missing model files.

    Examples
    --------
    >>> import aubench
    >>> table = aubench.extract("video.mp4", frames=30)  # doctest: +SKIP
    >>> table[["frame", "success", "AU12_r", "AU12_c"]].head()  # doctest: +SKIP
    >>> faces = aubench.extract("group_photo.jpg")  # doctest: +SKIP
    >>> faces[["face", "confidence", "AU12_r"]]  # doctest: +SKIP
    """
    from aubench.pipeline.batch import resolve_workers
    from aubench.pipeline.inputs import plan_run

    unknown = sorted(set(options) - set(RUN_OPTIONS))
    if unknown:
        valid = ["config", "frames", "models", "variants", *RUN_OPTIONS]
        raise ConfigError(unknown_name("option", unknown[0], valid, "aubench.extract"))
    opts = {**RUN_OPTIONS, **options}
    cfg = build(config, variants)
    if frames is not None and (isinstance(frames, bool) or not isinstance(frames, int) or frames < 1):
        raise InputError(f"frames={frames!r}: expected a positive number of frames, or None for all of them")
    plan = plan_run([path], sequence_dirs=bool(opts["sequence"]), video_only=bool(opts["multi_face"]),
                    landmarks_from=opts["landmarks_from"], program="aubench.extract")
    progress_stream = None if opts["quiet"] or not cfg.runtime.progress else sys.stderr
    single = Path(path).is_file() and len(plan) == 1
    if plan.images or opts["multi_face"]:
        return _extract_through_files(plan, cfg, models, frames, bool(opts["multi_face"]), progress_stream,
                                      named=not single)
    videos = plan.tracked
    if len(videos) == 1 and (single or plan.sequences):
        return _extract_one(videos[0], cfg, models, frames, opts, progress_stream)
    workers = resolve_workers(cfg.runtime.workers if opts["workers"] is None else opts["workers"], len(videos))
    if workers > 1:
        return _extract_in_workers(videos, cfg, models, frames, workers, progress_stream)
    from aubench.pipeline.io.frames import open_input

    for video in videos:  # every input readable before the first is processed
        open_input(video).close()
    feeder = Stream._open(cfg, models, 0.0, progress_stream is None, tracker=None)
    try:
        parts = [_frames_of(feeder._live(), video, frames, progress_stream, reset=True) for video in videos]
    finally:
        feeder.close()
    return _with_input_column(parts, [[v.name] for v in videos])


def _extract_through_files(plan: Any, cfg: Config, models: str | Path | None, frames: int | None, multi_face: bool,
                           progress_stream: TextIO | None, *, named: bool) -> pd.DataFrame:
    """Photos (FaceLandmarkImg) and multi-face videos: their runs write CSVs in a temporary folder, read back."""
    import tempfile

    import pandas as pd

    progress = progress_stream is not None
    parts, names = [], []
    with tempfile.TemporaryDirectory(prefix="aubench-extract-") as tmp:
        if plan.images:
            from aubench.pipeline.images import run_images

            result = run_images(plan.images, tmp, cfg, progress=progress, models_dir=models,
                                progress_stream=progress_stream)
            if result.failed:
                raise InputError("; ".join(f"{o.path}: {o.error}" for o in result.failed))
            for outcome in result.images:
                if outcome.csv is not None:
                    parts.append(pd.read_csv(outcome.csv))
                    names.append([Path(outcome.path).name])
        if multi_face:
            from aubench.pipeline.multi_face import run_multi_face

            for video in plan.tracked:
                run = run_multi_face(video, tmp, cfg, frames=frames, progress=progress, models_dir=models,
                                     progress_stream=progress_stream)
                parts.append(pd.read_csv(run.csv))
                names.append([Path(video).name])
    if not parts:  # no face in any image: no CSV (as OpenFace), an empty table with the image schema
        from aubench.pipeline.io.csv_out import CsvSchema

        columns = CsvSchema.from_output(cfg.output, sequence=False).columns()
        return pd.DataFrame(columns=[INPUT_COLUMN, *columns] if named else columns)
    if not named and len(parts) == 1:
        return parts[0]
    return _with_input_column(parts, names)


def _extract_one(path: Path, cfg: Config, models: str | Path | None, frames: int | None, opts: dict[str, Any],
                 progress_stream: TextIO | None) -> pd.DataFrame:
    """One input (a video, an image, a folder of images) through a stream."""
    from aubench.pipeline.io.frames import open_input

    source = open_input(path)  # the input checked before the models load
    source.close()
    tracker = None
    if opts["landmarks_from"] is not None:
        from aubench.pipeline.replay import ReplayTracker

        tracker = ReplayTracker(opts["landmarks_from"], unround=not opts["raw_landmarks"], models_dir=models)
    feeder = Stream._open(cfg, models, 0.0, progress_stream is None, tracker=tracker)
    try:
        table = _frames_of(feeder._live(), path, frames, progress_stream, reset=False)
    finally:
        feeder.close()
    if source.kind != "images":
        return table
    names = [p.name for p in source.files[:len(table)]]
    return _with_input_column([table], [names])


def _frames_of(session: _Session, path: Path, frames: int | None, progress_stream: TextIO | None, *,
               reset: bool) -> pd.DataFrame:
    """Every frame of ``path`` (the first ``frames``) through ``session``; its DataFrame."""
    from aubench.pipeline.io.frames import open_input
    from aubench.pipeline.progress import progress_bar

    if reset:
        session.reset()
    source = open_input(path)
    total = source.frame_count if frames is None else min(frames, source.frame_count or frames)
    bar = progress_bar(total, progress_stream, f"aubench.extract {source.path.name}")
    try:
        with session.one_blas_thread():
            for frame in itertools.islice(source, frames):
                session.feed(frame.number, frame.timestamp, frame.bgr, frame.gray)
                bar.update()
    finally:
        bar.close()
        source.close()
    return session.dataframe()


def _extract_in_workers(videos: list[Path], cfg: Config, models: str | Path | None, frames: int | None,
                        workers: int, progress_stream: TextIO | None) -> pd.DataFrame:
    """A batch of videos through ``aubench run``'s process pool; its CSVs read back."""
    import tempfile

    import pandas as pd

    from aubench.pipeline.batch import run_many

    with tempfile.TemporaryDirectory(prefix="aubench-extract-") as tmp:
        batch = run_many(videos, tmp, cfg, workers=workers, frames=frames, models_dir=models,
                         progress=progress_stream is not None, stream=progress_stream)
        if batch.failed:
            raise InputError(f"{len(batch.failed)} of {len(videos)} videos failed: "
                             + "; ".join(f"{o.video} ({o.error})" for o in batch.failed)
                             + "; fix or remove them, or run them alone to see why")
        parts = [pd.read_csv(o.csv) for o in batch.outcomes]
    return _with_input_column(parts, [[v.name] for v in videos])


def _with_input_column(parts: list[pd.DataFrame], names: list[list[str]]) -> pd.DataFrame:
    """The parts stacked, with a first column naming each row's file (one name per part, or one per row)."""
    import pandas as pd

    named = [pd.concat([pd.DataFrame({INPUT_COLUMN: part_names * len(table) if len(part_names) == 1 else part_names}),
                        table], axis=1)
             for table, part_names in zip(parts, names)]
    return pd.concat(named, ignore_index=True)
