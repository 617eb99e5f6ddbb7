"""fhog variants: dlib's traced outputs, fast variants against the reference on generated images,
and the properties dlib's FHOG has (shape, range, invariances)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from aubench.pipeline import registry
from aubench.pipeline.errors import InputError
from aubench.variants.fhog import TOLERANCE
from aubench.variants.fhog.reference import cell_grid, simd_columns

from ..conftest import TRACE

KERNEL = registry.kernels()["fhog"]
AVAILABLE = [name for name, v in KERNEL.variants.items() if v.unavailable_reason() is None]
EXACT = [name for name in AVAILABLE if name != "vectorised"]  # vectorised sums votes in float64
FRAMES = ("frame0001", "frame0050", "frame0100")
REFERENCE = KERNEL.variants["reference"].load()
FAST = [name for name in AVAILABLE if name != "reference"]


def _load(name: str):
    return KERNEL.variants[name].load()


@pytest.mark.parametrize("variant", AVAILABLE)
@pytest.mark.parametrize("frame", FRAMES)
def test_dlib_trace(variant, frame):
    """The exact BGR faces OpenFace gave dlib, and dlib's (12, 12, 31) answers."""
    img = np.load(TRACE / "fhog" / f"{frame}_input.npy")
    expected = np.load(TRACE / "fhog" / f"{frame}_dlib_fhog.npy")
    out = _load(variant)(img)
    assert out.shape == (12, 12, 31) and out.dtype == np.float32
    if variant in EXACT:
        np.testing.assert_array_equal(out, expected)
    else:
        assert np.abs(out - expected).max() <= 1e-6
    # OpenFace's descriptor is the row-major flattening
    descriptor = np.load(TRACE / "fhog" / f"{frame}_openface_descriptor.npy")
    np.testing.assert_array_equal(expected.reshape(1, -1).astype(np.float64), descriptor)


def test_simd_columns_of_a_112_face():
    """dlib's 8-wide loop covers x = 1..104 of the 111 visible columns; 105..110 are scalar."""
    simd = simd_columns(111)
    assert np.flatnonzero(simd).tolist() == list(range(1, 105))


@pytest.mark.parametrize("n, cells", [(112, 14), (111, 14), (107, 13), (100, 13), (99, 12), (12, 2), (3, 0)])
def test_cell_grid_rounds_like_dlib(n, cells):
    assert cell_grid(n, 8) == cells


@pytest.mark.parametrize("variant", AVAILABLE)
def test_images_too_small_give_an_empty_grid(variant):
    out = _load(variant)(np.zeros((20, 40, 3), np.uint8))  # 3 cell rows -> 1 output row
    assert out.shape == (1, 3, 31)
    assert _load(variant)(np.zeros((16, 40, 3), np.uint8)).shape == (0, 0, 31)


@pytest.mark.parametrize("variant", AVAILABLE)
@pytest.mark.parametrize("bad", [np.zeros((30, 30, 3), np.float32), np.zeros((30, 30, 4), np.uint8),
                                 np.zeros((30,), np.uint8)])
def test_bad_images_raise_input_error(variant, bad):
    with pytest.raises(InputError, match="uint8"):
        _load(variant)(bad)


def test_cell_size_one_is_refused():
    with pytest.raises(InputError, match="cell_size"):
        REFERENCE(np.zeros((30, 30), np.uint8), 1)


# --------------------------------------------------------------------------- generated images

def _images(min_side: int = 20, max_side: int = 60, colour: bool | None = None):
    sides = st.integers(min_side, max_side)
    channels = st.sampled_from([(), (3,)]) if colour is None else st.just((3,) if colour else ())
    shapes = st.tuples(sides, sides, channels).map(lambda t: (t[0], t[1]) + t[2])
    # few grey levels make gradient ties between colour channels frequent
    elements = st.one_of(st.integers(0, 255), st.sampled_from([0, 60, 120, 180]))
    return shapes.flatmap(lambda s: hnp.arrays(np.uint8, s, elements=elements))


