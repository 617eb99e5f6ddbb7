"""Every warp_areas variant reproduces the C++ areas of interest bit for bit (trace/patch_unit)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.pipeline import registry
from aubench.pipeline.landmarks import patch_experts as pe

from ..conftest import TRACE
from ..pipeline.landmarks.test_patch_experts import default_gray_frames

KERNEL = registry.kernels()["warp_areas"]
AVAILABLE = [name for name, v in KERNEL.variants.items() if v.unavailable_reason() is None]


@pytest.fixture(scope="module")
def frame1():
    return default_gray_frames(1)[0]


@pytest.mark.parametrize("variant", AVAILABLE)
def test_patch_unit_areas(frame1, variant):
    fn = KERNEL.variants[variant].load()
    scale0 = TRACE / "clnf" / "frame0001" / "detect" / "hyp00" / "main" / "scale0"
    landmarks = np.load(scale0 / "landmarks_before.npy")
    sim = np.load(scale0 / "sim_ref_to_img.npy")
    lms = [0, 30, 48]
    areas = pe.sample_areas(frame1, landmarks, lms, sim, 21, fn)
    for i, lm in enumerate(lms):
        np.testing.assert_array_equal(areas[i], np.load(TRACE / "patch_unit" / f"lm{lm:02d}" / "area_of_interest.npy"))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), area=st.sampled_from([7, 13, 19, 21]))
def test_bit_identical_to_opencv_near_borders(frame1, seed, area):
    rng = np.random.default_rng(seed)
    a1 = float(np.float32(rng.uniform(0.3, 7.0)))
    b1 = float(np.float32(rng.uniform(-2.0, 2.0)))
    tx = rng.uniform(-60, 700, 6).astype(np.float32).astype(np.float64)
    ty = rng.uniform(-60, 540, 6).astype(np.float32).astype(np.float64)
    expected = KERNEL.variants["reference"].load()(frame1, tx, ty, a1, b1, area)
    for name in AVAILABLE:
        np.testing.assert_array_equal(KERNEL.variants[name].load()(frame1, tx, ty, a1, b1, area), expected)
