"""What one tracked face yields for one frame: the row of an OpenFace CSV.

Stages fill a :class:`FaceRecord`; :mod:`aubench.pipeline.io.csv_out` writes it with
OpenFace's column names, order and number formatting. Arrays that a stage did
not compute stay zero, as C++ OpenFace writes zeros for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# AU names in the order OpenFace writes them (RecorderCSV: sorted by AU number).
AU_INTENSITY = ("AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU12",
                "AU14", "AU15", "AU17", "AU20", "AU23", "AU25", "AU26", "AU45")
AU_OCCURRENCE = ("AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU12",
                 "AU14", "AU15", "AU17", "AU20", "AU23", "AU25", "AU26", "AU28", "AU45")


def _zeros(*shape: int):
    return field(default_factory=lambda: np.zeros(shape, dtype=np.float64))


@dataclass
class FaceRecord:
    """One face in one frame (1-based ``frame``, as the CSV)."""

    frame: int
    face_id: int = 0
    timestamp: float = 0.0
    confidence: float = 0.0
    success: bool = False
    gaze_0: np.ndarray = _zeros(3)            # left eye unit gaze vector, camera coords
    gaze_1: np.ndarray = _zeros(3)            # right eye
    gaze_angle: np.ndarray = _zeros(2)        # rad (x, y)
    eye_landmarks_2d: np.ndarray = _zeros(56, 2)   # px
    eye_landmarks_3d: np.ndarray = _zeros(56, 3)   # mm
    pose: np.ndarray = _zeros(6)              # Tx, Ty, Tz (mm), Rx, Ry, Rz (rad)
    landmarks_2d: np.ndarray = _zeros(68, 2)  # px
    landmarks_3d: np.ndarray = _zeros(68, 3)  # mm
    params_global: np.ndarray = _zeros(6)     # scale, rx, ry, rz, tx, ty
    params_local: np.ndarray = _zeros(34)
    au_intensity: dict[str, float] = field(default_factory=dict)   # "AU01" -> value
    au_occurrence: dict[str, float] = field(default_factory=dict)  # "AU01" -> 0/1
