"""align_shapes variants: the C++ trace's image -> reference similarities, and bit-equality with the reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.pipeline import registry
from aubench.pipeline.landmarks import pdm as pdm_ops
from aubench.pipeline.models.pdm import read_pdm
from aubench.variants.align_shapes.numba_kernel import _pairwise_sum
from aubench.variants.align_shapes.reference import align_shapes as reference

from ..conftest import MODELS, TRACE

KERNEL = registry.kernels()["align_shapes"]
AVAILABLE = [name for name, v in KERNEL.variants.items() if v.unavailable_reason() is None]
SCALES = sorted((TRACE / "clnf").glob("frame000*/**/main/scale*"))


def _info(path) -> dict[str, str]:
    return dict(t.split("=", 1) for t in path.read_text().split() if "=" in t)


@pytest.fixture(scope="module")
def pdm():
    return read_pdm(MODELS / "model" / "pdms" / "In-the-wild_aligned_PDM_68.txt")


@pytest.mark.parametrize("variant", AVAILABLE)
def test_similarities_of_every_traced_scale(pdm, variant):
    """``Patch_experts::Response``'s sim_img_to_ref for all 37 traced main-model scales (11 hypotheses
    of frame 1, frames 2-3): to the float32 ulp, and bit-equal between variants."""
    align = KERNEL.variants[variant].load()
    assert len(SCALES) == 37
    exact = 0
    for d in SCALES:
        params = np.load(d / "params_before.npy")[0]
        image = np.load(d / "landmarks_before.npy")
        scaling = float(_info(d / "info.txt")["patch_scaling"])
        ref_shape = pdm_ops.calc_shape_2d(pdm, np.array([scaling, 0, 0, 0, 0, 0], np.float32), params[6:])
        got = align(image, ref_shape)
        expected = np.load(d / "sim_img_to_ref.npy")
        assert got.dtype == np.float32 and got.shape == (2, 2)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-7)
        np.testing.assert_array_equal(got, reference(image, ref_shape))
        exact += int(np.array_equal(got, expected))
    assert exact >= 20  # 23 of 37 are C++'s bits; the rest within an ulp (the reference shape's own rounding)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 200), reflect=st.booleans())
def test_numba_is_the_reference_bit_for_bit(seed, n, reflect):
    if "numba" not in AVAILABLE:
        pytest.fail("numba is a dependency; the compiled variant must be available")
    rng = np.random.default_rng(seed)
    src = (rng.normal(size=(n, 2)) * rng.uniform(0.5, 300) + rng.uniform(-100, 700)).astype(np.float32)
    angle, scale = rng.uniform(-np.pi, np.pi), rng.uniform(0.05, 8)
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = (src @ rot.T + rng.normal(size=(n, 2)) * rng.uniform(0, 5)).astype(np.float32)
    if reflect:  # a mirrored target: Kabsch must flip V's second column, not reflect
        dst = dst[:, ::-1].copy()
    np.testing.assert_array_equal(KERNEL.variants["numba"].load()(src, dst), reference(src, dst))


@settings(max_examples=80, deadline=None)
@given(values=st.lists(st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False), min_size=0, max_size=700))
def test_pairwise_sum_is_numpys(values):
    """The compiled sum follows NumPy's pairwise order exactly (8-way blocks, halves above 128)."""
    a = np.array(values, np.float64)
    assert _pairwise_sum(a, 0, len(a)) == np.add.reduce(a)
