"""Kernel ``align_shapes``: the similarity (scale-rotation) between two shapes (``AlignShapesWithScale``).

Contract: :class:`aubench.pipeline.contracts.AlignShapes`. The CLNF calls it once per
scale to map image and reference frames, the AU aligner once per frame: ~9 calls per
tracked frame, each a few dozen small NumPy operations around a 2x2 SVD.
"""

from __future__ import annotations

import numpy as np

from aubench.pipeline import contracts, registry


def _cases(rng, models_dir):
    from aubench.pipeline.landmarks import pdm as pdm_ops
    from aubench.pipeline.models.pdm import read_pdm

    pdm = read_pdm(models_dir / "model" / "pdms" / "In-the-wild_aligned_PDM_68.txt")
    for k in range(4):
        loc = (rng.normal(size=pdm.n_modes) * np.sqrt(pdm.eigen_values) * 0.5).astype(np.float32)
        g = np.array([0.8 + 2 * rng.random(), 0.3 * rng.normal(), 0.5 * rng.normal(), 0.4 * rng.normal(),
                      100 + 500 * rng.random(), 100 + 400 * rng.random()], np.float32)
        image = pdm_ops.calc_shape_2d(pdm, g, loc)
        reference = pdm_ops.calc_shape_2d(pdm, np.array([0.25 * (k + 1), 0, 0, 0, 0, 0], np.float32), loc)
        yield registry.Case((image, reference), label=f"pdm68_{k}")
    for n in (5, 28, 51):  # eye and inner-face sizes, and one below NumPy's 8-way unrolling
        src = (rng.normal(size=(n, 2)) * 40 + 300).astype(np.float32)
        yield registry.Case((src, (src[:, ::-1] * np.float32(0.5)).copy()), label=f"random{n}_reflected")


_check = registry.array_check(np.float32)


registry.kernel("align_shapes", contract=contracts.AlignShapes,
                summary="scale-rotation between two shapes (Kabsch with scale, OpenCV SVD)",
                cases=_cases, check=_check)
registry.variant("align_shapes", "reference", "aubench.variants.align_shapes.reference:align_shapes",
                 "NumPy reductions and products around cv2.SVDecomp")
registry.variant("align_shapes", "numba", "aubench.variants.align_shapes.numba_kernel:align_shapes",
                 "the same arithmetic compiled in two halves around cv2.SVDecomp", requires=("numba",))
