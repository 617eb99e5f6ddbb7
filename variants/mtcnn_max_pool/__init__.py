"""Kernel ``mtcnn_max_pool``: MTCNN max-pooling (OpenFace's rounded output size, clipped windows).

Contract: :class:`aubench.pipeline.contracts.MtcnnMaxPool`. Cases: the pooling layers of
PNet, RNet and ONet on the map sizes the detector gives them (even and odd, so the edge
windows are partial) and a kernel smaller than its stride.
"""

from __future__ import annotations

import numpy as np

from aubench.pipeline import contracts, registry


def _cases(rng, models_dir):
    from aubench.pipeline.models.mtcnn_dat import read_mtcnn

    model = read_mtcnn(models_dir)
    sizes = {"PNet": [(1, 94, 126), (1, 11, 13)], "RNet": [(4, 22, 22), (4, 9, 9)], "ONet": [(2, 46, 46), (2, 19, 19), (2, 8, 8)]}
    for net in (model.pnet, model.rnet, model.onet):
        for i, layer in enumerate(x for x in net.layers if x.kind == "max_pooling"):
            n, h, w = sizes[net.name][min(i, len(sizes[net.name]) - 1)]
            maps = rng.normal(0, 1, (n, h, w, 8)).astype(np.float32)
            yield registry.Case((maps, layer.kernel, layer.stride), label=f"{net.name}.pool{i}")
    yield registry.Case((rng.normal(0, 1, (1, 7, 6, 3)).astype(np.float32), (1, 1), (2, 2)), label="kernel<stride")
    yield registry.Case((rng.normal(0, 1, (1, 2, 2, 3)).astype(np.float32), (3, 3), (2, 2)), label="map<kernel")


_check = registry.array_check(np.float32)


registry.kernel("mtcnn_max_pool", contract=contracts.MtcnnMaxPool,
                summary="MTCNN max-pooling with OpenFace's rounded output size",
                cases=_cases, check=_check)
registry.variant("mtcnn_max_pool", "reference", "aubench.variants.mtcnn_max_pool.reference:max_pool",
                 "plain NumPy, one output cell at a time over the batch and channels")
registry.variant("mtcnn_max_pool", "numba", "aubench.variants.mtcnn_max_pool.numba_kernel:max_pool",
                 "compiled loops over cells and channels", requires=("numba",))
