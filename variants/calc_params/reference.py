"""The contract of ``calc_params`` is the PDM module's own implementation."""

from __future__ import annotations

from aubench.pipeline.landmarks import pdm as pdm_ops


def calc_params(pdm, landmarks, rotation=(0.0, 0.0, 0.0)):
    """``PDM.cpp::PDM::CalcParams(params_global, params_local, landmarks, rotation)``.

    Parameters
    ----------
    pdm : :class:`aubench.pipeline.models.pdm.PDMModel` (n points, m modes).
    landmarks : (n, 2) float32 image points; a point with x == 0 is missing and left out.
    rotation : (3,) initial Euler angles (radians).

    Returns
    -------
    (params_global (6,) float32, params_local (m,) float32).

    Notes
    -----
    Delegates to :func:`aubench.pipeline.landmarks.pdm.calc_params` (the faithful NumPy version).
    Fast variants agree on the fitted landmarks to 0.02 px: the loop's stopping rule
    compares errors, so ulp-level differences can stop it one iteration apart.
    """
    return pdm_ops.calc_params(pdm, landmarks, rotation)
