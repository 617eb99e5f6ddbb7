"""The HOG descriptor: dlib's FHOG of C++ OpenFace's own aligned faces equals its .hog records."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from aubench.pipeline import registry
from aubench.pipeline.au.hog import descriptor, hog_descriptor
from aubench.pipeline.errors import InputError
from aubench.pipeline.io.hog_file import read_hog
from aubench.pipeline.io.openface_csv import read_openface_csv
from aubench.pipeline.timing import StageTimer

from ...conftest import REFERENCE, TRACE

CLIPS = ("default", "2015-10-15-15-14", "multi_face")
FAST = "numba_tables"


@pytest.fixture(scope="module")
def kernels():
    return registry.resolve({"fhog": FAST})


@pytest.mark.parametrize("frame", ["frame0001", "frame0050", "frame0100"])
def test_descriptor_order_is_openfaces(frame):
    cells = np.load(TRACE / "fhog" / f"{frame}_dlib_fhog.npy")
    expected = np.load(TRACE / "fhog" / f"{frame}_openface_descriptor.npy")[0]
    out = descriptor(cells)
    assert out.shape == (4464,) and out.dtype == np.float64
    np.testing.assert_array_equal(out, expected)


def test_non_square_grid_is_refused():
    with pytest.raises(InputError, match="square"):
        descriptor(np.zeros((12, 10, 31), np.float32))


@pytest.mark.parametrize("clip", CLIPS)
def test_fhog_of_cpp_aligned_faces_equals_the_hog_file(clip, kernels):
    """Frames 1, 2, 50, 99, 100 of each clip: the C++ -simalign BMP through our FHOG gives the
    C++ -hogalign record bit for bit (so any HOG difference comes from the alignment)."""
    hog = read_hog(REFERENCE / clip / f"{clip}.hog")
    success = read_openface_csv(REFERENCE / clip / f"{clip}.csv").success.astype(bool)
    checked = 0
    for frame in (1, 2, 50, 99, 100):
        if not success[frame - 1]:
            continue
        bmp = cv2.imread(str(REFERENCE / clip / f"{clip}_aligned" / f"frame_det_00_{frame:06d}.bmp"))
        timer = StageTimer()
        cells, flat = hog_descriptor(bmp, kernels, timer)
        np.testing.assert_array_equal(cells, hog.descriptors[frame - 1])
        np.testing.assert_array_equal(flat, hog.descriptors[frame - 1].reshape(-1).astype(np.float64))
        timer.next_frame()
        assert "au.hog" in timer.per_frame()
        checked += 1
    assert checked >= 3


def test_failed_frames_have_the_fhog_of_a_black_face(kernels):
    """OpenFace aligns nothing on a failed frame: the FHOG of its black 112x112 image is all zero,
    as the .hog records of failed frames are."""
    cells, flat = hog_descriptor(np.zeros((112, 112, 3), np.uint8), kernels)
    assert cells.shape == (12, 12, 31) and not flat.any()
    for clip in CLIPS:
        hog = read_hog(REFERENCE / clip / f"{clip}.hog")
        success = read_openface_csv(REFERENCE / clip / f"{clip}.csv").success.astype(bool)
        assert not hog.descriptors[~success].any()
