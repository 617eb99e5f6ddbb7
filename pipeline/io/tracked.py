"""OpenFace's ``-tracked`` output: each frame with what was found drawn on it.

OpenFace's ``Visualizer`` (``Utilities/Visualizer.cpp``) draws the landmarks, the eye landmarks and
gaze, and the head-pose box on the frame; ``RecorderOpenFace`` writes the result as ``<stem>.avi``
(FeatureExtraction) or ``<stem>.jpg`` (FaceLandmarkImg). Here:

* :func:`annotate` draws one frame's :class:`~aubench.pipeline.io.records.FaceRecord` objects on a
  copy of the frame: the 68 landmarks, the 56 eye landmarks, a gaze line per eye, a 3D box
  around the head from the pose, the face id and confidence, and an AU panel (the intensities
  as bars, the occurrence as the bar's colour). Pure drawing: no I/O.
* :class:`TrackedVideo` writes annotated frames to an MJPG ``.avi`` (OpenCV's own AVI muxer, present
  in opencv-python-headless), one output frame per frame given.
* :func:`write_tracked_image` writes one annotated image (``<stem>.jpg``).

Notes
-----
The AU values a run draws are the *online* ones of that frame (what ``FaceAnalyser::AddNextFrame``
gives as the frame is processed). The offline post-processing (``PostprocessOutputFile``) rewrites
the CSV's AU columns after the last frame, when the video is already written, so the CSV's AU
values can differ from the ones drawn; the panel says "(online)".

The look departs from OpenFace's: the head box is a 100 mm cube centred on the head's pose
origin, the AU panel is ours (OpenFace's tracked video has none), and line widths and fonts scale
with the frame size.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from aubench.pipeline.errors import OutputError
from aubench.pipeline.io.records import FaceRecord

# BGR colours
LANDMARK_FILL = (0, 0, 255)      # red dot ...
LANDMARK_RING = (255, 0, 0)      # ... in a blue ring, as OpenFace draws its landmarks
EYE_OUTLINE = (40, 220, 40)      # eyelid, iris and pupil outlines
GAZE_LINE = (30, 200, 255)       # orange-yellow
BOX_COLOUR = (255, 160, 0)       # light blue head box
LABEL_COLOUR = (255, 255, 255)
LOST_COLOUR = (0, 0, 255)
BAR_ON = (60, 200, 60)           # AU present (occurrence 1)
BAR_OFF = (150, 150, 150)        # AU absent (occurrence 0 or not predicted)
PANEL_ALPHA = 0.55               # how much the panel background darkens the frame

# The 28-point eye part model: the iris outline (8 points), the eyelid outline (12), the pupil outline (8);
# the 56 eye landmarks are the left eye's 28 then the right eye's.
EYE_PARTS = ((0, 8), (8, 20), (20, 28))
EYE_POINTS = 28
IRIS_POINTS = 8
GAZE_LENGTH_MM = 50.0
HEAD_BOX_MM = 100.0
NEAR_MM = 1.0  # box edges are clipped to z >= this before projection (a pose behind the camera)
AU_MAX = 5.0

Intrinsics = tuple[float, float, float, float]


# ----------------------------------------------------------------------------------------- geometry
def euler_xyz_to_rotation(euler: np.ndarray) -> np.ndarray:
    """(3,) radians -> (3, 3) ``R = Rx Ry Rz``: OpenFace's Euler convention for ``pose_R*``
    (as :func:`aubench.pipeline.landmarks.pdm.euler_to_rotation`, in float64 for drawing)."""
    rx, ry, rz = (float(v) for v in euler)
    cx, sx, cy, sy, cz, sz = np.cos(rx), np.sin(rx), np.cos(ry), np.sin(ry), np.cos(rz), np.sin(rz)
    r_x = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    r_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    r_z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return r_x @ r_y @ r_z


def head_box(pose: np.ndarray, size_mm: float = HEAD_BOX_MM) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The 8 corners (8, 3) mm, camera coordinates, of a cube of side ``size_mm`` centred on the pose
    origin and turned with the head, and its 12 edges as index pairs."""
    half = size_mm / 2.0
    unit = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64)
    corners = unit * half @ euler_xyz_to_rotation(pose[3:6]).T + np.asarray(pose[:3], dtype=np.float64)
    edges = [(i, j) for i in range(8) for j in range(i + 1, 8) if bin(i ^ j).count("1") == 1]
    return corners, edges


