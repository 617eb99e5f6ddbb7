"""Kernel ``warp_areas``: the areas of interest around landmarks (``cv::warpAffine`` in ``Patch_experts::Response``).

Contract: :class:`aubench.pipeline.contracts.WarpAreas`.
"""

from __future__ import annotations

import numpy as np

from aubench.pipeline import contracts, registry


def _cases(rng, models_dir):
    import cv2

    image = (rng.random((120, 160)) * 255).astype(np.float32)
    # grey levels, as the pipeline's frames are (uint8 BGR2GRAY as float32): with OpenCV's 1/1024-grid
    # weights every bilinear sum is then exact, so any summation order gives the same bits. On fractional
    # values OpenCV 4.14 sums in another order than 4.6-4.13 (up to 2 ulp; experiments/RESULTS.md, section 001).
    image = np.rint(cv2.GaussianBlur(image, (5, 5), 1.5))
    for k, area, rotated in ((12, 21, False), (20, 19, True), (8, 13, True)):
        a1 = float(np.float32(rng.uniform(0.8, 6.0)))
        b1 = float(np.float32(rng.uniform(-0.8, 0.8))) if rotated else 0.0
        # some maps straddle or leave the image: the constant border is part of the contract
        tx = rng.uniform(-40, 200, k).astype(np.float32).astype(np.float64)
        ty = rng.uniform(-40, 160, k).astype(np.float32).astype(np.float64)
        yield registry.Case((image, tx, ty, a1, b1, area), label=f"k{k}_A{area}")


_check = registry.array_check(np.float32)


registry.kernel("warp_areas", contract=contracts.WarpAreas,
                summary="areas of interest around landmarks (OpenCV warpAffine, bilinear, fixed point)",
                cases=_cases, check=_check)
registry.variant("warp_areas", "reference", "aubench.variants.warp_areas.reference:warp_areas",
                 "one cv2.warpAffine call per landmark")
registry.variant("warp_areas", "numba", "aubench.variants.warp_areas.numba_kernel:warp_areas",
                 "OpenCV's fixed-point bilinear warp re-implemented, all landmarks in one compiled call",
                 requires=("numba",))
