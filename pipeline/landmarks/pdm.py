"""Point distribution model operations, as OpenFace's ``PDM.cpp`` computes them.

The shape model: a 3D shape is ``mean_shape + princ_comp @ params_local`` (mm) and
its image is the weak-perspective projection
``x = s * R[0] . (X, Y, Z) + t_x``, ``y = s * R[1] . (X, Y, Z) + t_y`` with
``params_global = [s, rot_x, rot_y, rot_z, t_x, t_y]`` (Euler XYZ, ``R = Rx Ry Rz``,
:func:`euler_to_rotation`).

Conventions
-----------
* ``params_global``: (6,) float32; ``params_local``: (m,) float32.
* Landmarks: (n, 2) float32 ``[x, y]`` image pixels. OpenFace's internal (2n, 1)
  column ``[x_0..x_{n-1}, y_0..y_{n-1}]`` is ``landmarks.T.reshape(-1)``; Jacobian rows
  follow that order (all x rows, then all y rows).
* Arithmetic is float32 wherever OpenFace's is (it converts the model to float on
  reading). Products OpenCV evaluates with its own small-matrix ``gemm`` accumulate in
  double (:func:`_gemm_small`); those it hands to OpenBLAS (``sgemm_``, and ``cv::gemm``
  with 100 or more result rows) are float32 BLAS products. The orthonormalisation,
  Rodrigues conversions and the Cholesky solve call the same OpenCV routines.

Every function is pure: the model is read-only and inputs are never modified.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from aubench.pipeline.models.pdm import PDMModel

F32 = np.float32


# ---------------------------------------------------------------------------
# small numeric helpers that mirror how OpenCV evaluates products
# ---------------------------------------------------------------------------
def _gemm_small(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """float32 ``a @ b`` accumulated in double (OpenCV's own gemm for small float matrices)."""
    return (a.astype(np.float64) @ b.astype(np.float64)).astype(F32)


def _matx33_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``cv::Matx33f * cv::Matx33f``: float32 products summed left to right in float32."""
    a = a.astype(F32)
    b = b.astype(F32)
    out = a[:, 0:1] * b[0:1, :]
    out = out + a[:, 1:2] * b[1:2, :]
    out = out + a[:, 2:3] * b[2:3, :]
    return out


def euler_to_rotation(euler) -> np.ndarray:
    """``RotationHelpers.h::Euler2RotationMatrix``: (3,) radians -> (3, 3) float32, ``R = Rx Ry Rz``."""
    e = np.asarray(euler, dtype=F32).reshape(3)
    s1, s2, s3 = np.sin(e)
    c1, c2, c3 = np.cos(e)
    return np.array(
        [
            [c2 * c3, -c2 * s3, s2],
            [c1 * s3 + c3 * s1 * s2, c1 * c3 - s1 * s2 * s3, -c2 * s1],
            [s1 * s3 - c1 * c3 * s2, c3 * s1 + c1 * s2 * s3, c1 * c2],
        ],
        dtype=F32,
    )


def rotation_to_euler(rotation: np.ndarray) -> np.ndarray:
    """``RotationHelpers.h::RotationMatrix2Euler`` (via a quaternion, float32): (3, 3) -> (3,)."""
    r = np.asarray(rotation, dtype=F32)
    one, two, four = F32(1), F32(2), F32(4)
    q0 = np.sqrt(one + r[0, 0] + r[1, 1] + r[2, 2]) / two
    q1 = (r[2, 1] - r[1, 2]) / (four * q0)
    q2 = (r[0, 2] - r[2, 0]) / (four * q0)
    q3 = (r[1, 0] - r[0, 1]) / (four * q0)
    t1 = F32(np.clip(two * (q0 * q2 + q1 * q3), -one, one))
    yaw = np.arcsin(t1)
    pitch = np.arctan2(two * (q0 * q1 - q2 * q3), q0 * q0 - q1 * q1 - q2 * q2 + q3 * q3)
    roll = np.arctan2(two * (q0 * q3 - q1 * q2), q0 * q0 + q1 * q1 - q2 * q2 - q3 * q3)
    return np.array([pitch, yaw, roll], dtype=F32)


def axis_angle_to_euler(axis_angle: np.ndarray) -> np.ndarray:
    """``RotationHelpers.h::AxisAngle2Euler`` (cv::Rodrigues then :func:`rotation_to_euler`)."""
    rot, _ = cv2.Rodrigues(np.asarray(axis_angle, dtype=F32).reshape(3, 1))
    return rotation_to_euler(rot)


def rotation_to_axis_angle(rotation: np.ndarray) -> np.ndarray:
    """``RotationHelpers.h::RotationMatrix2AxisAngle`` (cv::Rodrigues, float32)."""
    aa, _ = cv2.Rodrigues(np.ascontiguousarray(rotation, dtype=F32))
    return aa.reshape(3)


def euler_to_axis_angle(euler) -> np.ndarray:
    """``RotationHelpers.h::Euler2AxisAngle``."""
    return rotation_to_axis_angle(euler_to_rotation(euler))


def orthonormalise(rotation: np.ndarray) -> np.ndarray:
    """``PDM::Orthonormalise``: nearest rotation (SVD, determinant forced to +1), float32."""
    _, u, vt = cv2.SVDecomp(np.ascontiguousarray(rotation, dtype=F32))
    x = _gemm_small(u, vt)
    w = np.eye(3, dtype=F32)
    w[2, 2] = F32(np.linalg.det(x.astype(np.float64)))
    return _gemm_small(_gemm_small(u, w), vt)


# ---------------------------------------------------------------------------
# shapes
# ---------------------------------------------------------------------------
def _as_local(pdm: PDMModel, params_local) -> np.ndarray:
    if params_local is None:
        return np.zeros(pdm.n_modes, dtype=F32)
    p = np.asarray(params_local, dtype=F32).reshape(-1)
    if p.shape[0] != pdm.n_modes:
        raise ValueError(f"params_local must have {pdm.n_modes} values for {pdm.path.name}, got {p.shape[0]}")
    return p


def _as_global(params_global) -> np.ndarray:
    g = np.asarray(params_global, dtype=F32).reshape(-1)
    if g.shape[0] != 6:
        raise ValueError(f"params_global must have 6 values [s, rx, ry, rz, tx, ty], got {g.shape[0]}")
    return g


def calc_shape_3d(pdm: PDMModel, params_local=None) -> np.ndarray:
    """``PDM::CalcShape3D``: (3n,) float32 ``[X.., Y.., Z..]`` = mean + princ_comp @ params_local (sgemm)."""
    p = _as_local(pdm, params_local)
    return (pdm.mean_shape + pdm.princ_comp @ p).astype(F32)


def _project(shape_3d: np.ndarray, rot: np.ndarray, s, tx, ty) -> np.ndarray:
    # x = s * (r00 X + r01 Y + r02 Z) + tx (and y with row 1), float32 operations in that order;
    # both rows at once (half the NumPy calls of one row at a time, the same roundings)
    n = shape_3d.shape[0] // 3
    xyz = np.asarray(shape_3d, F32).reshape(3, n)
    r = np.asarray(rot, F32)[:2]
    xy = r[:, 0:1] * xyz[0] + r[:, 1:2] * xyz[1] + r[:, 2:3] * xyz[2]
    xy *= F32(s)
    xy += np.array([tx, ty], F32)[:, None]
    return np.ascontiguousarray(xy.T)


def calc_shape_2d(pdm: PDMModel, params_global, params_local=None) -> np.ndarray:
    """``PDM::CalcShape2D``: (n, 2) float32 image landmarks for the given parameters.

    Parameters
    ----------
    params_global : (6,) ``[scale, rot_x, rot_y, rot_z, t_x, t_y]``
    params_local : (m,) non-rigid parameters (zeros when None).
    """
    return project_shape(calc_shape_3d(pdm, params_local), params_global)


def project_shape(shape_3d: np.ndarray, params_global) -> np.ndarray:
    """The (n, 2) float32 image landmarks of a :func:`calc_shape_3d` shape under ``params_global``
    (the second half of :func:`calc_shape_2d`, for several projections of one shape)."""
    g = _as_global(params_global)
    return _project(shape_3d, euler_to_rotation(g[1:4]), g[0], g[4], g[5])


def extract_bounding_box(landmarks: np.ndarray) -> tuple[float, float, float, float]:
    """``LandmarkDetectorUtils::ExtractBoundingBox``: (min_x, max_x, min_y, max_y) of (n, 2) points."""
    lm = np.asarray(landmarks, dtype=F32)
    return float(lm[:, 0].min()), float(lm[:, 0].max()), float(lm[:, 1].min()), float(lm[:, 1].max())


def calc_bounding_box(pdm: PDMModel, params_global, params_local=None) -> tuple[float, float, float, float]:
    """``PDM::CalcBoundingBox``: ``(x, y, width, height)`` (float32 values) of the projected shape."""
    min_x, max_x, min_y, max_y = extract_bounding_box(calc_shape_2d(pdm, params_global, params_local))
    return min_x, min_y, float(F32(abs(min_x - max_x))), float(F32(abs(min_y - max_y)))


def calc_params_from_box(pdm: PDMModel, box_xywh, rotation=(0.0, 0.0, 0.0), params_local=None) -> np.ndarray:
    """``PDM::CalcParams(params_global, bounding_box, params_local, rotation)``: initial global params.

    Scales and places the (rotated) 3D shape so that its x/y extent fills the box
    (the box is meant to run from face outline to outline and chin to eyebrows).

    Returns
    -------
    (6,) float32 ``[scale, rot_x, rot_y, rot_z, t_x, t_y]``
    """
    bx, by, bw, bh = (F32(v) for v in np.asarray(box_xywh, dtype=np.float64).reshape(4))
    rot_in = np.asarray(rotation, dtype=F32).reshape(3)
    n = pdm.n_points
    shape_3d = calc_shape_3d(pdm, params_local).reshape(3, n)
    rotated = _gemm_small(euler_to_rotation(rot_in), shape_3d)
    # minMaxLoc reports doubles; the extent is then stored as float
    min_x, max_x = float(rotated[0].min()), float(rotated[0].max())
    min_y, max_y = float(rotated[1].min()), float(rotated[1].max())
    width = F32(abs(min_x - max_x))
    height = F32(abs(min_y - max_y))
    scaling = F32((bw / width + bh / height) / F32(2))
    tx = F32(bx + bw / F32(2))
    ty = F32(by + bh / F32(2))
    # correction mixes float and the double extent: evaluated in double, stored as float
    tx = F32(float(tx) - float(scaling) * (min_x + max_x) / 2.0)
    ty = F32(float(ty) - float(scaling) * (min_y + max_y) / 2.0)
    return np.array([scaling, rot_in[0], rot_in[1], rot_in[2], tx, ty], dtype=F32)


# ---------------------------------------------------------------------------
# Jacobians and parameter updates
# ---------------------------------------------------------------------------
def _rigid_columns(shape_3d: np.ndarray, rot: np.ndarray, s) -> tuple[np.ndarray, np.ndarray]:
    """(n, 6) x-rows and y-rows of the rigid Jacobian (small-angle rotation derivative)."""
    n = shape_3d.shape[0] // 3
    x3, y3, z3 = shape_3d[:n], shape_3d[n:2 * n], shape_3d[2 * n:]
    r = rot
    jx = np.empty((n, 6), dtype=F32)
    jy = np.empty((n, 6), dtype=F32)
    jx[:, 0] = x3 * r[0, 0] + y3 * r[0, 1] + z3 * r[0, 2]
    jy[:, 0] = x3 * r[1, 0] + y3 * r[1, 1] + z3 * r[1, 2]
    jx[:, 1] = s * (y3 * r[0, 2] - z3 * r[0, 1])
    jy[:, 1] = s * (y3 * r[1, 2] - z3 * r[1, 1])
    jx[:, 2] = -s * (x3 * r[0, 2] - z3 * r[0, 0])
    jy[:, 2] = -s * (x3 * r[1, 2] - z3 * r[1, 0])
    jx[:, 3] = s * (x3 * r[0, 1] - y3 * r[0, 0])
    jy[:, 3] = s * (x3 * r[1, 1] - y3 * r[1, 0])
    jx[:, 4] = 1.0
    jy[:, 4] = 0.0
    jx[:, 5] = 0.0
    jy[:, 5] = 1.0
    return jx, jy


def _weights(weights, n: int) -> np.ndarray | None:
    if weights is None:
        return None
    w = np.asarray(weights, dtype=F32).reshape(-1)
    if w.shape[0] != 2 * n:
        raise ValueError(f"weights must be the (2n,) = ({2 * n},) diagonal of W, got {w.shape[0]} values")
    return w


def compute_rigid_jacobian(pdm: PDMModel, params_global, params_local=None, weights=None):
    """``PDM::ComputeRigidJacobian``: Jacobian of the 2D shape over the 6 global parameters.

    Parameters
    ----------
    weights : (2n,) diagonal of the weight matrix W (x rows then y rows); None = identity.

    Returns
    -------
    jacobian : (2n, 6) float32
    jacobian_t_w : (6, 2n) float32, ``(W @ jacobian).T`` (always weighted, as the C++)
    """
    g = _as_global(params_global)
    shape_3d = calc_shape_3d(pdm, params_local)
    jx, jy = _rigid_columns(shape_3d, euler_to_rotation(g[1:4]), g[0])
    jac = np.concatenate([jx, jy], axis=0)
    w = _weights(weights, pdm.n_points)
    jac_w = jac if w is None else (jac * w[:, None]).astype(F32)
    return jac, np.ascontiguousarray(jac_w.T)


def compute_jacobian(pdm: PDMModel, params_global, params_local=None, weights=None):
    """``PDM::ComputeJacobian``: Jacobian over the 6 global and m local parameters.

    The weighted transpose is formed only when ``trace(W) != 2n`` (as the C++; an
    identity W gives the plain transpose).

    Returns
    -------
    jacobian : (2n, 6 + m) float32
    jacobian_t_w : (6 + m, 2n) float32
    """
    g = _as_global(params_global)
    p = _as_local(pdm, params_local)
    n, m = pdm.n_points, pdm.n_modes
    s = g[0]
    rot = euler_to_rotation(g[1:4])
    shape_3d = calc_shape_3d(pdm, p)
    jx, jy = _rigid_columns(shape_3d, rot, s)
    vx, vy, vz = pdm.princ_comp[:n], pdm.princ_comp[n:2 * n], pdm.princ_comp[2 * n:]
    nx = s * (rot[0, 0] * vx + rot[0, 1] * vy + rot[0, 2] * vz)
    ny = s * (rot[1, 0] * vx + rot[1, 1] * vy + rot[1, 2] * vz)
    jac = np.concatenate([np.concatenate([jx, nx], axis=1), np.concatenate([jy, ny], axis=1)], axis=0).astype(F32)
    w = _weights(weights, n)
    if w is not None and float(np.sum(w, dtype=np.float64)) != 2 * n:
        jac_t_w = np.ascontiguousarray((jac * w[:, None]).astype(F32).T)
    else:
        jac_t_w = np.ascontiguousarray(jac.T)
    assert jac.shape == (2 * n, 6 + m)
    return jac, jac_t_w


def update_model_parameters(delta_p, params_global, params_local=None):
    """``PDM::UpdateModelParameters``: apply a Gauss-Newton step.

    Scale and translation are added; the rotation step ``(wx, wy, wz)`` is composed as
    ``R1 @ orthonormalise(I + [w]_x)`` and converted back to Euler angles through an
    axis-angle (NaN angles become 0, as the C++'s "temporary fix"); local parameters
    are added when ``delta_p`` has more than 6 entries.

    Parameters
    ----------
    delta_p : (6,) or (6 + m,) float32
    params_global : (6,); params_local : (m,) or None

    Returns
    -------
    (params_global, params_local) : new float32 arrays (local is None when given None)
    """
    d = np.asarray(delta_p, dtype=F32).reshape(-1)
    g = _as_global(params_global).copy()
    g[0] = g[0] + d[0]
    g[4] = g[4] + d[4]
    g[5] = g[5] + d[5]
    r1 = euler_to_rotation(g[1:4])
    r2 = np.eye(3, dtype=F32)
    r2[2, 1] = d[1]
    r2[1, 2] = -d[1]
    r2[0, 2] = d[2]
    r2[2, 0] = -d[2]
    r2[1, 0] = d[3]
    r2[0, 1] = -d[3]
    r2 = orthonormalise(r2)
    r3 = _matx33_mul(r1, r2)
    euler = axis_angle_to_euler(rotation_to_axis_angle(r3))
    if np.any(np.isnan(euler)):
        euler = np.zeros(3, dtype=F32)
    g[1:4] = euler
    local = None
    if params_local is not None:
        local = np.asarray(params_local, dtype=F32).reshape(-1).copy()
        if d.shape[0] > 6:
            local = (local + d[6:6 + local.shape[0]]).astype(F32)
    return g, local


def clamp(pdm: PDMModel, params_local, params_global=None):
    """``PDM::Clamp``: local parameters limited to +-3 sqrt(eigenvalue); global ones unchanged.

    Returns the clamped (m,) float32 copy (and, when given, the global params unchanged,
    as OpenFace's pose limit is commented out).
    """
    p = _as_local(pdm, params_local).copy()
    limit = F32(3) * np.sqrt(pdm.eigen_values)
    p = np.where(np.abs(p) > limit, np.where(p > 0, limit, -limit), p).astype(F32)
    if params_global is None:
        return p
    return p, _as_global(params_global).copy()


# ---------------------------------------------------------------------------
# fitting parameters to landmarks
# ---------------------------------------------------------------------------
CALC_PARAMS_MAX_ITERATIONS = 1000
CALC_PARAMS_STEP = 0.75  # damping of each Gauss-Newton step
CALC_PARAMS_PATIENCE = 3  # total non-improving iterations before stopping (never reset)


def calc_params(pdm: PDMModel, landmarks, rotation=(0.0, 0.0, 0.0)):
    """``PDM::CalcParams(params_global, params_local, landmarks, rotation)``: fit the PDM to 2D points.

    Damped Gauss-Newton (step 0.75) on the projection error with Tikhonov
    regularisation ``1 / eigenvalue`` on the local parameters, from a bounding-box
    initialisation. Points whose x is exactly 0 are treated as invisible and left out.

    Notes
    -----
    Faithful to the C++ in two details that change results: the error that decides
    termination is computed with the *updated global* parameters but the *previous*
    local parameters' 3D shape; and the loop stops the third time (in total, the
    counter is never reset) the error fails to drop below 0.999 x the previous one,
    or after 1000 iterations.

    Parameters
    ----------
    landmarks : (n, 2) image points.
    rotation : (3,) initial Euler angles.

    Returns
    -------
    (params_global (6,) float32, params_local (m,) float32)
    """
    lm = np.asarray(landmarks, dtype=F32).reshape(-1, 2)
    n_all, m = pdm.n_points, pdm.n_modes
    if lm.shape[0] != n_all:
        raise ValueError(f"landmarks must be ({n_all}, 2) for {pdm.path.name}, got {lm.shape}")
    visible = lm[:, 0] != 0
    n = int(visible.sum())
    rows3 = np.concatenate([visible, visible, visible])
    mean_v = np.ascontiguousarray(pdm.mean_shape[rows3])
    pc_v = np.ascontiguousarray(pdm.princ_comp[rows3])
    sub = PDMModel(mean_v, pc_v, pdm.eigen_values, pdm.path)
    target = np.concatenate([lm[visible, 0], lm[visible, 1]]).astype(F32)  # (2n,) x.. then y..

    min_x, max_x, min_y, max_y = extract_bounding_box(lm[visible])
    width = F32(abs(min_x - max_x))
    height = F32(abs(min_y - max_y))
    _, _, model_w, model_h = calc_bounding_box(sub, np.array([1, 0, 0, 0, 0, 0], dtype=F32))
    scaling = F32((width / F32(model_w) + height / F32(model_h)) / F32(2))
    rot_init = np.asarray(rotation, dtype=F32).reshape(3).copy()
    rot = euler_to_rotation(rot_init)
    translation = np.array([(F32(min_x) + F32(max_x)) / F32(2), (F32(min_y) + F32(max_y)) / F32(2)], dtype=F32)

    loc = np.zeros(m, dtype=F32)
    glob = np.array([scaling, rot_init[0], rot_init[1], rot_init[2], translation[0], translation[1]], dtype=F32)

    def shape_2d(shape_3d: np.ndarray, rot: np.ndarray, s, t) -> np.ndarray:
        # scaling * shape_3D^T * R_2D^T (OpenCV small gemm, alpha folded in), then + t
        pts = shape_3d.reshape(3, n).T
        proj = (float(s) * (pts.astype(np.float64) @ rot[:2].T.astype(np.float64))).astype(F32)
        proj = proj + t[None, :]
        return np.concatenate([proj[:, 0], proj[:, 1]]).astype(F32)

    def norm(v: np.ndarray) -> F32:
        return F32(math.sqrt(float(np.sum(v.astype(np.float64) ** 2))))

    shape_3d = (mean_v + pc_v @ loc).astype(F32)
    curr_error = norm(_project(shape_3d, rot, scaling, translation[0], translation[1]).T.reshape(-1) - target)

    reg = np.zeros(6 + m, dtype=F32)
    reg[6:] = (F32(1) / pdm.eigen_values).astype(F32)
    hessian_reg = np.diag(reg).astype(F32)

    not_improved_in = 0
    for _ in range(CALC_PARAMS_MAX_ITERATIONS):
        shape_3d = (mean_v + pc_v @ loc).astype(F32)
        curr_2d = shape_2d(shape_3d, rot, scaling, translation)
        resid = (target - curr_2d).astype(F32)
        jac, jac_t = compute_jacobian(sub, glob, loc)
        jtr = _gemm_small(jac_t, resid[:, None]).reshape(-1)
        jtr[6:] = jtr[6:] - (reg[6:] * loc).astype(F32)
        hessian = (hessian_reg + jac_t @ jac).astype(F32)  # sgemm with beta = 1
        ok, update = cv2.solve(hessian, jtr[:, None].astype(F32), flags=cv2.DECOMP_CHOLESKY)
        update = (F32(CALC_PARAMS_STEP) * update.reshape(-1)).astype(F32)
        glob, loc = update_model_parameters(update, glob, loc)

        scaling = glob[0]
        rot = euler_to_rotation(glob[1:4])
        translation = glob[4:6].copy()
        # the C++ measures the new error with the new pose but the old 3D shape
        curr_2d = shape_2d(shape_3d, rot, scaling, translation)
        error = norm(curr_2d - target)
        if 0.999 * float(curr_error) < float(error):  # double comparison, as in C++
            not_improved_in += 1
            if not_improved_in == CALC_PARAMS_PATIENCE:
                break
        curr_error = error

    return glob.astype(F32), loc.astype(F32)


def landmarks_to_column(landmarks: np.ndarray) -> np.ndarray:
    """(n, 2) -> OpenFace's (2n,) ``[x.., y..]`` column."""
    return np.asarray(landmarks, dtype=F32).T.reshape(-1)


def column_to_landmarks(column: np.ndarray) -> np.ndarray:
    """OpenFace's (2n,) ``[x.., y..]`` column -> (n, 2)."""
    c = np.asarray(column, dtype=F32).reshape(-1)
    return np.ascontiguousarray(c.reshape(2, -1).T)