def project(points: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """Pinhole projection of (n, 3) camera-space points (z > 0) to (n, 2) pixels."""
    fx, fy, cx, cy = intrinsics
    p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.stack([fx * p[:, 0] / p[:, 2] + cx, fy * p[:, 1] / p[:, 2] + cy], axis=1)


def _clip_to_front(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The part of segment a-b with z >= NEAR_MM, or None when all of it is behind."""
    if a[2] < NEAR_MM and b[2] < NEAR_MM:
        return None
    if a[2] < NEAR_MM or b[2] < NEAR_MM:
        t = (NEAR_MM - a[2]) / (b[2] - a[2])
        cut = a + t * (b - a)
        a, b = (cut, b) if a[2] < NEAR_MM else (a, cut)
    return a, b


def _clip_to_rect(p: np.ndarray, q: np.ndarray, w: int, h: int) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Segment p-q (float px) clipped to a margin around the image (Liang-Barsky), as int points,
    so a projection far outside the frame never overflows OpenCV's int coordinates."""
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))):
        return None
    lo_x, lo_y, hi_x, hi_y = -w, -h, 2 * w, 2 * h
    d = q - p
    t0, t1 = 0.0, 1.0
    for dp, lo, hi, v in ((d[0], lo_x, hi_x, p[0]), (d[1], lo_y, hi_y, p[1])):
        if dp == 0:
            if v < lo or v > hi:
                return None
            continue
        ta, tb = (lo - v) / dp, (hi - v) / dp
        t0, t1 = max(t0, min(ta, tb)), min(t1, max(ta, tb))
        if t0 > t1:
            return None
    a, b = p + t0 * d, p + t1 * d
    return (int(round(a[0])), int(round(a[1]))), (int(round(b[0])), int(round(b[1])))


def _segment_3d(img: np.ndarray, a: np.ndarray, b: np.ndarray, intrinsics: Intrinsics, colour, thickness: int) -> None:
    front = _clip_to_front(np.asarray(a, np.float64), np.asarray(b, np.float64))
    if front is None:
        return
    pa, pb = project(np.stack(front), intrinsics)
    seg = _clip_to_rect(pa, pb, img.shape[1], img.shape[0])
    if seg is not None:
        cv2.line(img, seg[0], seg[1], colour, thickness, cv2.LINE_AA)


# ----------------------------------------------------------------------------------------- drawing
class _Style:
    """Line widths and font sizes for one frame size (1 at 640x480, 2 at 1280x720 ...)."""

    def __init__(self, shape: tuple[int, ...]):
        h, w = shape[:2]
        self.scale = max(min(w / 640.0, h / 480.0), 0.25)
        self.line = max(1, int(round(self.scale)))
        self.dot = max(1, int(round(1.5 * self.scale)))  # 2 px at 640x480: a 1 px dot is lost to MJPG
        self.font = cv2.FONT_HERSHEY_SIMPLEX
        self.font_scale = 0.42 * self.scale
        self.text = max(1, int(round(self.scale)))

    def text_size(self, text: str, font_scale: float | None = None) -> tuple[int, int, int]:
        (tw, th), base = cv2.getTextSize(text, self.font, font_scale or self.font_scale, self.text)
        return tw, th, base


def _finite_points(points: np.ndarray | None, n: int) -> np.ndarray | None:
    """(n, 2) float64 points when the block is there, finite and not all zero (a block not computed)."""
    if points is None:
        return None
    p = np.asarray(points, dtype=np.float64)
    if p.size != n * 2:
        return None
    p = p.reshape(n, 2)
    if not np.all(np.isfinite(p)) or not np.any(p):
        return None
    return p


