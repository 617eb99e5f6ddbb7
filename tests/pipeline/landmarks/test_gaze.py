"""Gaze against the C++ CSV: from the CSV's own 3D landmarks and pose, and from the traced state."""

from __future__ import annotations

import numpy as np
import pytest

from aubench.pipeline.landmarks import gaze as G
from aubench.pipeline.landmarks import pose as Q
from aubench.pipeline.models.pdm import read_pdm
from tests.conftest import MODELS, TRACE
from tests.pipeline.landmarks._reference_csv import block, load

GAZE_COLUMNS = ("gaze_0_x", "gaze_0_y", "gaze_0_z", "gaze_1_x", "gaze_1_y", "gaze_1_z", "gaze_angle_x", "gaze_angle_y")


@pytest.mark.parametrize("clip", ["default", "2015-10-15-15-14"])
def test_gaze_from_csv_3d_landmarks(clip):
    """EstimateGaze of the CSV's eye_lmk_X/Y/Z, X/Y/Z and pose_R (all 1 dp / 3 dp).

    Measured (both clips): per-eye vector error median 0.14 deg, max 0.42 deg;
    gaze angle median 0.06 deg, max 0.31 deg: the inputs' rounding.
    """
    cols = load(clip)
    xyz = np.stack([block(cols, "X_", 68), block(cols, "Y_", 68), block(cols, "Z_", 68)], axis=2)
    eyes = np.stack([block(cols, "eye_lmk_X_", 56), block(cols, "eye_lmk_Y_", 56), block(cols, "eye_lmk_Z_", 56)], axis=2)
    pose = np.stack([cols[k] for k in ("pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz")], axis=1)
    expected = np.stack([cols[k] for k in GAZE_COLUMNS], axis=1)
    ok = cols["success"] == 1
    got = []
    for i in np.flatnonzero(ok):
        g0 = G.estimate_gaze(pose[i], xyz[i], eyes[i, :28], True)
        g1 = G.estimate_gaze(pose[i], xyz[i], eyes[i, 28:], False)
        got.append(np.concatenate([g0, g1, G.gaze_angle(g0, g1)]))
    got = np.array(got)
    exp = expected[ok]
    e0 = G.angle_between_deg(got[:, 0:3], exp[:, 0:3])
    e1 = G.angle_between_deg(got[:, 3:6], exp[:, 3:6])
    ea = np.degrees(np.abs(got[:, 6:] - exp[:, 6:]))
    assert np.median(e0) < 0.25 and np.median(e1) < 0.25 and e0.max() < 0.8 and e1.max() < 0.8
    assert np.median(ea) < 0.12 and ea.max() < 0.6


def test_gaze_from_trace_state_matches_csv_to_6_decimals():
    """Frames 1-3 from the exact traced params/landmarks of the main and eye models."""
    cols = load("default")
    intr = Q.camera_intrinsics(640, 480)
    main = read_pdm(MODELS / "model/pdms/In-the-wild_aligned_PDM_68.txt")
    eye_pdms = {
        "left_eye_28": read_pdm(MODELS / "model/model_eye/pdms/pdm_28_l_eye_3D_closed.txt"),
        "right_eye_28": read_pdm(MODELS / "model/model_eye/pdms/pdm_28_eye_3D_closed.txt"),
    }
    for frame in (1, 2, 3):
        folder = TRACE / f"clnf/frame{frame:04d}" / ("detect/hyp00" if frame == 1 else "track")
        p = np.load(folder / "main/final_params.npy")[0]
        lm = np.load(TRACE / f"clnf/frame{frame:04d}/final_landmarks_as_recorded.npy")
        pose = Q.get_pose(main, p[:6], p[6:], lm, intr)
        face3d = Q.get_shape_3d(main, p[:6], p[6:], lm, intr)
        eye3d, eye2d = [], []
        for name, pdm in eye_pdms.items():
            ep = np.load(folder / name / "final_params.npy")[0]
            el = np.load(folder / name / "final_landmarks.npy")
            eye3d.append(Q.get_shape_3d(pdm, ep[:6], ep[6:], el, intr))
            eye2d.append(el)
        i = frame - 1
        e3 = np.stack([block(cols, f"eye_lmk_{a}_", 56)[i] for a in "XYZ"], axis=1)
        e2 = np.stack([block(cols, f"eye_lmk_{a}_", 56)[i] for a in "xy"], axis=1)
        assert np.abs(np.concatenate(eye3d) - e3).max() <= 0.05 + 1e-3
        assert np.abs(np.concatenate(eye2d) - e2).max() <= 0.05 + 1e-3
        g0 = G.estimate_gaze(pose, face3d, eye3d[0], True)
        g1 = G.estimate_gaze(pose, face3d, eye3d[1], False)
        expected = np.array([cols[k][i] for k in GAZE_COLUMNS])
        assert np.abs(np.concatenate([g0, g1]) - expected[:6]).max() < 1e-6
        assert np.abs(G.gaze_angle(g0, g1) - expected[6:]).max() <= 0.0005 + 1e-6


def test_ray_missing_the_sphere_points_straight_ahead():
    out = G.ray_sphere_intersect(np.zeros(3), np.array([1.0, 0, 0]), np.array([0.0, 0, 500]), 12)
    np.testing.assert_array_equal(out, [0, 0, -1])
    hit = G.ray_sphere_intersect(np.zeros(3), np.array([0.0, 0, 1]), np.array([0.0, 0, 500]), 12)
    np.testing.assert_allclose(hit, [0, 0, 488], atol=1e-3)
