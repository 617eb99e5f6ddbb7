"""Kernel ``calc_params``: fit PDM parameters to 2D landmarks (``PDM::CalcParams``).

Contract: :class:`aubench.pipeline.contracts.CalcParams` (which is
:func:`aubench.pipeline.landmarks.pdm.calc_params`). The CLNF calls it four times per frame
(each part model's initialisation and the refit of the merged landmarks), each up to
1000 Gauss-Newton iterations, so its Python overhead matters.
"""

from __future__ import annotations

import numpy as np

from aubench.pipeline import contracts, registry


def _cases(rng, models_dir):
    from aubench.pipeline.landmarks import pdm as pdm_ops
    from aubench.pipeline.models.pdm import read_pdm

    main = read_pdm(models_dir / "model" / "pdms" / "In-the-wild_aligned_PDM_68.txt")
    eye = read_pdm(models_dir / "model" / "model_eye" / "pdms" / "pdm_28_l_eye_3D_closed.txt")
    for pdm, hidden, label in ((main, 0, "main"), (eye, 22, "eye_6_visible")):
        for k in range(2):
            g = np.array([1.2 + 0.3 * rng.random(), 0.1 * rng.normal(), 0.2 * rng.normal(), 0.1 * rng.normal(),
                          200 + 50 * rng.random(), 250 + 30 * rng.random()], np.float32)
            loc = (rng.normal(size=pdm.n_modes) * np.sqrt(pdm.eigen_values) * 0.5).astype(np.float32)
            lm = pdm_ops.calc_shape_2d(pdm, g, loc) + rng.normal(scale=0.5, size=(pdm.n_points, 2)).astype(np.float32)
            if hidden:
                lm[rng.choice(pdm.n_points, hidden, replace=False)] = 0  # x == 0 marks a point as missing
            yield registry.Case((pdm, lm.astype(np.float32)), label=f"{label}{k}")


def _check(expected, actual, case):
    from aubench.pipeline.landmarks import pdm as pdm_ops

    pdm = case.args[0]
    err = float(np.abs(pdm_ops.calc_shape_2d(pdm, *actual) - pdm_ops.calc_shape_2d(pdm, *expected)).max())
    assert err <= 0.02, f"{case.label}: fitted landmarks differ by {err:.3g} px > 0.02"


registry.kernel("calc_params", contract=contracts.CalcParams,
                summary="PDM parameters from 2D landmarks (damped Gauss-Newton, PDM::CalcParams)",
                cases=_cases, check=_check)
registry.variant("calc_params", "reference", "aubench.variants.calc_params.reference:calc_params",
                 "aubench.pipeline.landmarks.pdm.calc_params (NumPy, OpenCV solve/Rodrigues as the C++)")
registry.variant("calc_params", "numba", "aubench.variants.calc_params.numba_kernel:calc_params",
                 "whole iteration compiled, products and solve in double", requires=("numba",))
