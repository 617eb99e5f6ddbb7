"""Input frames: a video file, an image, or a folder of images, decoded by OpenCV.

Mirrors ``SequenceCapture.cpp`` (what FeatureExtraction reads frames through):

* a video file is decoded with ``cv::VideoCapture``; frame ``k`` (1-based) has the
  timestamp ``(k - 1) * (1.0 / fps)`` s, with ``fps = CAP_PROP_FPS`` or 30 when
  OpenCV reports none (``SequenceCapture::OpenVideoFile``, ``CaptureThread``);
* a folder is the sorted list of its ``.jpg/.jpeg/.png/.bmp`` files, each read with
  ``cv::imread(IMREAD_COLOR)``; fps is 0 and every timestamp 0
  (``SequenceCapture::OpenImageSequence``); a single image is a one-frame folder;
* the grey frame is ``cv::cvtColor(BGR2GRAY)`` of the decoded BGR frame
  (``ConvertToGrayscale_8bit``). ``IMREAD_COLOR`` already gives greyscale images
  three channels; a decoded frame that still has one or four is converted to BGR.

Camera intrinsics default as ``SequenceCapture::SetCameraIntrinsics`` does
(:meth:`FrameSource.intrinsics`).

OpenCV and FFmpeg print their own lines on damaged input (``[wmv2 @ 0x...] ac-tex damaged``,
``moov atom not found``), straight to file descriptor 2, before aubench's one-line error. Every
call into ``cv::VideoCapture`` runs with fd 2 sent to a temporary file (:class:`_LibraryLog`);
what the libraries said becomes part of aubench's message instead: the open error quotes it,
a run on a damaged or truncated video ends with one notice (:meth:`FrameSource.damage_notice`).
OpenCV 4.14's own switches are no substitute: ``OPENCV_LOG_LEVEL`` does not reach FFmpeg's
``av_log``, and ``OPENCV_FFMPEG_LOGLEVEL`` only silences it, losing what it said.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from aubench.pipeline.errors import InputError

# OpenFace's image-sequence extensions (SequenceCapture::OpenImageSequence); matched case-insensitively.
SEQUENCE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
# What a single input file counts as an image rather than a video.
IMAGE_EXTENSIONS = SEQUENCE_EXTENSIONS + (".tif", ".tiff", ".webp", ".ppm", ".pgm", ".jp2")
DEFAULT_FPS = 30.0
# CAP_PROP_FRAME_COUNT is an estimate (duration x fps) for some containers: a video that ends this
# many frames or fewer before it is not called truncated. The three sample videos decode exactly
# their announced count; a default.wmv cut at 50 % announces 146 and decodes 141.
FRAME_COUNT_SLACK = 2


class _LibraryLog:
    """Sends fd 2 to a temporary file while OpenCV / FFmpeg run (``with log:``); :meth:`lines` is what they said.

    Process-wide while active: only the short calls into ``cv::VideoCapture`` are wrapped, never
    Python code that writes to stderr itself (the progress bar).
    """

    _ADDRESS = re.compile(r" @ 0x[0-9a-f]+\]")
    _PREFIX_ONLY = re.compile(r"\[[^\]]*\]")  # FFmpeg's "[wmv2 @ 0x...] " with nothing after it

    def __init__(self):
        self._file = tempfile.TemporaryFile()
        self._saved: int | None = None

    def __enter__(self) -> _LibraryLog:
        try:
            self._saved = os.dup(2)
            os.dup2(self._file.fileno(), 2)
        except OSError:  # no fd 2 (a detached service): nothing to capture
            self._saved = None
        return self

    def __exit__(self, *exc) -> None:
        if self._saved is not None:
            os.dup2(self._saved, 2)
            os.close(self._saved)
            self._saved = None

    def lines(self) -> list[str]:
        """What was captured, one entry per non-empty line, FFmpeg's object addresses dropped."""
        self._file.seek(0)
        text = self._file.read().decode("utf-8", "replace")
        self._file.seek(0, os.SEEK_END)
        lines = (self._ADDRESS.sub("]", ln.strip()) for ln in text.splitlines())
        return [ln for ln in lines if ln and not self._PREFIX_ONLY.fullmatch(ln)]

    def close(self) -> None:
        self._file.close()


@dataclass(frozen=True)
class Frame:
    """One decoded frame: ``number`` 1-based, ``timestamp`` s, ``bgr`` (h, w, 3) uint8, ``gray`` (h, w) uint8."""

    number: int
    timestamp: float
    bgr: np.ndarray
    gray: np.ndarray


