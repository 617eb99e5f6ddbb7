"""Head pose and 3D landmarks in camera space, as OpenFace computes them.

* :func:`get_shape_3d` reproduces ``LandmarkDetectorModel.cpp::CLNF::GetShape``: the
  rotated PDM shape gives each point's depth offset around the weak-perspective mean
  depth ``fx / scale``; X and Y come from back-projecting the *2D landmarks* at that
  depth (mm, camera coordinates). These are the CSV's ``X_*, Y_*, Z_*`` (and, for the
  eye part models, ``eye_lmk_X/Y/Z_*``).
* :func:`get_pose` reproduces ``LandmarkDetectorFunc.cpp::GetPose``: ``cv::solvePnP``
  (iterative, from the weak-perspective estimate) of the PDM's 3D shape onto the 2D
  landmarks; returns ``[T_x, T_y, T_z (mm), rot_x, rot_y, rot_z (rad, Euler XYZ)]``,
  the CSV's ``pose_T*``, ``pose_R*``.
* :func:`camera_intrinsics` reproduces ``SequenceCapture::SetCameraIntrinsics`` defaults.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from aubench.pipeline.landmarks.pdm import (
    _gemm_small,
    _matx33_mul,
    axis_angle_to_euler,
    calc_shape_3d,
    euler_to_rotation,
    rotation_to_euler,
)
from aubench.pipeline.models.pdm import PDMModel

F32 = np.float32


class CameraIntrinsics(NamedTuple):
    """Pinhole intrinsics in pixels."""

    fx: float
    fy: float
    cx: float
    cy: float


def camera_intrinsics(width: int, height: int, fx: float = 0.0, fy: float = 0.0, cx: float = 0.0,
                      cy: float = 0.0) -> CameraIntrinsics:
    """``SequenceCapture::SetCameraIntrinsics``: given values, or OpenFace's defaults where 0.

    Defaults: ``cx, cy`` = image centre; ``fx = fy = mean(500 * width / 640, 500 * height / 480)``
    (500, 500, 320, 240 for 640x480). As in the C++, the optical centre defaults as a pair
    (when ``cx`` is 0) and so does the focal length (when ``fx`` is 0).
    """
    if cx == 0:
        cx, cy = F32(width) / F32(2), F32(height) / F32(2)
    if fx == 0:
        fx = F32(500) * (F32(width) / F32(640))
        fy = F32(500) * (F32(height) / F32(480))
        fx = (F32(fx) + F32(fy)) / F32(2)
        fy = fx
    return CameraIntrinsics(float(F32(fx)), float(F32(fy)), float(F32(cx)), float(F32(cy)))


def get_shape_3d(pdm: PDMModel, params_global, params_local, landmarks_2d, intrinsics: CameraIntrinsics) -> np.ndarray:
    """``CLNF::GetShape``: (n, 3) float32 camera-space landmarks in mm.

    Parameters
    ----------
    params_global : (6,); params_local : (m,) of this model
    landmarks_2d : (n, 2) the model's detected landmarks (px)
    """
    g = np.asarray(params_global, dtype=F32).reshape(6)
    lm = np.asarray(landmarks_2d, dtype=F32).reshape(-1, 2)
    n = pdm.n_points
    fx, fy, cx, cy = (F32(v) for v in intrinsics)
    shape = calc_shape_3d(pdm, params_local).reshape(3, n)
    rotated = _gemm_small(shape.T, euler_to_rotation(g[1:4]).T)  # (n, 3)
    z_avg = fx / g[0]
    z = (z_avg + rotated[:, 2]).astype(F32)
    x = z * ((lm[:, 0] - cx) / fx)
    y = z * ((lm[:, 1] - cy) / fy)
    return np.stack([x, y, z], axis=1).astype(F32)


def _pnp(pdm: PDMModel, params_global, params_local, landmarks_2d, intrinsics: CameraIntrinsics):
    g = np.asarray(params_global, dtype=F32).reshape(6)
    fx, fy, cx, cy = (F32(v) for v in intrinsics)
    # weak-perspective initial estimate; (1.0 / fx) is a double in the C++
    z0 = F32(fx / g[0])
    x0 = F32(float(g[4] - cx) * (1.0 / float(fx)) * float(z0))
    y0 = F32(float(g[5] - cy) * (1.0 / float(fy)) * float(z0))
    object_points = np.ascontiguousarray(calc_shape_3d(pdm, params_local).reshape(3, -1).T, dtype=F32)
    image_points = np.ascontiguousarray(np.asarray(landmarks_2d, dtype=F32).reshape(-1, 2))
    camera = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]], dtype=F32)
    rvec = np.array(g[1:4], dtype=F32).reshape(3, 1)
    tvec = np.array([x0, y0, z0], dtype=F32).reshape(3, 1)
    _, rvec, tvec = cv2.solvePnP(
        object_points, image_points, camera, None, rvec, tvec, useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE
    )
    return rvec.reshape(3).astype(F32), tvec.reshape(3).astype(F32)


def get_pose(pdm: PDMModel, params_global, params_local, landmarks_2d, intrinsics: CameraIntrinsics) -> np.ndarray:
    """``LandmarkDetectorFunc.cpp::GetPose``: (6,) float32 ``[Tx, Ty, Tz, rx, ry, rz]``.

    All zeros when there are no landmarks or the scale is 0 (as the C++).
    """
    g = np.asarray(params_global, dtype=F32).reshape(6)
    if landmarks_2d is None or np.size(landmarks_2d) == 0 or g[0] == 0:
        return np.zeros(6, dtype=F32)
    rvec, tvec = _pnp(pdm, g, params_local, landmarks_2d, intrinsics)
    euler = axis_angle_to_euler(rvec)
    return np.concatenate([tvec, euler]).astype(F32)


def get_pose_wrt_camera(pdm: PDMModel, params_global, params_local, landmarks_2d, intrinsics: CameraIntrinsics) -> np.ndarray:
    """``LandmarkDetectorFunc.cpp::GetPoseWRTCamera``: the pose with the rotation corrected
    for the direction from the camera to the head (useful for "looking at the camera")."""
    g = np.asarray(params_global, dtype=F32).reshape(6)
    if landmarks_2d is None or np.size(landmarks_2d) == 0 or g[0] == 0:
        return np.zeros(6, dtype=F32)
    rvec, t = _pnp(pdm, g, params_local, landmarks_2d, intrinsics)
    eul_x = np.arctan2(t[1], np.sqrt(t[0] * t[0] + t[2] * t[2]))
    eul_y = -np.arctan2(t[0], np.sqrt(t[1] * t[1] + t[2] * t[2]))
    camera_rotation = euler_to_rotation([eul_x, eul_y, 0])
    head_rotation, _ = cv2.Rodrigues(rvec.reshape(3, 1))
    corrected = rotation_to_euler(_matx33_mul(camera_rotation, head_rotation))
    return np.concatenate([t, corrected]).astype(F32)
