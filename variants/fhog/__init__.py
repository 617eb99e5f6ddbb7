"""Kernel ``fhog``: dlib's Felzenszwalb HOG of the aligned face (31 features per 8x8 cell).

Contract: :class:`aubench.pipeline.contracts.Fhog`
(``dlib/image_transforms/fhog.h::extract_fhog_features`` as called by
``Face_utils.cpp::Extract_FHOG_descriptor``). Cases: random colour and grey images of
several sizes (112x112 and odd ones), images with many equal-gradient colour channels
(dlib's tie rules), a flat image, and the three traced aligned faces of default.wmv when
the C++ reference sits beside the models.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aubench.pipeline import contracts, registry

TOLERANCE = 1e-5  # max abs difference to the reference (float32 rounding order only)


def _trace_inputs(models_dir: Path):
    folder = Path(models_dir).parent / "reference" / "trace" / "fhog"
    return sorted(folder.glob("frame*_input.npy")) if folder.is_dir() else []


def _cases(rng, models_dir):
    for shape in ((112, 112, 3), (112, 112), (97, 131, 3), (57, 40, 3), (200, 150, 3), (24, 30, 3)):
        yield registry.Case((rng.integers(0, 256, shape, dtype=np.uint8),), label=f"random{shape}")
    # few grey levels per channel: many colour channels tie on the gradient norm
    levels = (rng.integers(0, 4, (112, 112, 3)) * 60).astype(np.uint8)
    yield registry.Case((levels,), label="ties(112,112,3)")
    yield registry.Case((np.full((112, 112, 3), 77, np.uint8),), label="flat")
    yield registry.Case((rng.integers(0, 256, (90, 90, 3), dtype=np.uint8),), {"cell_size": 6}, label="cell6")
    for path in _trace_inputs(models_dir):
        yield registry.Case((np.load(path),), label=path.name)


_check = registry.array_check(np.float32, atol=TOLERANCE)


registry.kernel("fhog", contract=contracts.Fhog,
                summary="dlib FHOG (extract_fhog_features) of an image: (rows, cols, 31) float32",
                cases=_cases, check=_check)
registry.variant("fhog", "reference", "aubench.variants.fhog.reference:fhog",
                 "plain NumPy, stage by stage; votes accumulated with np.add.at in dlib's order")
registry.variant("fhog", "vectorised", "aubench.variants.fhog.vectorised:fhog",
                 "NumPy with an orientation lookup table and np.bincount (float64) vote sums; ~1e-7 from dlib")
registry.variant("fhog", "numba", "aubench.variants.fhog.numba_kernel:fhog",
                 "Numba loops over pixels in dlib's order and float32 arithmetic; bit-exact", requires=("numba",))
registry.variant("fhog", "numba_tables", "aubench.variants.fhog.numba_tables:fhog",
                 "Numba loops with the orientation bin looked up by (gx, gy) and weights per row/column; bit-exact",
                 requires=("numba",))
