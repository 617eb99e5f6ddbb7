"""Eye gaze as OpenFace's GazeAnalyser computes it (``GazeEstimation.cpp``).

For each eye: the pupil is the mean of the first 8 (iris) points of the eye part
model's 3D landmarks (``CLNF::GetShape`` of the 28-point eye model,
:func:`aubench.pipeline.landmarks.pose.get_shape_3d`); the eyeball centre is the midpoint of
the eye corners of the main model's 3D landmarks (36/39 for the left eye, 42/45 for
the right) plus the head-rotated offset (0, -3.5, 7) mm; the gaze vector is the unit
vector from the eyeball centre to where the camera ray through the pupil meets a
12 mm sphere around that centre. The gaze angle averages the two vectors.

Units: camera coordinates in mm; vectors are unit length; angles in radians.
Arithmetic is float32 where the C++ uses ``cv::Point3f``.
"""

from __future__ import annotations

import math

import numpy as np

from aubench.pipeline.landmarks.pdm import _gemm_small, euler_to_rotation

F32 = np.float32

EYEBALL_RADIUS_MM = 12.0
EYEBALL_OFFSET_MM = (0.0, -3.5, 7.0)  # from the eye-corner midpoint, in head coordinates
IRIS_POINTS = 8  # the first 8 points of the eye model outline the iris
# eye corners in the 68-point model (left eye, right eye)
EYE_CORNERS = {True: (36, 39), False: (42, 45)}


def _normalise(v: np.ndarray) -> np.ndarray:
    """``Point3f / cv::norm(Point3f)``: norm in double, quotient rounded to float."""
    v64 = v.astype(np.float64)
    return (v64 / math.sqrt(float(np.dot(v64, v64)))).astype(F32)


def pupil_position(eye_landmarks_3d: np.ndarray) -> np.ndarray:
    """``GazeEstimation.cpp::GetPupilPosition``: (3,) mean of the 8 iris points (float32)."""
    iris = np.asarray(eye_landmarks_3d, dtype=F32).reshape(-1, 3)[:IRIS_POINTS]
    return iris.astype(np.float64).mean(axis=0).astype(F32)


def ray_sphere_intersect(ray_origin, ray_dir, sphere_centre, radius: float) -> np.ndarray:
    """``GazeEstimation.cpp::RaySphereIntersect`` (near intersection; float32).

    When the ray misses the sphere the C++ returns the point (0, 0, -1); kept. The
    C++ divides by ``2*a`` as ``/2*a``, which equals ``/(2a)`` only for a unit ray
    (always the case here).
    """
    o = np.asarray(ray_origin, dtype=F32)
    d = np.asarray(ray_dir, dtype=F32)
    c = np.asarray(sphere_centre, dtype=F32)
    r = F32(radius)
    a = d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
    b = F32(2) * d[0] * (o[0] - c[0]) + F32(2) * d[1] * (o[1] - c[1]) + F32(2) * d[2] * (o[2] - c[2])
    cc = (
        c[0] * c[0] + c[1] * c[1] + c[2] * c[2] + o[0] * o[0] + o[1] * o[1] + o[2] * o[2]
        + F32(-2) * (c[0] * o[0] + c[1] * o[1] + c[2] * o[2]) - r * r
    )
    disc = b * b - F32(4) * a * cc
    if disc < 0:
        return np.array([0, 0, -1], dtype=F32)
    t = (-b - np.sqrt(disc)) / F32(2) * a
    return (o + d * t).astype(F32)


def estimate_gaze(pose: np.ndarray, face_landmarks_3d: np.ndarray, eye_landmarks_3d: np.ndarray, left_eye: bool) -> np.ndarray:
    """``GazeEstimation.cpp::EstimateGaze``: (3,) unit gaze vector of one eye, camera coordinates.

    Parameters
    ----------
    pose : (6,) ``GetPose`` output ``[Tx, Ty, Tz, rx, ry, rz]`` (only the rotation is used)
    face_landmarks_3d : (68, 3) main model ``GetShape`` (mm)
    eye_landmarks_3d : (28, 3) that eye's part model ``GetShape`` (mm)
    left_eye : True for ``left_eye_28`` (CSV ``gaze_0``), False for ``right_eye_28`` (``gaze_1``)
    """
    rot = euler_to_rotation(np.asarray(pose, dtype=F32)[3:6])
    pupil = pupil_position(eye_landmarks_3d)
    ray_dir = _normalise(pupil)
    face = np.asarray(face_landmarks_3d, dtype=F32).reshape(-1, 3)
    i, j = EYE_CORNERS[bool(left_eye)]
    offset = _gemm_small(rot, np.array(EYEBALL_OFFSET_MM, dtype=F32).reshape(3, 1)).reshape(3)
    centre = ((face[i] + face[j]) / F32(2) + offset).astype(F32)
    axis = ray_sphere_intersect(np.zeros(3, F32), ray_dir, centre, EYEBALL_RADIUS_MM) - centre
    return _normalise(axis.astype(F32))


def gaze_angle(gaze_0: np.ndarray, gaze_1: np.ndarray) -> np.ndarray:
    """``GazeEstimation.cpp::GetGazeAngle``: (2,) ``[atan2(x, -z), atan2(y, -z)]`` of the mean vector."""
    g = ((np.asarray(gaze_0, dtype=F32) + np.asarray(gaze_1, dtype=F32)) / F32(2)).astype(F32)
    return np.array([math.atan2(float(g[0]), float(-g[2])), math.atan2(float(g[1]), float(-g[2]))], dtype=F32)


def angle_between_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle in degrees between vectors (rows), for parity reports; NaN where one is zero."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 3)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 3)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
