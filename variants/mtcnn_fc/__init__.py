"""Kernel ``mtcnn_fc``: MTCNN's fully connected layers on flattened features.

Contract: :class:`aubench.pipeline.contracts.MtcnnFc`. Cases: the fully connected
layers of RNet and ONet (real weights) on PReLU-like features, batches of 1 and 30.
"""

from __future__ import annotations

import numpy as np

from aubench.pipeline import contracts, registry


def _cases(rng, models_dir):
    from aubench.pipeline.models.mtcnn_dat import read_mtcnn

    model = read_mtcnn(models_dir)
    for net in (model.rnet, model.onet):
        for i, layer in enumerate(x for x in net.layers if x.kind == "fully_connected"):
            for n in (1, 30):
                x = np.maximum(rng.normal(0, 1, (n, layer.weights.shape[1])), -0.2).astype(np.float32)
                yield registry.Case((x, layer.weights, layer.bias), label=f"{net.name}.fc{i}.n{n}")


_check = registry.array_check(np.float32, atol=1e-5, rtol=1e-5)


registry.kernel("mtcnn_fc", contract=contracts.MtcnnFc,
                summary="MTCNN fully connected layer: weights @ features + bias per sample",
                cases=_cases, check=_check)
registry.variant("mtcnn_fc", "reference", "aubench.variants.mtcnn_fc.reference:fully_connected",
                 "plain NumPy, one sample at a time, float64 sums")
registry.variant("mtcnn_fc", "blas", "aubench.variants.mtcnn_fc.blas:fully_connected", "one float32 GEMM for the batch")
