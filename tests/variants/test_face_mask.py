"""face_mask variants against the reference on generated meshes, and the mask's geometry."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from aubench.pipeline import registry

KERNEL = registry.kernels()["face_mask"]
REFERENCE = KERNEL.variants["reference"].load()
FAST = [name for name, v in KERNEL.variants.items() if name != "reference" and v.unavailable_reason() is None]


def _meshes():
    points = hnp.arrays(np.float32, (12, 2), elements=st.one_of(
        st.floats(-20, 80, width=32), st.integers(-5, 70).map(float)))  # on-pixel vertices hit the edge rule
    tris = hnp.arrays(np.int32, st.tuples(st.integers(1, 25), st.just(3)), elements=st.integers(0, 11))
    return st.tuples(points, tris, st.integers(1, 70), st.integers(1, 70))


@pytest.mark.parametrize("variant", FAST)
@settings(max_examples=60, deadline=None)
@given(mesh=_meshes())
def test_fast_variants_match_the_reference(variant, mesh):
    points, tris, width, height = mesh
    np.testing.assert_array_equal(KERNEL.variants[variant].load()(points, tris, width, height),
                                  REFERENCE(points, tris, width, height))


def test_square_of_two_triangles_includes_its_edges():
    square = np.array([[2, 3], [10, 3], [10, 9], [2, 9]], np.float32)
    tris = np.array([[0, 1, 2], [0, 2, 3]])
    for fn in [REFERENCE] + [KERNEL.variants[v].load() for v in FAST]:
        mask = fn(square, tris, 16, 12)
        expected = np.zeros((12, 16), np.uint8)
        expected[3:10, 2:11] = 1
        np.testing.assert_array_equal(mask, expected)


@settings(max_examples=40, deadline=None)
@given(x=st.floats(25, 55), y=st.floats(25, 55), r=st.floats(3, 20))  # inside the 80x80 image
def test_triangle_area_is_close_to_the_pixel_count(x, y, r):
    pts = np.array([[x, y - r], [x + r, y + r], [x - r, y + r]], np.float32)
    mask = REFERENCE(pts, np.array([[0, 1, 2]]), 80, 80)
    area = 2 * r * r
    perimeter = 2 * r + 2 * np.hypot(r, 2 * r)
    assert abs(int(mask.sum()) - area) <= perimeter + 4
