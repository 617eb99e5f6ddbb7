"""Kernel ``nu_rlms``: the update loop of one NU-RLMS call (``CLNF::NU_RLMS``).

Contract: :class:`aubench.pipeline.contracts.NuRlms`. The loop is the CLNF fit's
inner cost (14 calls of up to 5 updates per tracked frame), so its Python overhead
is what a compiled variant removes.
"""

from __future__ import annotations

import numpy as np

from aubench.pipeline import contracts, registry


def _cases(rng, models_dir):
    from aubench.pipeline.landmarks import patch_experts as pe
    from aubench.pipeline.landmarks import pdm as pdm_ops
    from aubench.pipeline.landmarks.kde import build_kde_table
    from aubench.pipeline.models.pdm import read_pdm
    from aubench.variants.align_shapes.reference import align_shapes
    from aubench.variants.mean_shift.reference import mean_shift

    pdm = read_pdm(models_dir / "model" / "pdms" / "In-the-wild_aligned_PDM_68.txt")
    n, m = pdm.n_points, pdm.n_modes
    for rigid, window, sigma, reg, weighted, hide in ((True, 9, 1.62, 0.0, False, 0), (False, 9, 1.62, 17.7, False, 0),
                                                      (False, 7, 1.75, 10.0, True, 20), (True, 11, 1.5, 0.0, True, 33)):
        g = np.array([1.3, 0.02, 0.03 + 0.1 * rng.random(), -0.01, 240, 260], np.float32)
        loc = (rng.normal(size=m) * np.sqrt(pdm.eigen_values) * 0.3).astype(np.float32)
        base = pdm_ops.calc_shape_2d(pdm, g, loc)
        ref = pdm_ops.calc_shape_2d(pdm, np.array([0.35, 0, 0, 0, 0, 0], np.float32), loc)
        r2i, i2r = pe.similarity_transforms(base, ref, align_shapes)
        # smooth single-peaked maps near the centre, as real responses are
        yy, xx = np.mgrid[0:window, 0:window]
        peaks = rng.uniform(window / 2 - 2, window / 2 + 2, size=(n, 2))
        responses = np.exp(-((xx[None] - peaks[:, 0, None, None]) ** 2 + (yy[None] - peaks[:, 1, None, None]) ** 2)
                           / 4.0).astype(np.float32)
        visible = np.ones(n, bool)
        visible[:hide] = False
        weights = (rng.uniform(0.5, 2.0, 2 * n) if weighted else np.ones(2 * n)).astype(np.float32)
        reg_diag = np.zeros(6 if rigid else 6 + m, np.float32)
        if not rigid:
            reg_diag[6:] = (reg / pdm.eigen_values.astype(np.float64)).astype(np.float32)
        kde = build_kde_table(window, -0.5 / sigma**2)
        yield registry.Case((pdm, responses, base, i2r, r2i, visible, weights, reg_diag, kde, g, loc, rigid, 5, 0.01,
                             mean_shift), label=f"{'rigid' if rigid else 'nonrigid'}_w{window}")


def _check(expected, actual, case):
    g_e, l_e, u_e, c_e, _, _ = expected
    g_a, l_a, u_a, c_a, _, _ = actual
    assert u_e == u_a and c_e == c_a, f"{case.label}: updates {u_a} (converged {c_a}), expected {u_e} ({c_e})"
    from aubench.pipeline.landmarks import pdm as pdm_ops

    pdm = case.args[0]
    err = float(np.abs(pdm_ops.calc_shape_2d(pdm, g_a, l_a) - pdm_ops.calc_shape_2d(pdm, g_e, l_e)).max())
    # float-level differences can move a landmark across a 0.1-cell KDE grid boundary,
    # which shifts later updates by a fraction of a pixel: bound that, not ulps
    assert err <= 0.25, f"{case.label}: landmarks differ by {err:.3g} px > 0.25"


registry.kernel("nu_rlms", contract=contracts.NuRlms,
                summary="NU-RLMS update loop (mean-shift, Gauss-Newton step, parameter update)",
                cases=_cases, check=_check)
registry.variant("nu_rlms", "reference", "aubench.variants.nu_rlms.reference:nu_rlms",
                 "plain NumPy loop over the PDM operations and the mean_shift kernel")
registry.variant("nu_rlms", "numba", "aubench.variants.nu_rlms.numba_kernel:nu_rlms",
                 "whole loop compiled, mean-shift fused, normal equations in double", requires=("numba",))
