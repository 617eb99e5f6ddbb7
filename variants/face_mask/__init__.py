"""Kernel ``face_mask``: the triangulated-face pixel mask of the aligned face.

Contract: :class:`aubench.pipeline.contracts.FaceMask` (the pixel mask of
``PAW.cpp::PAW::PAW(shape, triangulation, 0, 0, w - 1, h - 1)`` as
``Face_utils.cpp::AlignFaceMask`` builds it). Cases: the 111-triangle face mesh of
``AU_predictors/tris_68_full.txt`` on the PDM mean shape placed as the alignment places it,
jittered, rotated and partly outside the image; random meshes with thin and degenerate
triangles.
"""

from __future__ import annotations

import numpy as np

from aubench.pipeline import contracts, registry


def _cases(rng, models_dir):
    from aubench.pipeline.models.pdm import read_pdm
    from aubench.pipeline.models.triangulation import read_triangulation

    pdm = read_pdm(models_dir / "AU_predictors" / "In-the-wild_aligned_PDM_68.txt")
    tris = read_triangulation(models_dir / "AU_predictors" / "tris_68_full.txt")
    n = pdm.n_points
    mean = np.stack([pdm.mean_shape[:n], pdm.mean_shape[n:2 * n]], axis=1)
    for label, scale, size, jitter, angle, shift in (
        ("aligned112", 0.7, 112, 1.5, 0.0, 0.0), ("rotated112", 0.7, 112, 3.0, 0.3, 0.0),
        ("big224", 1.4, 224, 2.0, -0.1, 0.0), ("offside112", 0.7, 112, 1.0, 0.0, 40.0),
    ):
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        pts = scale * mean @ rot.T + size // 2 + shift + rng.normal(0, jitter, mean.shape)
        pts[[0, 16] + list(range(17, 27)), 1] -= 30 / 0.7 * scale
        yield registry.Case((pts.astype(np.float32), tris, size, size), label=label)
    # random meshes: thin triangles, repeated and collinear vertices, integer (on-pixel) vertices
    pts = rng.uniform(-10, 70, (20, 2)).astype(np.float32)
    pts[5] = pts[4]
    pts[6] = (pts[7] + pts[8]) / 2
    pts[10:] = np.round(pts[10:])
    yield registry.Case((pts, rng.integers(0, 20, (60, 3)).astype(np.int32), 64, 48), label="random")


_check = registry.array_check(np.uint8)


registry.kernel("face_mask", contract=contracts.FaceMask,
                summary="pixel mask of a triangulated face (PAW) for the aligned-face mask",
                cases=_cases, check=_check)
registry.variant("face_mask", "reference", "aubench.variants.face_mask.reference:face_mask",
                 "plain NumPy, one triangle's bounding box at a time")
registry.variant("face_mask", "numba", "aubench.variants.face_mask.numba_kernel:face_mask",
                 "Numba loops over each triangle's bounding box, skipping pixels already inside",
                 requires=("numba",))
