"""The geometry descriptor of the AU models (``FaceAnalyser::AddNextFrame``, geometry part).

OpenFace fits its own PDM (``AU_predictors/In-the-wild_aligned_PDM_68.txt``) to the
tracked 2D landmarks with ``PDM::CalcParams`` and describes the face shape by the
non-rigid parameters ``p`` (34) preceded by their 3D shape offsets
``princ_comp @ p`` (204 = 68 X, then 68 Y, then 68 Z, mm, without the mean shape):
238 values, computed in double from the float32 model and parameters. A frame without
a face has an all-zero descriptor.
"""

from __future__ import annotations

import numpy as np

from aubench.pipeline.landmarks.pdm import calc_params
from aubench.pipeline.models.pdm import PDMModel


def geometry_descriptor(pdm: PDMModel, params_local: np.ndarray) -> np.ndarray:
    """``[princ_comp @ p, p]`` as a (3n + m,) float64 vector (OpenFace casts both to double first)."""
    p = np.asarray(params_local, dtype=np.float32).astype(np.float64).reshape(-1)
    locs = pdm.princ_comp.astype(np.float64) @ p
    return np.concatenate([locs, p])


def empty_geometry_descriptor(pdm: PDMModel) -> np.ndarray:
    """The descriptor OpenFace uses for a frame where tracking failed (all zeros)."""
    return np.zeros(3 * pdm.n_points + pdm.n_modes, dtype=np.float64)


def fit_geometry(pdm: PDMModel, landmarks: np.ndarray, fit=calc_params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit the analyser's PDM to (68, 2) landmarks and build the descriptor.

    ``fit`` is the ``calc_params`` kernel in use (default: the reference
    :func:`aubench.pipeline.landmarks.pdm.calc_params`). Returns ``(params_global (6,) float32,
    params_local (m,) float32, descriptor (3n + m,) float64)``; ``params_global`` drives the
    face alignment and the view selection.
    """
    params_global, params_local = fit(pdm, np.asarray(landmarks, dtype=np.float32))
    return params_global, params_local, geometry_descriptor(pdm, params_local)
