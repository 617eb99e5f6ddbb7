"""Kernel ``running_median``: OpenFace's histogram running median of a descriptor (person calibration).

Contract: :class:`aubench.pipeline.contracts.RunningMedian`
(``FaceAnalyser.cpp::FaceAnalyser::UpdateRunningMedian``). The histograms are an explicit
state object (:class:`aubench.pipeline.au.median_state.RunningMedianState`) updated in place.
The registry cases only recompute medians of prefilled histograms (``update=False``), because
the test calls both variants on the same state; sequences with updates are compared in
``tests/variants/test_running_median.py``.
"""

from __future__ import annotations

import numpy as np

from aubench.pipeline import contracts, registry


def _cases(rng, models_dir):
    from aubench.pipeline.au.median_state import geom_median_state, hog_median_state
    from aubench.variants.running_median import reference

    for label, make, scale, frames in (("hog", hog_median_state, 0.1, 40), ("geom", geom_median_state, 15.0, 25),
                                       ("hog1", hog_median_state, 0.1, 1), ("geom0", geom_median_state, 15.0, 0)):
        state = make()
        for _ in range(frames):
            reference.running_median(state, rng.normal(scale, scale, state.rows), True)
        yield registry.Case((state, rng.normal(scale, scale, state.rows), False), label=label)


_check = registry.array_check(np.float64)


registry.kernel("running_median", contract=contracts.RunningMedian,
                summary="histogram running median of a descriptor (person calibration)",
                cases=_cases, check=_check)
registry.variant("running_median", "reference", "aubench.variants.running_median.reference:running_median",
                 "plain NumPy, rescans the cumulative histogram of every row on each call")
registry.variant("running_median", "numba", "aubench.variants.running_median.numba_kernel:running_median",
                 "Numba loop that moves each row's median bin incrementally", requires=("numba",))
