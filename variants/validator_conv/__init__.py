"""Kernel ``validator_conv``: a convolution layer of OpenFace's CNN detection validator.

Contract: :class:`aubench.pipeline.contracts.ValidatorConv` (``convolution_direct_blas``).
Cases: both convolution layers of several views of ``model/detection_validation/validator_cnn.txt``
(real weights) on inputs like the ones they see: a normalised warped face (60x60, zeros
outside the face mask) for the first layer, rectified and pooled maps for the second.
"""

from __future__ import annotations

import numpy as np

from aubench.pipeline import contracts, registry


def _cases(rng, models_dir):
    from aubench.pipeline.landmarks.validator import prepare_layers
    from aubench.pipeline.models.clnf_model import read_main_model
    from aubench.pipeline.models.validator import read_validator

    spec = read_main_model(models_dir / "model" / "main_clnf_general.txt")
    model = read_validator(spec.validator)
    for view_id in (0, 3, len(model.views) - 1):
        view = model.views[view_id]
        convs = [layer for layer in prepare_layers(view) if layer[0] == "convolution"]
        mask = view.paw.pixel_mask != 0
        maps = (rng.normal(0, 1, mask.shape) * mask).astype(np.float32)[None]
        for i, (_, w_mat, kh, kw) in enumerate(convs):
            n_in = (w_mat.shape[0] - 1) // (kh * kw)
            if i > 0:  # what the later layers see: rectified, pooled activations
                size = max(kh + 3, maps.shape[1] // 2 - 6)
                maps = np.maximum(rng.normal(0, 2, (n_in, size, size)), 0).astype(np.float32)
            yield registry.Case((maps, w_mat, kh, kw), label=f"view{view_id}.conv{i}")
    yield registry.Case((rng.normal(0, 1, (2, 5, 6)).astype(np.float32),
                         rng.normal(0, 1, (2 * 3 * 2 + 1, 4)).astype(np.float32), 2, 3), label="tiny_nonsquare")


_check = registry.array_check(np.float32, atol=2e-5, rtol=2e-5)


registry.kernel("validator_conv", contract=contracts.ValidatorConv,
                summary="CNN detection validator convolution layer (valid, summed over maps, + bias)",
                cases=_cases, check=_check)
registry.variant("validator_conv", "reference", "aubench.variants.validator_conv.reference:convolution",
                 "transposed im2col (one contiguous block per tap) and one float32 BLAS GEMM, as the C++'s sgemm")
registry.variant("validator_conv", "numba", "aubench.variants.validator_conv.numba_kernel:convolution",
                 "Numba shifted accumulation: each tap into the whole map, vectorised along x, no im2col copy "
                 "(not faster here: 1.31x the reference's time in the kernel benchmark, so no preset uses it)",
                 requires=("numba",))