def _draw_text(img: np.ndarray, text: str, org: tuple[int, int], style: _Style, colour=LABEL_COLOUR,
               font_scale: float | None = None, outline: bool = True) -> None:
    """Text with a dark outline, readable on any background (``outline`` False: on the panel's dark one).

    The outline is drawn without anti-aliasing: a thick anti-aliased putText costs ~0.1 ms a call
    (25 times a thin one, measured), which made the text most of a frame's drawing."""
    fs = font_scale or style.font_scale
    if outline:
        cv2.putText(img, text, org, style.font, fs, (0, 0, 0), style.text + 2, cv2.LINE_8)
    cv2.putText(img, text, org, style.font, fs, colour, style.text, cv2.LINE_AA)


def _draw_landmarks(img: np.ndarray, points: np.ndarray, style: _Style) -> None:
    w, h = img.shape[1], img.shape[0]
    near = (points[:, 0] >= -w) & (points[:, 0] <= 2 * w) & (points[:, 1] >= -h) & (points[:, 1] <= 2 * h)
    for c in np.round(points[near]).astype(int).tolist():
        cv2.circle(img, c, style.dot, LANDMARK_FILL, -1, cv2.LINE_AA)
        cv2.circle(img, c, style.dot + 1, LANDMARK_RING, 1, cv2.LINE_AA)


def _draw_eyes(img: np.ndarray, eyes: np.ndarray, style: _Style) -> None:
    if not (np.all(np.abs(eyes) < 1e6)):
        return
    for eye in (eyes[:EYE_POINTS], eyes[EYE_POINTS:]):
        for lo, hi in EYE_PARTS:
            poly = np.round(eye[lo:hi]).astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(img, [poly], True, EYE_OUTLINE, max(1, style.line - 1), cv2.LINE_AA)


def _draw_gaze(img: np.ndarray, face: FaceRecord, intrinsics: Intrinsics, style: _Style) -> None:
    """A line per eye from the pupil centre (mean of the iris points, as ``GetPupilPosition``) along the gaze."""
    eyes3d = np.asarray(face.eye_landmarks_3d, dtype=np.float64)
    if eyes3d.size != 2 * EYE_POINTS * 3:
        return
    eyes3d = eyes3d.reshape(2 * EYE_POINTS, 3)
    for k, gaze in enumerate((face.gaze_0, face.gaze_1)):
        g = np.asarray(gaze, dtype=np.float64).reshape(-1)
        pupil = eyes3d[k * EYE_POINTS:k * EYE_POINTS + IRIS_POINTS].mean(axis=0)
        if g.size != 3 or not (np.all(np.isfinite(g)) and np.any(g) and np.all(np.isfinite(pupil))):
            continue
        _segment_3d(img, pupil, pupil + g * GAZE_LENGTH_MM, intrinsics, GAZE_LINE, style.line + 1)


def _draw_box(img: np.ndarray, pose: np.ndarray, intrinsics: Intrinsics, style: _Style) -> None:
    p = np.asarray(pose, dtype=np.float64).reshape(-1)
    if p.size != 6 or not np.all(np.isfinite(p)) or not np.any(p[:3]):
        return
    corners, edges = head_box(p)
    h, w = img.shape[:2]
    if np.all(corners[:, 2] >= NEAR_MM):  # the usual case: project the corners once, draw the edges in one call
        px = project(corners, intrinsics)
        if np.all(np.abs(px - [w / 2, h / 2]) <= [1.5 * w, 1.5 * h]):
            lines = [np.round(px[[i, j]]).astype(np.int32) for i, j in edges]
            cv2.polylines(img, lines, False, BOX_COLOUR, style.line, cv2.LINE_AA)
            return
    for i, j in edges:  # partly behind the camera or far outside the frame: clip each edge
        _segment_3d(img, corners[i], corners[j], intrinsics, BOX_COLOUR, style.line)


def _face_rect(face: FaceRecord) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the face's 68 landmarks, or None."""
    pts = _finite_points(face.landmarks_2d, 68)
    if pts is None:
        return None
    lo, hi = np.clip(pts.min(axis=0), -1e6, 1e6), np.clip(pts.max(axis=0), -1e6, 1e6)
    return int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1])