@pytest.mark.parametrize("variant", FAST)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(img=_images(), cell_size=st.sampled_from([8, 8, 6, 4]))
def test_fast_variants_match_the_reference(variant, img, cell_size):
    expected = REFERENCE(img, cell_size)
    out = _load(variant)(img, cell_size)
    assert out.shape == expected.shape and out.dtype == np.float32
    if expected.size:
        tol = 0.0 if variant in EXACT else TOLERANCE
        assert np.abs(out - expected).max() <= tol


@settings(max_examples=30, deadline=None)
@given(img=_images(20, 70))
def test_shape_range_and_truncation(img):
    out = _load(EXACT[-1])(img)
    rows, cols = (max(cell_grid(n, 8) - 2, 0) for n in img.shape[:2])
    assert out.shape == ((rows, cols, 31) if rows and cols else (0, 0, 31))
    assert np.all(out >= 0)
    # 4 normalisations of each bin, each clipped at 0.2 * norm and scaled by 0.1 / (0.2 * norm)
    assert np.all(out[..., :27] <= 0.4 + 1e-6)
    assert np.all(out[..., 27:] <= 2 * 0.2357 * 18 * 0.1 + 1e-6)


@settings(max_examples=20, deadline=None)
@given(value=st.integers(0, 255), shape=st.sampled_from([(112, 112, 3), (40, 57), (64, 48, 3)]))
def test_flat_image_gives_zeros(value, shape):
    assert not np.any(_load(EXACT[-1])(np.full(shape, value, np.uint8)))


@settings(max_examples=20, deadline=None)
@given(img=_images(24, 64), shift=st.integers(1, 255))
def test_brightness_offset_invariance(img, shift):
    """Only differences of neighbouring pixels matter: adding a constant changes nothing."""
    low = (img.astype(np.int32) * (255 - shift) // 255).astype(np.uint8)
    fn = _load(EXACT[-1])
    np.testing.assert_array_equal(fn(low), fn((low.astype(np.int32) + shift).astype(np.uint8)))


@settings(max_examples=20, deadline=None)
@given(img=_images(24, 64, colour=False))
def test_grey_equals_its_three_channel_copy(img):
    """Equal channels tie everywhere, so either path picks the same gradient as the grey image."""
    fn = _load(EXACT[-1])
    np.testing.assert_array_equal(fn(img), fn(np.repeat(img[:, :, None], 3, axis=2)))


@settings(max_examples=20, deadline=None)
@given(img=_images(24, 64, colour=False), order=st.permutations([0, 1, 2]))
def test_single_coloured_channel_is_order_free(img, order):
    """With one non-constant channel there are no ties, so the channel's position is irrelevant."""
    fn = _load(EXACT[-1])
    colour = np.zeros(img.shape + (3,), np.uint8)
    colour[:, :, order[0]] = img
    np.testing.assert_array_equal(fn(colour), fn(img))


def test_orientation_table_from_the_cache_is_the_computed_one(tmp_path, monkeypatch):
    """The table the fast variants use comes from the derived-array cache after the first build."""
    from aubench.pipeline import cache
    from aubench.variants.fhog import _tables

    monkeypatch.setenv("AUBENCH_CACHE_DIR", str(tmp_path))
    built = _tables._cached_orientation_table()  # empty cache: computed and stored
    assert list(tmp_path.glob("fhog-orientation-*"))
    again = _tables._cached_orientation_table()  # read back
    np.testing.assert_array_equal(built, _tables.orientation_table())
    np.testing.assert_array_equal(again, built)
    assert not again.flags.writeable and again.dtype == np.int8
    np.testing.assert_array_equal(_tables.ORIENTATION, built)
    monkeypatch.setenv("AUBENCH_CACHE_DIR", "off")  # no cache: still the table
    assert cache.cache_dir() is None
    np.testing.assert_array_equal(_tables._cached_orientation_table(), built)
