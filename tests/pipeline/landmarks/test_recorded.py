"""Landmarks recovered from an OpenFace CSV's rounded records (aubench.pipeline.landmarks.recorded)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.pipeline.io.openface_csv import read_openface_csv
from aubench.pipeline.landmarks import recorded
from aubench.pipeline.landmarks.pdm import calc_shape_2d
from aubench.pipeline.landmarks.pose import camera_intrinsics, get_shape_3d
from tests.conftest import MODELS, REFERENCE

TRACE = REFERENCE / "trace" / "clnf"
CSV = REFERENCE / "default" / "default.csv"


@pytest.fixture(scope="module")
def pdm():
    return recorded.landmark_pdm(MODELS)


@pytest.fixture(scope="module")
def table():
    return read_openface_csv(CSV)


def _rms(a, b) -> float:
    return float(np.sqrt(np.mean((np.asarray(a, float) - np.asarray(b, float)) ** 2)))


@pytest.mark.parametrize("frame", [1, 2, 3])
def test_traced_frames_come_much_closer_to_the_cpp_landmarks(pdm, table, frame):
    """C++'s unrounded landmarks of frames 1-3 were dumped: the CSV is 0.028-0.030 px RMS away,
    the recovered shape 0.001-0.005 px (2D + parameters + 3D) and 0.001-0.007 px (2D + parameters)."""
    truth = np.load(TRACE / f"frame{frame:04d}" / "final_landmarks_as_recorded.npy").reshape(68, 2)
    i = frame - 1
    rows = (table.landmarks_2d()[i], table.params_global()[i], table.params_local()[i])
    camera = recorded.estimate_intrinsics(table.landmarks_2d(), table.landmarks_3d(), (640, 480))
    with_3d = recorded.unround(pdm, *rows, landmarks_3d=table.landmarks_3d()[i], camera=camera)
    flat = recorded.unround(pdm, *rows)
    raw = _rms(rows[0], truth)
    assert raw > 0.025
    assert flat.used and not flat.used_3d and _rms(flat.landmarks, truth) < raw / 4
    assert with_3d.used and with_3d.used_3d and _rms(with_3d.landmarks, truth) < 0.0055
    assert with_3d.max_shift_px <= 0.1 and with_3d.landmarks.dtype == np.float32


@pytest.mark.slow
def test_the_whole_clip_is_one_camera_and_one_pdm(pdm, table):
    camera = recorded.estimate_intrinsics(table.landmarks_2d(), table.landmarks_3d())
    assert camera == pytest.approx((500.0, 500.0, 320.0, 240.0), abs=0.02)
    snapped = recorded.estimate_intrinsics(table.landmarks_2d(), table.landmarks_3d(), (640, 480))
    assert snapped == camera_intrinsics(640, 480)
    landmarks, used = recorded.unround_all(pdm, table.landmarks_2d(), table.params_global(), table.params_local(),
                                           table.landmarks_3d(), (640, 480))
    assert used.all() and landmarks.shape == (288, 68, 2)
    # within the rounding of every recorded coordinate
    assert np.abs(landmarks - table.landmarks_2d()).max() <= 0.1


def test_a_custom_camera_is_estimated_not_snapped(pdm, table):
    """A run with -fx 800 -cx 300: the estimate finds it, the default for the size is not forced."""
    size = (640, 480)
    camera = camera_intrinsics(*size, fx=800.0, fy=800.0, cx=300.0, cy=250.0)
    i = 10
    g, loc = table.params_global()[i], table.params_local()[i]
    exact = calc_shape_2d(pdm, g, loc)
    points = get_shape_3d(pdm, g, loc, exact, camera)
    estimate = recorded.estimate_intrinsics(np.round(exact, 1)[None], np.round(points, 1)[None], size)
    assert estimate.fx == pytest.approx(800.0, abs=1.0) and estimate.cx == pytest.approx(300.0, abs=1.0)
    assert estimate != camera_intrinsics(*size)


def test_records_of_different_shapes_are_kept_as_recorded(pdm, table):
    i = 5
    shifted = table.landmarks_2d()[i] + np.array([0.0, 0.4], np.float32)  # 0.4 px: beyond any rounding
    u = recorded.unround(pdm, shifted, table.params_global()[i], table.params_local()[i])
    assert not u.used and u.max_shift_px > 0.1
    np.testing.assert_array_equal(u.landmarks, shifted.astype(np.float32))
    # parameters of another frame with this frame's 3D: 3D dropped, the 2D fit still judged on its own
    other = recorded.unround(pdm, table.landmarks_2d()[i], table.params_global()[i], table.params_local()[i],
                             landmarks_3d=table.landmarks_3d()[i + 100], camera=camera_intrinsics(640, 480))
    assert other.used and not other.used_3d


@pytest.mark.parametrize("bad", ["nan", "short", "zero_scale"])
def test_unusable_rows_are_returned_unchanged(pdm, table, bad):
    lm, g, loc = table.landmarks_2d()[0].copy(), table.params_global()[0].copy(), table.params_local()[0]
    if bad == "nan":
        lm[3, 0] = np.nan
    elif bad == "short":
        lm = lm[:60]
    else:
        g[0] = 0.0
    u = recorded.unround(pdm, lm, g, loc)
    assert not u.used
    np.testing.assert_array_equal(u.landmarks, np.asarray(lm, np.float32))


def test_no_camera_without_enough_tracked_points(table):
    points = table.landmarks_3d()[:1].copy()
    points[..., 2] = 0.0  # not tracked: Z = 0
    assert recorded.estimate_intrinsics(table.landmarks_2d()[:1], points) is None
    assert recorded.estimate_intrinsics(table.landmarks_2d()[:2], table.landmarks_3d()[:1]) is None


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(0.6, 3.0), yaw=st.floats(-0.6, 0.6),
       pitch=st.floats(-0.4, 0.4), roll=st.floats(-0.5, 0.5))
def test_any_plausible_face_is_recovered_better_than_the_csv(pdm, seed, scale, yaw, pitch, roll):
    """Round a synthetic PDM face as RecorderCSV does; the recovered shape is closer than the rounding."""
    rng = np.random.default_rng(seed)
    loc = (rng.uniform(-1.5, 1.5, pdm.n_modes) * np.sqrt(pdm.eigen_values.reshape(-1))).astype(np.float32)
    g = np.array([scale, pitch, yaw, roll, rng.uniform(200, 440), rng.uniform(150, 330)], np.float32)
    camera = camera_intrinsics(640, 480)
    exact = calc_shape_2d(pdm, g, loc)
    points = get_shape_3d(pdm, g, loc, exact, camera)
    rounded = np.round(exact.astype(np.float64), 1)
    u = recorded.unround(pdm, rounded, np.round(g.astype(np.float64), 3), np.round(loc.astype(np.float64), 3),
                         landmarks_3d=np.round(points.astype(np.float64), 1), camera=camera)
    assert u.used and u.used_3d
    assert _rms(u.landmarks, exact) < 0.5 * _rms(rounded, exact)
