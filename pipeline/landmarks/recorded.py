"""Landmarks recovered from an OpenFace CSV to better than the CSV's rounding.

OpenFace writes ``x_i, y_i`` to 0.1 px and the PDM parameters ``p_*`` to 0.001
(``RecorderCSV``), so a CSV row is up to 0.05 px away from the landmarks C++'s
FaceAnalyser saw; FHOG of the aligned face is sensitive enough to that for the
CSV-driven AU check to stall at a HOG correlation of ~0.997. The landmarks C++ used are,
however, exactly a PDM shape: ``CLNF::DetectLandmarks`` ends with ``PDM::CalcShape2D``
of the final parameters (after the part models are merged and refitted). And the CSV
records that shape three ways, each rounded on its own:

* ``x_i, y_i`` (0.1 px): the shape;
* ``p_scale .. p_ty, p_0 ..`` (0.001): its parameters;
* ``X_i, Y_i, Z_i`` (0.1 mm), when written: ``CLNF::GetShape``, i.e.
  ``Z_i = fx / scale + (R S_i)_z``, ``X_i = Z_i (x_i - cx) / fx``, ``Y_i = Z_i (y_i - cy) / fy``
  with the unrounded ``x_i, y_i`` and the camera intrinsics of the run.

:func:`unround` finds the parameters that explain all of them, each residual weighted by
its rounding's standard deviation (step / sqrt(12)), by Gauss-Newton in float64, and
returns their shape. The intrinsics are not in the CSV; :func:`estimate_intrinsics`
recovers them from the rows themselves (``X/Z`` is linear in ``x``). On the three traced
frames of default.wmv, where C++'s unrounded landmarks were dumped, the RMS error goes
from 0.028-0.030 px (the CSV) to 0.001-0.007 px (2D and parameters) and 0.0007-0.005 px
(with 3D); see ``tests/pipeline/landmarks/test_recorded.py``.

A row whose records do not describe one PDM shape (a CSV from another model or tool, or
edited by hand) is recognised by the fit landing more than a rounding step away from a
recorded value; :func:`unround` then drops the 3D block, and if that is not enough
returns the recorded landmarks unchanged and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aubench.pipeline.landmarks.pose import CameraIntrinsics as Intrinsics
from aubench.pipeline.landmarks.pose import camera_intrinsics
from aubench.pipeline.models.pdm import PDMModel

# RecorderCSV's fixed precisions: landmarks 1 dp (px and mm), PDM parameters 3 dp
LANDMARK_STEP = 0.1
PARAM_STEP = 0.001


def _rotation(e: np.ndarray) -> np.ndarray:
    """Euler angles -> R = Rx Ry Rz (OpenFace's convention), float64."""
    s1, s2, s3 = np.sin(e)
    c1, c2, c3 = np.cos(e)
    return np.array([
        [c2 * c3, -c2 * s3, s2],
        [c1 * s3 + c3 * s1 * s2, c1 * c3 - s1 * s2 * s3, -c2 * s1],
        [s1 * s3 - c1 * c3 * s2, c3 * s1 + c1 * s2 * s3, c1 * c2],
    ])


class RecordShape:
    """What a (6 + m,) parameter vector predicts for a CSV row, and its Jacobian, in float64.

    Built once per PDM and passed to :func:`unround` (``shape=``) when unrounding many rows."""

    def __init__(self, pdm: PDMModel):
        n = pdm.n_points
        self.n = n
        self.m = pdm.n_modes
        self.mean = pdm.mean_shape.astype(np.float64).reshape(3, n)
        self.modes = pdm.princ_comp.astype(np.float64).reshape(3, n, -1)

    def predict(self, p: np.ndarray, camera: Intrinsics | None, shape_3d: np.ndarray | None = None) -> np.ndarray:
        """[x (n), y (n)] and, with a camera, [X (n), Y (n), Z (n)] as ``CLNF::GetShape``.

        ``shape_3d``: the (3, n) PDM shape of ``p[6:]`` when already known."""
        shape_3d = self.mean + self.modes @ p[6:] if shape_3d is None else shape_3d
        rotated = _rotation(p[1:4]) @ shape_3d
        x = p[0] * rotated[0] + p[4]
        y = p[0] * rotated[1] + p[5]
        if camera is None:
            return np.concatenate([x, y])
        z = camera.fx / p[0] + rotated[2]
        return np.concatenate([x, y, z * (x - camera.cx) / camera.fx, z * (y - camera.cy) / camera.fy, z])

    def jacobian(self, p: np.ndarray, camera: Intrinsics | None) -> np.ndarray:
        """d predict / dp: global columns by central differences, local ones analytically."""
        n = self.n
        rows = 5 * n if camera is not None else 2 * n
        jac = np.empty((rows, 6 + self.m))
        shape_3d = self.mean + self.modes @ p[6:]  # the global columns leave it as it is
        for k, h in enumerate((1e-7, 1e-7, 1e-7, 1e-7, 1e-4, 1e-4)):
            up, down = p.copy(), p.copy()
            up[k] += h
            down[k] -= h
            jac[:, k] = (self.predict(up, camera, shape_3d) - self.predict(down, camera, shape_3d)) / (2 * h)
        rot = _rotation(p[1:4])
        d_rot = np.einsum("ij,jnm->inm", rot, self.modes)  # (3, n, m): d rotated / d local
        dx, dy = p[0] * d_rot[0], p[0] * d_rot[1]
        jac[:n, 6:], jac[n:2 * n, 6:] = dx, dy
        if camera is not None:
            rotated = rot @ shape_3d
            x = p[0] * rotated[0] + p[4]
            y = p[0] * rotated[1] + p[5]
            z = camera.fx / p[0] + rotated[2]
            dz = d_rot[2]
            jac[2 * n:3 * n, 6:] = (dz * (x - camera.cx)[:, None] + z[:, None] * dx) / camera.fx
            jac[3 * n:4 * n, 6:] = (dz * (y - camera.cy)[:, None] + z[:, None] * dy) / camera.fy
            jac[4 * n:, 6:] = dz
        return jac


@dataclass(frozen=True)
class Unrounded:
    """What :func:`unround` made of one CSV row."""

    landmarks: np.ndarray   # (n, 2) float32
    params_global: np.ndarray  # (6,) float64
    params_local: np.ndarray   # (m,) float64
    max_shift_px: float     # largest |result - recorded landmark|
    used: bool              # False: the row is not one PDM shape; landmarks are the recorded ones
    used_3d: bool           # the 3D landmarks took part


def _fit(shape: RecordShape, target: np.ndarray, p0: np.ndarray, camera: Intrinsics | None,
         landmark_step: float, param_step: float, iterations: int) -> np.ndarray:
    wl = 1.0 / (landmark_step / np.sqrt(12.0)) ** 2
    wp = 1.0 / (param_step / np.sqrt(12.0)) ** 2
    p = p0.copy()
    eye = np.eye(p.shape[0])
    for _ in range(iterations):
        jac = shape.jacobian(p, camera)
        r = target - shape.predict(p, camera)
        step = np.linalg.solve(wl * jac.T @ jac + wp * eye, wl * jac.T @ r - wp * (p - p0))
        p += step
        if np.abs(step).max() < 1e-10:
            break
    return p


def unround(pdm: PDMModel, landmarks, params_global, params_local, *, landmarks_3d=None,
            camera: Intrinsics | None = None, landmark_step: float = LANDMARK_STEP,
            param_step: float = PARAM_STEP, tolerance: float | None = None, iterations: int = 6,
            shape: RecordShape | None = None) -> Unrounded:
    """The PDM shape that best explains a CSV row's rounded records.

    Parameters
    ----------
    landmarks : (n, 2) the row's ``x_i, y_i``
    params_global : (6,) ``p_scale, p_rx, p_ry, p_rz, p_tx, p_ty``
    params_local : (m,) ``p_0 .. p_{m-1}``
    landmarks_3d, camera : (n, 3) the row's ``X_i, Y_i, Z_i`` and the run's intrinsics
        (:func:`estimate_intrinsics`); both or neither.
    landmark_step, param_step : the rounding steps the CSV was written with.
    tolerance : the largest |fitted - recorded| (px or mm) a consistent row may show; default
        one step (rounding moves a value up to half a step and the fit's own error adds
        ~0.02: the three reference clips peak at 0.067).
    """
    shape = shape or RecordShape(pdm)
    tolerance = landmark_step if tolerance is None else tolerance
    recorded = np.asarray(landmarks, dtype=np.float64).reshape(-1, 2)
    p0 = np.concatenate([np.asarray(params_global, np.float64).reshape(6),
                         np.asarray(params_local, np.float64).reshape(-1)])
    kept = Unrounded(recorded.astype(np.float32), p0[:6], p0[6:], 0.0, False, False)
    if (recorded.shape[0] != shape.n or p0.shape[0] != 6 + shape.m or not np.all(np.isfinite(p0))
            or not np.all(np.isfinite(recorded)) or p0[0] <= 0):
        return kept
    target_2d = recorded.T.reshape(-1)
    if landmarks_3d is not None and camera is not None:
        pts = np.asarray(landmarks_3d, np.float64).reshape(-1, 3)
        if pts.shape[0] == shape.n and np.all(np.isfinite(pts)):
            target = np.concatenate([target_2d, pts.T.reshape(-1)])
            p = _fit(shape, target, p0, camera, landmark_step, param_step, iterations)
            err = np.abs(shape.predict(p, camera) - target)
            if np.all(np.isfinite(err)) and err.max() <= tolerance:
                fitted = shape.predict(p, None).reshape(2, -1).T
                return Unrounded(fitted.astype(np.float32), p[:6], p[6:], float(err[:2 * shape.n].max()), True, True)
    p = _fit(shape, target_2d, p0, None, landmark_step, param_step, iterations)
    fitted = shape.predict(p, None).reshape(2, -1).T
    shift = float(np.abs(fitted - recorded).max())
    if not np.isfinite(shift) or shift > tolerance:
        return Unrounded(kept.landmarks, kept.params_global, kept.params_local, shift, False, False)
    return Unrounded(fitted.astype(np.float32), p[:6], p[6:], shift, True, False)


def estimate_intrinsics(landmarks: np.ndarray, landmarks_3d: np.ndarray,
                        image_size: tuple[int, int] | None = None) -> Intrinsics | None:
    """The camera a CSV's 3D landmarks were made with, from ``X/Z = (x - cx)/fx`` over its rows.

    ``landmarks`` (rows, n, 2) ``x, y``; ``landmarks_3d`` (rows, n, 3) ``X, Y, Z``. Rows with
    Z <= 0 (not tracked) are skipped. None when fewer than 8 points remain or the fit is not
    a camera (non-positive focal length, residual beyond the CSV's rounding).

    ``image_size`` (width, height): when the estimate is within 0.5 px of OpenFace's default
    camera for that size (:func:`aubench.pipeline.landmarks.pose.camera_intrinsics`), that camera
    exactly. A few rows pin fx only to ~0.05 px, and fx sets the depth Z = fx / scale that
    decides the fitted scale, so the default's exact value matters for images and short clips.
    """
    xy = np.asarray(landmarks, np.float64).reshape(-1, 2)
    xyz = np.asarray(landmarks_3d, np.float64).reshape(-1, 3)
    if xy.shape[0] != xyz.shape[0]:
        return None
    ok = np.all(np.isfinite(xyz), axis=1) & np.all(np.isfinite(xy), axis=1) & (xyz[:, 2] > 1.0)
    if ok.sum() < 8:
        return None
    xy, xyz = xy[ok], xyz[ok]
    out = []
    for axis in (0, 1):
        ratio = xyz[:, axis] / xyz[:, 2]
        design = np.stack([xy[:, axis], np.ones(len(ratio))], axis=1)
        (a, b), *_ = np.linalg.lstsq(design, ratio, rcond=None)
        if not np.isfinite(a) or a <= 0:
            return None
        focal, centre = 1.0 / a, -b / a
        # a camera explains every point within the roundings (0.05 px, 0.05 mm at Z ~ 0.3-3 m)
        if np.abs(xy[:, axis] - (ratio * focal + centre)).max() > 1.0:
            return None
        out += [focal, centre]
    estimate = Intrinsics(fx=out[0], fy=out[2], cx=out[1], cy=out[3])
    if image_size is not None:
        default = camera_intrinsics(int(image_size[0]), int(image_size[1]))
        if max(abs(a - b) for a, b in zip(estimate, default)) <= 0.5:
            return default
    return estimate


def landmark_pdm(models_dir=None) -> PDMModel:
    """The PDM of the CLNF main model (``[landmarks] model_location``) that wrote the CSV's ``p_*``."""
    from aubench.pipeline.config import Config
    from aubench.pipeline.models import locate
    from aubench.pipeline.models.clnf_model import read_main_model
    from aubench.pipeline.models.pdm import read_pdm

    return read_pdm(read_main_model(locate(models_dir) / Config().landmarks.model_location).main.pdm)


def unround_all(pdm: PDMModel, landmarks: np.ndarray, params_global: np.ndarray, params_local: np.ndarray,
                landmarks_3d: np.ndarray | None = None, image_size: tuple[int, int] | None = None,
                **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """:func:`unround` for every row (the camera estimated from all rows when 3D landmarks are given).

    Returns ((rows, n, 2) float32 landmarks, (rows,) bool used)."""
    shape = RecordShape(pdm)
    camera = estimate_intrinsics(landmarks, landmarks_3d, image_size) if landmarks_3d is not None else None
    out = np.empty((len(landmarks), shape.n, 2), np.float32)
    used = np.zeros(len(landmarks), bool)
    for i in range(len(landmarks)):
        u = unround(pdm, landmarks[i], params_global[i], params_local[i], shape=shape, camera=camera,
                    landmarks_3d=None if camera is None else landmarks_3d[i], **kwargs)
        out[i], used[i] = u.landmarks, u.used
    return out, used
