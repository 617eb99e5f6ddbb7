"""Every mean_shift variant against the C++ NU-RLMS trace (iter_dxdy -> iter_meanshift_ref)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.pipeline import registry
from aubench.pipeline.landmarks.kde import KdeCache, build_kde_table

from ..conftest import TRACE

KERNEL = registry.kernels()["mean_shift"]
AVAILABLE = [name for name, v in KERNEL.variants.items() if v.unavailable_reason() is None]
SCALES = [
    "frame0001/detect/hyp00/main/scale0",
    "frame0001/detect/hyp03/main/scale2",
    "frame0001/detect/hyp00/inner/scale0",
    "frame0001/detect/hyp00/left_eye_28/scale0",
    "frame0002/track/main/scale1",
]


def _info(path):
    return dict(t.split("=", 1) for t in path.read_text().split() if "=" in t)


@pytest.mark.parametrize("variant", AVAILABLE)
@pytest.mark.parametrize("scale_dir", SCALES)
def test_trace(variant, scale_dir):
    fn = KERNEL.variants[variant].load()
    d = TRACE / "clnf" / scale_dir
    responses = np.load(d / "responses.npy")
    visible = np.load(d / "visibilities.npy")[0] != 0
    cache = KdeCache()
    for step in ("rigid", "nonrigid"):
        a = float(_info(d / step / "info.txt")["a"])
        dxdy = np.load(d / step / "iter_dxdy.npy")
        expected = np.load(d / step / "iter_meanshift_ref.npy")
        for it in range(len(dxdy)):
            out = fn(responses, dxdy[it, :, 0], dxdy[it, :, 1], visible, cache.get(responses.shape[1], a))
            np.testing.assert_allclose(out, expected[it], atol=2e-5, rtol=0)


def test_kde_table_layout():
    kde = build_kde_table(11, -0.5 / 1.5**2)
    assert kde.steps == 110 and kde.table.shape == (110 * 110, 121)
    # row gx*steps+gy is the kernel centred on (dx, dy) = (0.1 gx, 0.1 gy) over cells [row=i, col=j]
    gx, gy = 37, 82
    k = kde.table[gx * kde.steps + gy].reshape(11, 11)
    i, j = 4, 9
    expected = np.exp(np.float32(-0.5 / 1.5**2) * ((np.float32(gy * 0.1) - i) ** 2 + (np.float32(gx * 0.1) - j) ** 2))
    np.testing.assert_allclose(k[i, j], expected, rtol=1e-6)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), window=st.sampled_from([3, 5, 7, 9, 11]))
def test_shift_points_towards_a_single_peak(seed, window):
    rng = np.random.default_rng(seed)
    n = 4
    responses = np.zeros((n, window, window), np.float32)
    peaks = rng.integers(0, window, size=(n, 2))
    for i, (py, px) in enumerate(peaks):
        responses[i, py, px] = 1.0
    dx = rng.uniform(0, window - 1, n).astype(np.float32)
    dy = rng.uniform(0, window - 1, n).astype(np.float32)
    kde = KdeCache().get(window, -0.5 / 1.75**2)
    for name in AVAILABLE:
        out = KERNEL.variants[name].load()(responses, dx, dy, np.ones(n, bool), kde)
        # one non-zero cell: the mean is that cell, whatever the kernel
        np.testing.assert_allclose(out[:, 0], peaks[:, 1] - dx, atol=1e-5)
        np.testing.assert_allclose(out[:, 1], peaks[:, 0] - dy, atol=1e-5)
