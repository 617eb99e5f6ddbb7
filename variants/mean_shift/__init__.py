"""Kernel ``mean_shift``: KDE mean-shift of landmarks in their response maps on OpenFace's 0.1-cell grid.

Contract: :class:`aubench.pipeline.contracts.MeanShift`
(``LandmarkDetectorModel.cpp::CLNF::NonVectorisedMeanShift_precalc_kde``). The KDE
table is an explicit cache object (:class:`aubench.pipeline.landmarks.kde.KdeCache`).
"""

from __future__ import annotations

import numpy as np

from aubench.pipeline import contracts, registry


def _cases(rng, models_dir):
    from aubench.pipeline.landmarks.kde import build_kde_table

    for window, sigma, n in ((11, 1.5, 68), (9, 1.62135673, 51), (7, 1.75, 68), (3, 1.0, 28), (5, 1.0, 28)):
        responses = (rng.random((n, window, window)) ** 4).astype(np.float32)
        dxs = rng.uniform(-1.0, window + 1.0, n).astype(np.float32)
        dys = rng.uniform(-1.0, window + 1.0, n).astype(np.float32)
        visible = rng.random(n) > 0.2
        kde = build_kde_table(window, -0.5 / (sigma * sigma))
        yield registry.Case((responses, dxs, dys, visible, kde), label=f"w{window}")


_check = registry.array_check(np.float32, atol=1e-4, unit=" cells")


registry.kernel("mean_shift", contract=contracts.MeanShift,
                summary="KDE mean-shift in the response maps (0.1-cell precomputed kernels)",
                cases=_cases, check=_check)
registry.variant("mean_shift", "reference", "aubench.variants.mean_shift.reference:mean_shift",
                 "plain NumPy, one landmark at a time")
registry.variant("mean_shift", "vectorised", "aubench.variants.mean_shift.vectorised:mean_shift",
                 "all landmarks at once with fancy indexing into the KDE table")
registry.variant("mean_shift", "numba", "aubench.variants.mean_shift.numba_kernel:mean_shift",
                 "Numba loop with OpenFace's sequential float32 sums", requires=("numba",))
