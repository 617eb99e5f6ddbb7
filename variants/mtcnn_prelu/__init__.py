"""Kernel ``mtcnn_prelu``: MTCNN's PReLU (per-channel negative slope).

Contract: :class:`aubench.pipeline.contracts.MtcnnPrelu`. Cases: every PReLU layer of PNet,
RNet and ONet (real slopes) on maps and flat features with both signs, and exact zeros.
"""

from __future__ import annotations

import numpy as np

from aubench.pipeline import contracts, registry


def _cases(rng, models_dir):
    from aubench.pipeline.models.mtcnn_dat import read_mtcnn

    model = read_mtcnn(models_dir)
    for net in (model.pnet, model.rnet, model.onet):
        for i, layer in enumerate(x for x in net.layers if x.kind == "prelu"):
            c = layer.weights.shape[0]
            shape = (2, 11, 9, c) if c < 100 else (5, c)
            maps = rng.normal(0, 2, shape).astype(np.float32)
            maps.reshape(-1)[::7] = 0.0
            yield registry.Case((maps, layer.weights), label=f"{net.name}.prelu{i}")


_check = registry.array_check(np.float32)


registry.kernel("mtcnn_prelu", contract=contracts.MtcnnPrelu,
                summary="MTCNN PReLU: x >= 0 ? x : slope[c] * x on the last axis",
                cases=_cases, check=_check)
registry.variant("mtcnn_prelu", "reference", "aubench.variants.mtcnn_prelu.reference:prelu", "plain NumPy where")
registry.variant("mtcnn_prelu", "numba", "aubench.variants.mtcnn_prelu.numba_kernel:prelu",
                 "one Numba pass, no temporaries", requires=("numba",))
