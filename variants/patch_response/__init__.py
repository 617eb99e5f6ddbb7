"""Kernel ``patch_response``: CCNF patch-expert response maps of a set of landmarks.

Contract: :class:`aubench.pipeline.contracts.PatchResponse`
(``CCNF_patch_expert.cpp::CCNF_patch_expert::ResponseOpenBlas``).
"""

from __future__ import annotations

import numpy as np

from aubench.pipeline import contracts, registry


def _cases(rng, models_dir):
    from aubench.pipeline.landmarks.patch_experts import SigmaCache
    from aubench.pipeline.models.ccnf import read_ccnf_scale

    experts = read_ccnf_scale(models_dir / "model" / "patch_experts" / "ccnf_patches_0.25_general.txt")
    cache = SigmaCache()
    for view, window, n in ((0, 11, 5), (3, 9, 4), (1, 7, 6)):
        visible = np.flatnonzero(experts.visibilities[view])[:n]
        wm, al = cache.weights(0, experts, view)
        sig = cache.sigmas(0, experts, view, window)
        area = window + 10
        areas = (rng.random((n, area, area)) * 255).astype(np.float32)
        areas[0, :5] = 0  # a flat region (norm 0 windows) on the first landmark
        yield registry.Case((areas, wm[visible], al[visible], sig[visible]), label=f"view{view}_w{window}")


_check = registry.array_check(np.float32, atol=2e-5, rtol=1e-4)  # Sigma products cancel: absolute floor


registry.kernel("patch_response", contract=contracts.PatchResponse,
                summary="CCNF patch-expert response maps (im2col, neurons, Sigma)",
                cases=_cases, check=_check)
registry.variant("patch_response", "reference", "aubench.variants.patch_response.reference:patch_response",
                 "plain NumPy, one landmark and one window position at a time")
registry.variant("patch_response", "batched", "aubench.variants.patch_response.batched:patch_response",
                 "all landmarks at once: strided im2col, one batched matmul for all neurons, batched Sigma")
registry.variant("patch_response", "numba", "aubench.variants.patch_response.numba_kernel:patch_response",
                 "Numba-compiled im2col and sigmoid sum per landmark, BLAS matmuls", requires=("numba",))
registry.variant("patch_response", "numba_f32", "aubench.variants.patch_response.numba_kernel:patch_response_f32",
                 "as numba, with the im2col matrix and its product in float32 (OpenFace's sgemm precision)",
                 requires=("numba",))