def _label(img: np.ndarray, lines: Sequence[str], rect: tuple[int, int, int, int] | None, style: _Style,
           colour=LABEL_COLOUR, *, below: bool = False, slot: int = 0) -> None:
    """``lines`` of text above the face (``below``: under it), kept inside the frame and no wider than
    the face; at the left edge (from the ``slot``-th line down) when the face has no landmarks."""
    if not lines:
        return
    h, w = img.shape[:2]
    fs = style.font_scale
    if rect is not None:  # small faces (a crowd) get small labels
        widest = max(style.text_size(t, 1.0)[0] for t in lines)
        fs = min(fs, max(0.3, 1.1 * (rect[2] - rect[0]) / max(widest, 1)))
    tw = max(style.text_size(t, fs)[0] for t in lines)
    _, th, base = style.text_size("Ag", fs)
    step = th + base + max(2, int(2 * style.scale))
    gap = int(6 * style.scale)
    if rect is None:
        x, y = int(4 * style.scale), step * (slot + 1)
    elif below:
        x, y = rect[0], rect[3] + gap + th
    else:
        x, y = rect[0], rect[1] - gap - step * (len(lines) - 1)
        if y - th < 0:  # no room above: under the face
            y = rect[3] + gap + th
    x = min(max(x, 0), max(w - tw, 0))
    y = min(max(y, th), max(h - base - step * (len(lines) - 1), th))
    for k, text in enumerate(lines):
        _draw_text(img, text, (x, y + k * step), style, colour, font_scale=fs)


def _au_rows(face: FaceRecord) -> list[tuple[str, float | None, float | None]]:
    """(AU name, intensity or None, occurrence or None) by AU number."""
    names = sorted(set(face.au_intensity) | set(face.au_occurrence))
    return [(n, face.au_intensity.get(n), face.au_occurrence.get(n)) for n in names]


