"""Every patch_response variant against the C++ patch-unit trace and against the reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.pipeline import registry
from aubench.pipeline.landmarks.patch_experts import SigmaCache
from aubench.pipeline.models.ccnf import read_ccnf_scale

from ..conftest import MODELS, TRACE

KERNEL = registry.kernels()["patch_response"]
AVAILABLE = [name for name, v in KERNEL.variants.items() if v.unavailable_reason() is None]


@pytest.fixture(scope="module")
def experts():
    scale = read_ccnf_scale(MODELS / "model" / "patch_experts" / "ccnf_patches_0.25_general.txt")
    cache = SigmaCache()
    wm, al = cache.weights(0, scale, 0)
    return wm, al, cache.sigmas(0, scale, 0, 11)


@pytest.mark.parametrize("variant", AVAILABLE)
def test_patch_unit_cases(experts, variant):
    fn = KERNEL.variants[variant].load()
    wm, al, sig = experts
    lms = [0, 30, 48]
    areas = np.stack([np.load(TRACE / "patch_unit" / f"lm{lm:02d}" / "area_of_interest.npy") for lm in lms])
    expected = np.stack([np.load(TRACE / "patch_unit" / f"lm{lm:02d}" / "response.npy") for lm in lms])
    out = fn(areas, wm[lms], al[lms], sig[lms])
    assert out.dtype == np.float32 and out.shape == (3, 11, 11)
    np.testing.assert_allclose(out, expected, atol=2e-6, rtol=0)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), flat=st.booleans())
def test_variants_agree_on_random_areas(experts, seed, flat):
    rng = np.random.default_rng(seed)
    wm, al, sig = experts
    lms = rng.choice(68, size=3, replace=False)
    areas = (rng.random((3, 21, 21)) * 255).astype(np.float32)
    if flat:
        areas[:, :, :] = 7.0  # every window has zero contrast: norm 0 is treated as 1
    expected = KERNEL.variants["reference"].load()(areas, wm[lms], al[lms], sig[lms])
    assert (expected >= 0).all()
    for name in AVAILABLE:
        KERNEL.check(expected, KERNEL.variants[name].load()(areas, wm[lms], al[lms], sig[lms]),
                     registry.Case((), label=name))


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.floats(-800.0, 800.0, allow_nan=False), min_size=1, max_size=200))
def test_vectorised_exp_is_within_two_ulp_of_libm(values):
    """The numba variant's window-at-a-time exponential against NumPy's (libm) on any finite input."""
    from aubench.variants.patch_response.numba_kernel import _exp

    x = np.array(values, np.float64)
    out = np.full_like(x, np.nan)
    _exp(x, out, np.empty_like(x), np.empty(len(x), np.int64), len(x))
    expected = np.exp(np.clip(x, -700.0, 700.0))
    np.testing.assert_array_less(np.abs(out - expected), 2 * np.spacing(expected))


def test_vectorised_exp_edges():
    from aubench.variants.patch_response.numba_kernel import _exp

    x = np.array([0.0, -0.0, 1.0, -1.0, 700.0, -700.0, 1e6, -1e6, 0.5 * np.log(2), -0.5 * np.log(2)])
    out = np.empty_like(x)
    _exp(x, out, np.empty_like(x), np.empty(len(x), np.int64), len(x))
    assert out[0] == out[1] == 1.0
    np.testing.assert_allclose(out, np.exp(np.clip(x, -700, 700)), rtol=4e-16)
    assert np.isfinite(out).all() and (out > 0).all()


@pytest.mark.parametrize("variant", [v for v in AVAILABLE if v != "reference"])
@pytest.mark.parametrize("size", [5, 11])
def test_variants_on_other_patch_sizes(variant, size):
    """Patch sizes other than the CLNF models' 11 take the generic copy path of the compiled variants."""
    rng = np.random.default_rng(size)
    n, k, window = 3, 4, 5
    area = window + size - 1
    areas = (rng.random((n, area, area)) * 255).astype(np.float32)
    weights = (rng.standard_normal((n, k, 1 + size * size)) * 0.1).astype(np.float32)
    alphas = rng.random((n, k)) + 0.1
    base = rng.standard_normal((n, window * window, window * window)).astype(np.float32) * 0.01
    sigmas = (np.eye(window * window, dtype=np.float32) + base @ base.transpose(0, 2, 1)).astype(np.float32)
    expected = KERNEL.variants["reference"].load()(areas, weights, alphas, sigmas)
    got = KERNEL.variants[variant].load()(areas, weights, alphas, sigmas)
    np.testing.assert_allclose(got, expected, atol=2e-5 + 1e-4 * np.abs(expected).max(), rtol=0)
