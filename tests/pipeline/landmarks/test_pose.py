"""Head pose and 3D landmarks against the C++ CSV (all frames of both clips) and the trace."""

from __future__ import annotations

import numpy as np
import pytest

from aubench.pipeline.landmarks import pose as Q
from aubench.pipeline.models.pdm import read_pdm
from tests.conftest import MODELS, TRACE
from tests.pipeline.landmarks._reference_csv import block, load

POSE_COLUMNS = ("pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz")
GLOBAL_COLUMNS = ("p_scale", "p_rx", "p_ry", "p_rz", "p_tx", "p_ty")


@pytest.fixture(scope="module")
def pdm68():
    return read_pdm(MODELS / "model/pdms/In-the-wild_aligned_PDM_68.txt")


def test_default_intrinsics():
    assert Q.camera_intrinsics(640, 480) == (500.0, 500.0, 320.0, 240.0)
    fx, fy, cx, cy = Q.camera_intrinsics(1280, 720)
    assert (fx, fy, cx, cy) == (875.0, 875.0, 640.0, 360.0)
    assert Q.camera_intrinsics(640, 480, fx=600, fy=610, cx=300, cy=200) == (600, 610, 300, 200)


@pytest.mark.parametrize("clip", ["default", "2015-10-15-15-14"])
def test_pose_and_3d_landmarks_from_csv_params(pdm68, clip):
    """GetPose / GetShape of the CSV's p_* and x_/y_ reproduce pose_* and X/Y/Z to CSV precision.

    The inputs are rounded too (params 3 dp, landmarks 1 dp), so the tolerances are a
    few CSV units: measured max |error| T 0.11 mm, R 0.0009 rad, X/Y 0.18 mm, Z 0.34 mm
    (Z = fx / scale moves 0.15 mm per 0.0005 of scale).
    """
    cols = load(clip)
    intr = Q.camera_intrinsics(640, 480)
    g = np.stack([cols[k] for k in GLOBAL_COLUMNS], axis=1)
    loc = block(cols, "p_", 34)
    lm = np.stack([block(cols, "x_", 68), block(cols, "y_", 68)], axis=2)
    xyz = np.stack([block(cols, "X_", 68), block(cols, "Y_", 68), block(cols, "Z_", 68)], axis=2)
    pose = np.stack([cols[k] for k in POSE_COLUMNS], axis=1)
    errors_pose, errors_3d = [], []
    for i in range(len(g)):
        errors_pose.append(np.abs(Q.get_pose(pdm68, g[i], loc[i], lm[i], intr) - pose[i]))
        errors_3d.append(np.abs(Q.get_shape_3d(pdm68, g[i], loc[i], lm[i], intr) - xyz[i]).max(axis=0))
    errors_pose, errors_3d = np.array(errors_pose), np.array(errors_3d)
    assert errors_pose[:, :3].max() < 0.15
    assert errors_pose[:, 3:].max() < 0.0015
    assert np.median(errors_pose[:, 3:]) < 0.0005
    assert errors_3d[:, :2].max() < 0.25 and errors_3d[:, 2].max() < 0.5


def test_pose_and_3d_from_trace_state_match_csv_to_its_precision(pdm68):
    """From the exact (traced) final params and landmarks of frames 1-3: within CSV rounding."""
    cols = load("default")
    intr = Q.camera_intrinsics(640, 480)
    for frame in (1, 2, 3):
        folder = TRACE / f"clnf/frame{frame:04d}" / ("detect/hyp00" if frame == 1 else "track")
        p = np.load(folder / "main/final_params.npy")[0]
        lm = np.load(TRACE / f"clnf/frame{frame:04d}/final_landmarks_as_recorded.npy")
        i = frame - 1
        pose = np.array([cols[k][i] for k in POSE_COLUMNS])
        got = Q.get_pose(pdm68, p[:6], p[6:], lm, intr)
        assert np.abs(got[:3] - pose[:3]).max() <= 0.05 + 1e-3
        assert np.abs(got[3:] - pose[3:]).max() <= 0.0005 + 1e-5
        xyz = np.stack([block(cols, "X_", 68)[i], block(cols, "Y_", 68)[i], block(cols, "Z_", 68)[i]], axis=1)
        assert np.abs(Q.get_shape_3d(pdm68, p[:6], p[6:], lm, intr) - xyz).max() <= 0.05 + 1e-3


def test_zero_scale_gives_zero_pose(pdm68):
    g = np.zeros(6, np.float32)
    assert not Q.get_pose(pdm68, g, None, np.zeros((68, 2)), Q.camera_intrinsics(640, 480)).any()


def test_pose_wrt_camera_is_pose_for_a_centred_head(pdm68):
    intr = Q.camera_intrinsics(640, 480)
    g = np.array([1.0, 0.1, 0.2, 0.0, 320.0, 240.0], np.float32)
    from aubench.pipeline.landmarks.pdm import calc_shape_2d

    lm = calc_shape_2d(pdm68, g)
    a = Q.get_pose(pdm68, g, None, lm, intr)
    b = Q.get_pose_wrt_camera(pdm68, g, None, lm, intr)
    np.testing.assert_allclose(a[3:], b[3:], atol=0.02)
