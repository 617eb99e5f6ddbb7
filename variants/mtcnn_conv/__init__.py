"""Kernel ``mtcnn_conv``: the MTCNN convolution layer (valid cross-correlation + bias).

Contract: :class:`aubench.pipeline.contracts.MtcnnConv`. Cases: every convolution
layer of PNet, RNet and ONet (real weights from ``model/mtcnn_detector/*.dat``) on
image-like inputs (a normalised real frame for the first layers, PReLU-like activations
for the deeper ones), batches of 1 and several, and PNet's per-pixel layer as 1x1 kernels.
"""

from __future__ import annotations

import numpy as np

from aubench.pipeline import contracts, registry


def _image_like(rng, n, h, w):
    """Smooth, normalised image-like maps in [-1, 1] (what the first layer sees)."""
    base = rng.uniform(0, 255, (n, h // 4 + 2, w // 4 + 2, 3)).astype(np.float32)
    import cv2

    imgs = np.stack([cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR) for b in base])
    return ((imgs - 127.5) * 0.0078125).astype(np.float32)


def _cases(rng, models_dir):
    from aubench.pipeline.models.mtcnn_dat import read_mtcnn

    model = read_mtcnn(models_dir)
    sizes = {"PNet": [(1, 37, 29)], "RNet": [(3, 24, 24)], "ONet": [(2, 48, 48)]}
    for net in (model.pnet, model.rnet, model.onet):
        convs = [layer for layer in net.layers if layer.kind == "convolution"]
        for i, layer in enumerate(convs):
            for n, h, w in sizes[net.name]:
                k, c, kh, kw = layer.weights.shape
                if i == 0:
                    maps = _image_like(rng, n, h, w)
                else:
                    hh, ww = max(kh, h // (2 * i)), max(kw, w // (2 * i))
                    maps = np.maximum(rng.normal(0, 1, (n, hh, ww, c)), 0).astype(np.float32)
                yield registry.Case((maps, layer.weights, layer.bias), label=f"{net.name}.conv{i}")
        fcs = [layer for layer in net.layers if layer.kind == "fully_connected"]
        if net.name == "PNet":
            layer = fcs[0]
            maps = rng.normal(0, 1, (1, 9, 7, layer.weights.shape[1])).astype(np.float32)
            yield registry.Case((maps, layer.weights[:, :, None, None], layer.bias), label="PNet.fc_as_1x1")
    yield registry.Case((_image_like(rng, 1, 5, 5), rng.normal(0, 1, (4, 3, 3, 3)).astype(np.float32),
                         np.zeros(4, np.float32)), label="tiny")


_check = registry.array_check(np.float32, atol=1e-5, rtol=1e-5)


registry.kernel("mtcnn_conv", contract=contracts.MtcnnConv,
                summary="MTCNN convolution layer: valid cross-correlation of channel-last maps + bias",
                cases=_cases, check=_check)
registry.variant("mtcnn_conv", "reference", "aubench.variants.mtcnn_conv.reference:convolution",
                 "plain NumPy, one matmul per kernel offset, float64 sums")
registry.variant("mtcnn_conv", "im2col", "aubench.variants.mtcnn_conv.im2col:convolution",
                 "strided im2col of the whole batch and one float32 BLAS GEMM")
