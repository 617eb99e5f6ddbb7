"""Offline AU post-processing of a whole video (``FaceAnalyser::ExtractAllPredictionsOfflineReg``,
``ExtractAllPredictionsOfflineClass``, the values ``FaceAnalyser::PostprocessOutputFile`` writes).

Input: every frame's AU predictions after ``PostprocessPredictions`` (the first
``max_init_frames`` successful frames re-predicted with the final running medians, see
:meth:`aubench.pipeline.au.analyser.FaceAnalyser.postprocess`) and the success flags.

* Intensity (every ``_r`` AU): with dynamic models, the AU's value at the ``cutoff``
  share of its sorted successful-frame values is subtracted (dynamic SVR AUs with a
  cutoff only; an offset of 0 otherwise); then clipped to [0, 5] on successful frames and
  set to 0 on failed ones; then a centred 3-frame mean (first and last frame unchanged).
* Occurrence (every ``_c`` AU): a centred 7-frame mean, thresholded at 0.5 (the first and
  last 3 frames unchanged).

OpenFace writes the result with 2 decimals (:func:`format_au`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

INTENSITY_WINDOW = 3
OCCURRENCE_WINDOW = 7


def intensity_offset(values: np.ndarray, successes: np.ndarray, cutoff: float) -> float:
    """The person-specific neutral level of one dynamic AU: the value at share ``cutoff``
    of its sorted successful-frame predictions (0 when ``cutoff`` is -1 or no frame succeeded)."""
    good = np.sort(values[successes])
    if good.size == 0 or cutoff == -1:
        return 0.0
    return float(good[int(float(good.size) * cutoff)])


def _moving_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving mean summed left to right as C++; the ends keep their values."""
    half = (window - 1) // 2
    out = values.copy()
    n = values.shape[0]
    if n <= 2 * half:
        return out
    total = np.zeros(n - 2 * half)
    for w in range(window):
        total = total + values[w:n - 2 * half + w]
    out[half:n - half] = total / window
    return out


def offline_intensity(values: Mapping[str, Sequence[float]], successes: Sequence[bool],
                      cutoffs: Mapping[str, float], dynamic: bool = True) -> dict[str, np.ndarray]:
    """``ExtractAllPredictionsOfflineReg`` for every intensity AU.

    Parameters
    ----------
    values : {"AU01": (T,) predictions}; failed frames hold 0.
    successes : (T,) bool.
    cutoffs : {"AU01": cutoff}; -1 or missing = no offset (static models).
    dynamic : False for static models (no offsets at all).
    """
    successes = np.asarray(successes, dtype=bool)
    out = {}
    for name, raw in values.items():
        raw = np.asarray(raw, dtype=np.float64)
        offset = intensity_offset(raw, successes, cutoffs.get(name, -1.0)) if dynamic else 0.0
        corrected = np.where(successes, np.clip(raw - offset, 0.0, 5.0), 0.0)
        out[name] = _moving_mean(corrected, INTENSITY_WINDOW)
    return out


def offline_occurrence(values: Mapping[str, Sequence[float]]) -> dict[str, np.ndarray]:
    """``ExtractAllPredictionsOfflineClass`` for every occurrence AU (7-frame vote)."""
    out = {}
    for name, raw in values.items():
        raw = np.asarray(raw, dtype=np.float64)
        smoothed = _moving_mean(raw, OCCURRENCE_WINDOW)
        half, n = (OCCURRENCE_WINDOW - 1) // 2, raw.shape[0]
        if n > 2 * half:
            smoothed[half:n - half] = np.where(smoothed[half:n - half] < 0.5, 0.0, 1.0)
        out[name] = smoothed
    return out


def format_au(value: float) -> str:
    """A post-processed AU value as OpenFace rewrites it (fixed, 2 decimals)."""
    return f"{value:.2f}"
