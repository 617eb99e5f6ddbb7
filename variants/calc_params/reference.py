"""The reference ``calc_params`` is the PDM module's own implementation."""

from __future__ import annotations

from aubench.pipeline.landmarks import pdm as pdm_ops


def calc_params(pdm, landmarks, rotation=(0.0, 0.0, 0.0)):
    """Delegates to :func:`aubench.pipeline.landmarks.pdm.calc_params`, the faithful NumPy version with
    OpenCV's solve and Rodrigues (contract: :class:`aubench.pipeline.contracts.CalcParams`).
    """
    return pdm_ops.calc_params(pdm, landmarks, rotation)