def _panel_rect(img_shape, rows: int, face_rect, style: _Style, title: str) -> tuple[int, int, int, int, int]:
    """(x0, y0, x1, y1, row height) of the AU panel: on the side of the frame away from the face."""
    h, w = img_shape[:2]
    row_h = max(8, min(int(round(18 * style.scale)), (h - 8) // (rows + 1)))
    fs = min(style.font_scale, row_h / 30.0)
    pw = min(max(int(round(190 * style.scale)), style.text_size(title, fs)[0] + int(10 * style.scale)), w // 2)
    ph = row_h * (rows + 1) + int(6 * style.scale)
    margin = int(6 * style.scale)
    left = (margin, margin, margin + pw, margin + ph)
    right = (w - margin - pw, margin, w - margin, margin + ph)
    if face_rect is None:
        return (*right, row_h)

    def overlap(r):
        ox = max(0, min(r[2], face_rect[2]) - max(r[0], face_rect[0]))
        oy = max(0, min(r[3], face_rect[3]) - max(r[1], face_rect[1]))
        return ox * oy

    return (*(right if overlap(right) <= overlap(left) else left), row_h)


def _draw_au_panel(img: np.ndarray, face: FaceRecord, style: _Style, face_rect, au_values: str) -> None:
    rows = _au_rows(face)
    if not rows:
        return
    h, w = img.shape[:2]
    title = f"face {face.face_id} AU intensity ({au_values})"
    x0, y0, x1, y1, row_h = _panel_rect(img.shape, len(rows), face_rect, style, title)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return
    roi = img[y0:y1, x0:x1]
    roi[:] = cv2.convertScaleAbs(roi, alpha=1.0 - PANEL_ALPHA)
    fs = min(style.font_scale, row_h / 30.0)
    pad = max(2, int(4 * style.scale))
    _draw_text(img, title, (x0 + pad, y0 + row_h - pad // 2), style, font_scale=fs, outline=False)
    name_w = style.text_size("AU00", fs)[0] + pad
    value_w = style.text_size("-0.00", fs)[0] + pad  # online values are unclipped: some are negative
    bar_x0, bar_x1 = x0 + pad + name_w, x1 - pad - value_w
    for k, (name, value, occurrence) in enumerate(rows):
        top = y0 + row_h * (k + 1) + pad // 2
        base = top + row_h - pad
        _draw_text(img, name, (x0 + pad, base), style, font_scale=fs, outline=False)
        on = occurrence is not None and np.isfinite(occurrence) and occurrence >= 0.5
        colour = BAR_ON if on else BAR_OFF
        bar_top, bar_bottom = top + pad // 2, top + row_h - pad
        if value is not None and np.isfinite(value):
            frac = min(max(float(value) / AU_MAX, 0.0), 1.0)  # the bar clamps to 0-5, the number does not
            cv2.rectangle(img, (bar_x0, bar_top), (bar_x1, bar_bottom), (90, 90, 90), 1)
            if frac > 0:
                end = bar_x0 + int(round(frac * (bar_x1 - bar_x0)))
                cv2.rectangle(img, (bar_x0, bar_top), (end, bar_bottom), colour, -1)
            _draw_text(img, f"{float(value):.2f}", (bar_x1 + pad, base), style, font_scale=fs, outline=False)
        elif occurrence is not None:  # an occurrence-only AU (AU28): a marker
            cy = (bar_top + bar_bottom) // 2
            cv2.circle(img, (bar_x0 + row_h // 3, cy), max(2, row_h // 4), colour, -1, cv2.LINE_AA)
            _draw_text(img, "present" if on else "absent", (bar_x0 + row_h, base), style, font_scale=fs, outline=False)


def _strongest_aus(face: FaceRecord, n: int = 3) -> list[str]:
    """The ``n`` strongest present AUs, e.g. ``["AU12 2.1", "AU06 1.4"]`` (the label of a face without a panel)."""
    items = [(v, k) for k, v in face.au_intensity.items()
             if np.isfinite(v) and v > 0 and face.au_occurrence.get(k, 1.0) >= 0.5]
    return [f"{k} {v:.1f}" for v, k in sorted(items, reverse=True)[:n]]


def annotate(bgr: np.ndarray, faces: Sequence[FaceRecord], intrinsics: Intrinsics, *,
             au_panel: bool = True, au_values: str = "online") -> np.ndarray:
    """A copy of ``bgr`` with the faces drawn on it, as OpenFace's ``-tracked`` frames (``Visualizer``).

    Parameters
    ----------
    bgr : (h, w, 3) uint8 frame; not modified.
    faces : the frame's faces. Per face: the 68 landmarks (red dots, blue rings), the eye landmarks
        (iris, eyelid and pupil outlines), a 50 mm gaze line per eye from the pupil centre, a 100 mm
        head box from ``pose`` (Euler XYZ, ``R = Rx Ry Rz``), and "face <id> <confidence>" above it.
        A face whose ``success`` is False gets only a red "face <id> lost" label. Blocks a stage did
        not fill (all zeros, wrong size or not finite) are not drawn.
    intrinsics : ``(fx, fy, cx, cy)`` in px, the run's camera (:meth:`FrameSource.intrinsics`).
    au_panel : draw the AU values. One face with AU values: a panel of its intensities (bars, 0-5;
        green when the occurrence is 1, grey when not) on the side of the frame away from the face.
        Several (a crowd, where a panel would cover faces): each face's three strongest present AUs
        under it. Values are whatever the records hold (a run's: the online ones).
    au_values : which AU values the records hold, for the panel's title ("online" in a run; e.g.
        "post-processed" for records read from a finished CSV).

    Returns
    -------
    (h, w, 3) uint8, a new array.
    """
    img = np.array(bgr, dtype=np.uint8, copy=True)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"annotate: expected an (h, w, 3) BGR image, got shape {img.shape}")
    style = _Style(img.shape)
    drawn = [f for f in faces if getattr(f, "success", True)]
    with_aus = [f for f in drawn if f.au_intensity or f.au_occurrence] if au_panel else []
    panel_face = with_aus[0] if len(with_aus) == 1 else None
    lost_slot = 0
    for face in faces:
        rect = _face_rect(face)
        if not getattr(face, "success", True):
            _label(img, [f"face {face.face_id} lost"], rect, style, LOST_COLOUR, slot=lost_slot)
            lost_slot += rect is None
            continue
        _draw_box(img, face.pose, intrinsics, style)
        points = _finite_points(face.landmarks_2d, 68)
        if points is not None:
            _draw_landmarks(img, points, style)
        eyes = _finite_points(face.eye_landmarks_2d, 2 * EYE_POINTS)
        if eyes is not None:  # over the 68 landmarks' eye points, which would hide them
            _draw_eyes(img, eyes, style)
        _draw_gaze(img, face, intrinsics, style)
        _label(img, [f"face {face.face_id} {float(face.confidence):.2f}"], rect, style)
        if face in with_aus and face is not panel_face and rect is not None:
            _label(img, ["  ".join(_strongest_aus(face))], rect, style, below=True)
    if not faces:
        _label(img, ["no face"], None, style, LOST_COLOUR)
    if panel_face is not None:
        _draw_au_panel(img, panel_face, style, _face_rect(panel_face), au_values)
    return img


# ----------------------------------------------------------------------------------------- writing
TRACKED_FOURCC = "MJPG"
DEFAULT_FPS = 30.0  # image sequences have fps 0; OpenFace writes their tracked video at 30


class TrackedVideo:
    """An MJPG ``.avi`` of annotated frames (OpenFace's ``<stem>.avi``); one output frame per :meth:`write`.

    ``fps`` 0 or less (image sequences) is written as 30. Use as a context manager or call :meth:`close`.
    A closed video (a run that ended, failed or was stopped by Ctrl-C / SIGTERM: the run loop closes it
    with the CSV) is playable with every frame written. A process killed outright (SIGKILL, a crash)
    never writes the AVI index: the writer's buffered frames are lost, the file holds only what was
    flushed (measured: 10 frames of 640x480 left an empty, unreadable file; 100 noisy ones, 22 MB,
    a file OpenCV / FFmpeg read by scanning, while players that need the index may refuse it).
    ``cv2.VideoWriter`` reports no write errors (a full disk); the CSV beside it does.
    """

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int]):
        self.path = Path(path)
        self.size = (int(size[0]), int(size[1]))  # (width, height)
        self.fps = float(fps) if fps and fps > 0 else DEFAULT_FPS
        self.frames = 0
        self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*TRACKED_FOURCC), self.fps, self.size)
        if not self._writer.isOpened():
            self._writer.release()
            raise OutputError(f"cannot open {self.path} for the tracked video (OpenCV's {TRACKED_FOURCC} .avi "
                              "writer refused it); choose an -o you can write to")

    def write(self, bgr: np.ndarray) -> None:
        """Append one (height, width, 3) uint8 frame."""
        w, h = self.size
        if self._writer is None:
            raise ValueError(f"{self.path}: the tracked video is closed")
        if bgr.shape != (h, w, 3) or bgr.dtype != np.uint8:
            raise ValueError(f"{self.path}: expected a ({h}, {w}, 3) uint8 frame, got {bgr.shape} {bgr.dtype}")
        self._writer.write(bgr)
        self.frames += 1

    def close(self) -> None:
        """Write the AVI index and close (idempotent)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> TrackedVideo:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_tracked_image(path: str | Path, bgr: np.ndarray) -> None:
    """Write one annotated image (OpenFace's FaceLandmarkImg ``<stem>.jpg``); OutputError when it cannot."""
    path = Path(path)
    try:
        ok = cv2.imwrite(str(path), bgr)
    except cv2.error as exc:
        raise OutputError(f"cannot write {path} ({str(exc).strip().splitlines()[-1]}); give a .jpg or .png path "
                          "in a folder you can write to") from None
    if not ok:
        raise OutputError(f"cannot write {path} (OpenCV's imwrite refused it); choose an -o you can write to")