def to_bgr(img: np.ndarray) -> np.ndarray:
    """A decoded image as 3-channel uint8 BGR (greyscale and BGRA converted)."""
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    if img.shape[2] == 1:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    return img


def to_gray(bgr: np.ndarray) -> np.ndarray:
    """``cv::cvtColor(BGR2GRAY)``, as ``ConvertToGrayscale_8bit`` does for a 3-channel uint8 frame."""
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


def check_opencv_name(path: Path) -> None:
    """Refuse a file name that is not valid UTF-8 before OpenCV sees it: its Python binding crashes on one
    (segmentation fault in ``imread`` / ``VideoCapture``, OpenCV 4.6-4.14), which would end the process
    without a word. A batch reads such files through an ASCII hard link (:mod:`aubench.pipeline.video_task`)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(str(path)).decode("utf-8", "backslashreplace")
        raise InputError(f"{shown}: the file name is not valid UTF-8, which OpenCV cannot open (it crashes); rename "
                         "it (e.g. convmv -f latin1 -t utf8 --notest FILE), or give its folder to run it as a "
                         "batch, which reads it through a link") from None


def _imread(path: Path, log: _LibraryLog) -> np.ndarray:
    check_opencv_name(path)
    with log:  # libjpeg's "Premature end of JPEG file" and the like
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None or img.size == 0:
        said = log.lines()
        said = f' (the decoder said: "{said[-1]}")' if said else ""
        raise InputError(f"{path}: OpenCV cannot decode this image{said}; give a readable .jpg, .png or .bmp file")
    return to_bgr(img)


class FrameSource:
    """The frames of one input, in order. Iterate to get :class:`Frame` objects.

    Attributes
    ----------
    path : the input as given.
    kind : ``"video"``, ``"image"`` or ``"images"`` (a folder).
    fps : frames per second (0 for images, as OpenFace).
    frame_count : frames OpenCV announces for a video (``CAP_PROP_FRAME_COUNT``; may be
        approximate), the number of files for images.
    width, height : frame size in pixels.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._capture = None
        self._log = _LibraryLog()
        self.decoded = 0  # frames yielded so far
        self.exhausted = False  # True once the input gave its last frame
        self.out_name: str | None = None  # the outputs' name when not the input's (OpenFace's -of)
        self._files: list[Path] = []
        if not self.path.exists():
            raise InputError(f"{self.path}: no such file or folder; give a video, an image or a folder of images")
        if self.path.is_dir():
            self.kind = "images"
            self._files = sorted(p for p in self.path.iterdir()
                                 if p.is_file() and p.suffix.lower() in SEQUENCE_EXTENSIONS)
            if not self._files:
                raise InputError(f"{self.path}: no images in this folder (expected {', '.join(SEQUENCE_EXTENSIONS)} "
                                 "files); give a folder of images, a video or an image")
            first = _imread(self._files[0], self._log)
            self._first = first
            self.fps = 0.0
            self.frame_count = len(self._files)
        elif self.path.suffix.lower() in IMAGE_EXTENSIONS:
            self.kind = "image"
            self._files = [self.path]
            first = _imread(self.path, self._log)
            self._first = first
            self.fps = 0.0
            self.frame_count = 1
        else:
            self.kind = "video"
            if self.path.stat().st_size == 0:
                raise InputError(f"{self.path}: the file is empty (0 bytes); give a video OpenCV can decode")
            check_opencv_name(self.path)
            with self._log:
                cap = cv2.VideoCapture(str(self.path))
            if not cap.isOpened():
                raise InputError(f"{self.path}: OpenCV cannot open this as a video (unknown or damaged format"
                                 f"{self._said()}); give a video OpenCV can decode (e.g. .avi, .mp4, .wmv), "
                                 "an image or a folder of images")
            with self._log:
                ok, first = cap.read()
            if not ok or first is None or first.size == 0:
                cap.release()
                raise InputError(f"{self.path}: the video has no decodable frames{self._said()}; "
                                 "give a video OpenCV can decode")
            self._capture = cap
            self._first = to_bgr(first)
            fps = cap.get(cv2.CAP_PROP_FPS)
            self.fps = DEFAULT_FPS if not (fps == fps) or fps <= 0 else float(fps)
            self.frame_count = max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
        self.height, self.width = self._first.shape[:2]
        self._started = False

    def _said(self) -> str:
        """``; the decoder said: "..."`` (the first of what OpenCV / FFmpeg printed), or ''."""
        lines = self._log.lines()
        if not lines:
            return ""
        more = f" and {len(lines) - 1} more lines" if len(lines) > 1 else ""
        return f'; the decoder said: "{lines[0]}"{more}'

    def damage_notice(self) -> str | None:
        """One line when a video read to its end ended early, or the decoder complained about the input, else None.

        Ended early: fewer frames than ``CAP_PROP_FRAME_COUNT`` by more than :data:`FRAME_COUNT_SLACK`.
        """
        what = "video" if self.kind == "video" else "image" if self.kind == "image" else "image folder"
        lines = self._log.lines()
        said = f'; the decoder printed {len(lines)} line{"s" * (len(lines) != 1)}, first: "{lines[0]}"' if lines else ""
        if self.kind == "video" and self.exhausted and self.frame_count - self.decoded > FRAME_COUNT_SLACK:
            return (f"the video ended after {self.decoded} of {self.frame_count} frames (truncated or damaged file)"
                    f"{said}")
        if lines:
            return f"the {what} is damaged{said}"
        return None

    # ------------------------------------------------------------------ metadata
    def intrinsics(self, fx: float = 0.0, fy: float = 0.0, cx: float = 0.0, cy: float = 0.0) -> tuple[float, float, float, float]:
        """``(fx, fy, cx, cy)`` in px: the values given, or OpenFace's defaults where 0.

        Defaults (``SequenceCapture::SetCameraIntrinsics``, float arithmetic): ``cx, cy`` the
        image centre; ``fx = fy = (500 * w / 640 + 500 * h / 480) / 2`` (500, 500, 320, 240
        for 640x480). Pass ``config.camera``'s fields; zero means "default".
        """
        f32 = np.float32
        if cx == 0:
            cx, cy = f32(self.width) / f32(2), f32(self.height) / f32(2)
        if fx == 0:
            fx_d = f32(500) * (f32(self.width) / f32(640))
            fy_d = f32(500) * (f32(self.height) / f32(480))
            fx = fy = (fx_d + fy_d) / f32(2)
        return float(f32(fx)), float(f32(fy)), float(f32(cx)), float(f32(cy))

    @property
    def files(self) -> tuple[Path, ...]:
        """The image files in reading order (frame ``k`` is ``files[k - 1]``); empty for a video."""
        return tuple(self._files)

    @property
    def stem(self) -> str:
        """The output name OpenFace uses: the input's name without extension (or ``out_name``, from ``-of``)."""
        if self.out_name:
            return self.out_name
        return self.path.stem if self.kind != "images" else self.path.name

    # ------------------------------------------------------------------ frames
    def timestamp(self, number: int) -> float:
        """Seconds of 1-based frame ``number``: ``(number - 1) * (1.0 / fps)`` for video
        (that order of operations, ``SequenceCapture::CaptureThread``), 0 for images."""
        return (number - 1) * (1.0 / self.fps) if self.kind == "video" else 0.0

    def _make(self, index: int, bgr: np.ndarray) -> Frame:
        return Frame(index + 1, self.timestamp(index + 1), bgr, to_gray(bgr))

    def __iter__(self) -> Iterator[Frame]:
        if self._started:
            raise RuntimeError(f"{self.path}: a FrameSource is read once; open the input again")
        self._started = True
        try:
            self.decoded = 1
            yield self._make(0, self._first)
            self._first = None
            if self.kind == "video":
                index = 1
                while True:
                    with self._log:
                        ok, bgr = self._capture.read()
                    if not ok or bgr is None or bgr.size == 0:
                        break
                    self.decoded += 1
                    yield self._make(index, to_bgr(bgr))
                    index += 1
            else:
                for index, path in enumerate(self._files[1:], start=1):
                    self.decoded += 1
                    yield self._make(index, _imread(path, self._log))
            self.exhausted = True
        finally:
            self.close()

    def close(self) -> None:
        if self._capture is not None:
            with self._log:
                self._capture.release()
            self._capture = None

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"FrameSource({str(self.path)!r}, kind={self.kind}, {self.width}x{self.height}, "
                f"fps={self.fps:g}, frames={self.frame_count})")


def open_input(path: str | Path) -> FrameSource:
    """Open a video file, an image or a folder of images; an unusable input is an InputError naming it."""
    return FrameSource(path)
