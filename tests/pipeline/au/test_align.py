"""Face alignment (AlignFace / AlignFaceMask) against C++ OpenFace's aligned faces.

With the exact landmarks of the trace the aligned faces are bit-identical; with the CSV's
landmarks (0.1 px precision) they differ by a few grey levels on a few pixels. Whole-clip
figures: ``python -m experiments.au_features_parity``.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.pipeline import registry
from aubench.pipeline.au import align
from aubench.pipeline.errors import InputError
from aubench.pipeline.io.frames import open_input
from aubench.pipeline.io.hog_file import read_hog
from aubench.pipeline.io.openface_csv import read_openface_csv
from aubench.pipeline.landmarks.pdm import calc_params
from aubench.pipeline.models.pdm import read_pdm
from aubench.pipeline.models.triangulation import read_triangulation
from aubench.pipeline.timing import StageTimer
from aubench.variants.face_mask.reference import face_mask as face_mask_reference

from ...conftest import MEDIA, MODELS, REFERENCE, TRACE

CLIPS = {"default": "default.wmv", "2015-10-15-15-14": "2015-10-15-15-14.avi", "multi_face": "multi_face.avi"}


@pytest.fixture(scope="module")
def pdm():
    return read_pdm(MODELS / "AU_predictors" / "In-the-wild_aligned_PDM_68.txt")


@pytest.fixture(scope="module")
def tri():
    return read_triangulation(MODELS / "AU_predictors" / "tris_68_full.txt")


@pytest.fixture(scope="module")
def kernels():
    return registry.reference_kernels()


@pytest.fixture(scope="module")
def default_frames():
    return [f.bgr for f in itertools.islice(open_input(MEDIA / "default.wmv"), 3)]


def _bmp(clip: str, frame: int) -> np.ndarray:
    return cv2.imread(str(REFERENCE / clip / f"{clip}_aligned" / f"frame_det_00_{frame:06d}.bmp"), cv2.IMREAD_COLOR)


@pytest.mark.parametrize("selection", [{}, {"face_mask": "numba"}], ids=["reference", "numba"])
@pytest.mark.parametrize("frame", [1, 2, 3])
def test_exact_landmarks_give_the_cpp_aligned_face(frame, selection, pdm, tri, default_frames):
    landmarks = np.load(TRACE / "clnf" / f"frame{frame:04d}" / "final_landmarks_as_recorded.npy")
    params_global, _ = calc_params(pdm, landmarks)
    timer = StageTimer()
    out = align.align_face_mask(default_frames[frame - 1], landmarks, params_global, pdm, tri,
                                kernels=registry.resolve(selection), timer=timer)
    timer.next_frame()
    assert {"au.align.warp", "au.align.mask"} <= set(timer.per_frame())
    assert out.shape == (112, 112, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, _bmp("default", frame))
    if frame == 1:  # and the image dlib was given
        np.testing.assert_array_equal(out, np.load(TRACE / "fhog" / "frame0001_input.npy"))


@pytest.mark.parametrize("clip", sorted(CLIPS))
def test_csv_landmarks_give_nearly_the_cpp_aligned_face(clip, pdm, tri):
    """First 6 successful frames: landmarks rounded to 0.1 px move the warp by up to ~0.01 px
    (through the PDM fit's translation) and the mask edge by a pixel here and there."""
    table = read_openface_csv(REFERENCE / clip / f"{clip}.csv")
    landmarks = table.landmarks_2d().astype(np.float32)
    success = table.success.astype(bool)
    kernels = registry.resolve({"fhog": "numba_tables", "face_mask": "numba"})
    fhog = kernels.fhog
    hog = read_hog(REFERENCE / clip / f"{clip}.hog").descriptors.reshape(len(table), -1)
    checked = 0
    for frame in open_input(MEDIA / CLIPS[clip]):
        k = frame.number - 1
        if not success[k]:
            continue
        out = align.align_face_mask(frame.bgr, landmarks[k], calc_params(pdm, landmarks[k])[0], pdm, tri,
                                    kernels=kernels)
        diff = np.abs(out.astype(np.int16) - _bmp(clip, frame.number).astype(np.int16))
        assert diff.mean() <= 1.0  # the target; measured <= 0.13 on frames 1-100 of every clip
        assert np.count_nonzero(diff > 8) <= 0.01 * diff.size
        r = np.corrcoef(fhog(out).reshape(-1), hog[k])[0, 1]
        assert r >= 0.99  # ~0.999 typical: FHOG bins flip on 1-level changes in dark, flat areas
        checked += 1
        if checked == 6:
            break
    assert checked == 6


def _paw_scan(points: np.ndarray, tris: np.ndarray, width: int, height: int) -> np.ndarray:
    """PAW's constructor literally: every pixel in raster order, the previous pixel's triangle
    tried first, then the first triangle (bounding box, then side tests) that holds it."""
    f = np.float32
    pts = points.astype(f)

    def same_side(x0, y0, x1, y1, x2, y2, x3, y3):
        x = f(f((x3 - x2) * (y0 - y2)) - f((x0 - x2) * (y3 - y2)))
        y = f(f((x3 - x2) * (y1 - y2)) - f((x1 - x2) * (y3 - y2)))
        return f(x * y) >= 0

    def inside(x0, y0, t):
        (x1, y1), (x2, y2), (x3, y3) = pts[tris[t]]
        return (same_side(x0, y0, x1, y1, x2, y2, x3, y3) and same_side(x0, y0, x2, y2, x1, y1, x3, y3)
                and same_side(x0, y0, x3, y3, x1, y1, x2, y2))

    boxes = [(pts[t][:, 0].min(), pts[t][:, 0].max(), pts[t][:, 1].min(), pts[t][:, 1].max()) for t in tris]
    mask = np.zeros((height, width), np.uint8)
    guess = -1
    for y in range(height):
        for x in range(width):
            x0, y0 = f(x), f(y)
            if guess != -1 and inside(x0, y0, guess):
                mask[y, x] = 1
                continue
            guess = -1
            for t, (min_x, max_x, min_y, max_y) in enumerate(boxes):
                if max_x < x0 or min_x > x0 or max_y < y0 or min_y > y0:
                    continue
                if inside(x0, y0, t):
                    guess = t
                    break
            mask[y, x] = guess != -1
    return mask


def test_triangle_mask_is_paws_pixel_scan(pdm, tri, default_frames, kernels):
    landmarks = np.load(TRACE / "clnf" / "frame0001" / "final_landmarks_as_recorded.npy")
    warp = align.similarity_warp(landmarks, calc_params(pdm, landmarks)[0], pdm, 0.7, 112, 112,
                                 align=kernels.align_shapes)
    points = align.mask_landmarks(landmarks, warp, 0.7)
    mask = face_mask_reference(points, tri, 112, 112)
    np.testing.assert_array_equal(mask, _paw_scan(points, tri, 112, 112))
    for name, variant in registry.kernels()["face_mask"].variants.items():
        if variant.unavailable_reason() is None:
            np.testing.assert_array_equal(variant.load()(points, tri, 112, 112), mask, err_msg=name)
    # and it is the C++ mask: black outside, (almost surely) non-black inside
    bmp = _bmp("default", 1)
    assert not bmp[mask == 0].any()
    assert np.count_nonzero(bmp.max(axis=2)[mask == 1] == 0) <= 5


def test_unmasked_alignment_agrees_inside_the_mask(pdm, tri, default_frames, kernels):
    landmarks = np.load(TRACE / "clnf" / "frame0002" / "final_landmarks_as_recorded.npy")
    params_global, _ = calc_params(pdm, landmarks)
    plain = align.align_face(default_frames[1], landmarks, params_global, pdm, align=kernels.align_shapes)
    masked = align.align_face_mask(default_frames[1], landmarks, params_global, pdm, tri, kernels=kernels)
    inside = masked.max(axis=2) > 0
    np.testing.assert_array_equal(plain[inside], masked[inside])
    assert plain[~inside].any()  # the background is kept without the mask
    grey = align.align_face_mask(cv2.cvtColor(default_frames[1], cv2.COLOR_BGR2GRAY), landmarks, params_global,
                                 pdm, tri, kernels=kernels)
    assert grey.shape == (112, 112) and not grey[~inside].any()


def test_output_size_and_scale(pdm, tri, default_frames, kernels):
    landmarks = np.load(TRACE / "clnf" / "frame0001" / "final_landmarks_as_recorded.npy")
    params_global, _ = calc_params(pdm, landmarks)
    big = align.align_face_mask(default_frames[0], landmarks, params_global, pdm, tri, sim_scale=1.4, out_size=224,
                                kernels=kernels)
    assert big.shape == (224, 224, 3)
    small = cv2.resize(big, (112, 112), interpolation=cv2.INTER_AREA)
    ref = _bmp("default", 1)
    both = (small.max(axis=2) > 0) & (ref.max(axis=2) > 0)
    assert np.abs(small[both].astype(float) - ref[both]).mean() < 6  # same face, twice the resolution


@settings(max_examples=40, deadline=None)
@given(scale=st.floats(0.5, 4.0), angle=st.floats(-0.8, 0.8), tx=st.floats(100, 500), ty=st.floats(100, 400))
def test_similarity_of_the_mean_shape_is_undone(pdm, kernels, scale, angle, tx, ty):
    """Landmarks that are a similarity of the mean shape land on 0.7 x mean shape, centred at 56."""
    n = pdm.n_points
    mean = np.stack([pdm.mean_shape[:n], pdm.mean_shape[n:2 * n]], axis=1).astype(np.float64)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    landmarks = (scale * mean @ rot.T + [tx, ty]).astype(np.float32)
    params_global = np.array([scale, 0, 0, angle, tx, ty], np.float32)
    warp = align.similarity_warp(landmarks, params_global, pdm, 0.7, 112, 112,
                                 align=kernels.align_shapes).astype(np.float64)
    moved = landmarks.astype(np.float64) @ warp[:, :2].T + warp[:, 2]
    np.testing.assert_allclose(moved, 0.7 * mean + 56, atol=2e-3 * max(1.0, scale))


def test_rigid_and_raised_points():
    assert len(align.RIGID_POINTS) == 24 and len(set(align.RIGID_POINTS.tolist())) == 24
    assert align.RAISED_POINTS.tolist() == [0, 16] + list(range(17, 27))


def test_bad_inputs_raise_input_errors(pdm, tri, default_frames, kernels):
    landmarks = np.load(TRACE / "clnf" / "frame0001" / "final_landmarks_as_recorded.npy")
    g = np.zeros(6, np.float32)
    with pytest.raises(InputError, match=r"\(68, 2\) landmarks"):
        align.align_face_mask(default_frames[0], landmarks[:51], g, pdm, tri, kernels=kernels)
    with pytest.raises(InputError, match="uint8 frame"):
        align.align_face(default_frames[0].astype(np.float32), landmarks, g, pdm, align=kernels.align_shapes)
    # OpenFace's (136,) column layout is accepted
    column = np.concatenate([landmarks[:, 0], landmarks[:, 1]])
    g = calc_params(pdm, landmarks)[0]
    np.testing.assert_array_equal(align.align_face(default_frames[0], column, g, pdm, align=kernels.align_shapes),
                                  align.align_face(default_frames[0], landmarks, g, pdm, align=kernels.align_shapes))
