"""Numba ``PDM::CalcParams``: the damped Gauss-Newton loop compiled (double products, Cholesky solve)."""

from __future__ import annotations

import numpy as np

from aubench.variants._jit import jit
from aubench.variants.nu_rlms.numba_kernel import _euler_to_rotation, cholesky_solve, update_parameters


@jit
def _project(s3, n, r, s, tx, ty, out):
    # out = [x.., y..] of the weak-perspective projection, products in double then float
    for i in range(n):
        x, y, z = np.float64(s3[i]), np.float64(s3[i + n]), np.float64(s3[i + 2 * n])
        out[i] = np.float32(np.float64(s) * (x * r[0, 0] + y * r[0, 1] + z * r[0, 2])) + tx
        out[i + n] = np.float32(np.float64(s) * (x * r[1, 0] + y * r[1, 1] + z * r[1, 2])) + ty


@jit
def _fit(mean, pc, ev, target, rot0, model_w, model_h, min_x, max_x, min_y, max_y):
    n = mean.shape[0] // 3
    m = pc.shape[1]
    k = 6 + m
    width = np.float32(abs(min_x - max_x))
    height = np.float32(abs(min_y - max_y))
    scaling = np.float32((width / model_w + height / model_h) / np.float32(2))
    g = np.zeros(6, np.float32)
    g[0] = scaling
    g[1], g[2], g[3] = rot0[0], rot0[1], rot0[2]
    g[4] = (np.float32(min_x) + np.float32(max_x)) / np.float32(2)
    g[5] = (np.float32(min_y) + np.float32(max_y)) / np.float32(2)
    loc = np.zeros(m, np.float32)
    reg = (np.float32(1) / ev).astype(np.float64)
    cur = np.empty(2 * n, np.float32)
    s3 = mean + np.dot(pc, loc)
    r = _euler_to_rotation(g[1], g[2], g[3]).astype(np.float64)
    _project(s3, n, r, g[0], g[4], g[5], cur)
    err = 0.0
    for i in range(2 * n):
        d = np.float64(cur[i]) - np.float64(target[i])
        err += d * d
    curr_error = np.float32(np.sqrt(err))
    jac = np.zeros((2 * n, k), np.float64)
    not_improved = 0
    for _ in range(1000):
        s3 = mean + np.dot(pc, loc)
        r = _euler_to_rotation(g[1], g[2], g[3])
        rd = r.astype(np.float64)
        _project(s3, n, rd, g[0], g[4], g[5], cur)
        s = np.float64(g[0])
        for i in range(n):
            x, y, z = np.float64(s3[i]), np.float64(s3[i + n]), np.float64(s3[i + 2 * n])
            jac[i, 0] = x * rd[0, 0] + y * rd[0, 1] + z * rd[0, 2]
            jac[i + n, 0] = x * rd[1, 0] + y * rd[1, 1] + z * rd[1, 2]
            jac[i, 1] = s * (y * rd[0, 2] - z * rd[0, 1])
            jac[i + n, 1] = s * (y * rd[1, 2] - z * rd[1, 1])
            jac[i, 2] = -s * (x * rd[0, 2] - z * rd[0, 0])
            jac[i + n, 2] = -s * (x * rd[1, 2] - z * rd[1, 0])
            jac[i, 3] = s * (x * rd[0, 1] - y * rd[0, 0])
            jac[i + n, 3] = s * (x * rd[1, 1] - y * rd[1, 0])
            jac[i, 4] = 1.0
            jac[i + n, 4] = 0.0
            jac[i, 5] = 0.0
            jac[i + n, 5] = 1.0
            for j in range(m):
                vx, vy, vz = np.float64(pc[i, j]), np.float64(pc[i + n, j]), np.float64(pc[i + 2 * n, j])
                jac[i, 6 + j] = s * (rd[0, 0] * vx + rd[0, 1] * vy + rd[0, 2] * vz)
                jac[i + n, 6 + j] = s * (rd[1, 0] * vx + rd[1, 1] * vy + rd[1, 2] * vz)
        resid = (target - cur).astype(np.float64)
        rhs = np.dot(jac.T, resid)
        hess = np.dot(jac.T, jac)
        for j in range(6, k):
            rhs[j] -= reg[j - 6] * np.float64(loc[j - 6])
            hess[j, j] += reg[j - 6]
        delta = (np.float32(0.75) * cholesky_solve(hess, rhs).astype(np.float32)).astype(np.float32)
        update_parameters(g, loc, delta, False)
        # the C++ measures the new error with the new pose and the previous 3D shape
        r = _euler_to_rotation(g[1], g[2], g[3]).astype(np.float64)
        _project(s3, n, r, g[0], g[4], g[5], cur)
        err = 0.0
        for i in range(2 * n):
            d = np.float64(cur[i]) - np.float64(target[i])
            err += d * d
        error = np.float32(np.sqrt(err))
        if 0.999 * np.float64(curr_error) < np.float64(error):
            not_improved += 1
            if not_improved == 3:
                break
        curr_error = error
    return g, loc


def calc_params(pdm, landmarks, rotation=(0.0, 0.0, 0.0)):
    """Same contract as the reference; one compiled loop with double products and Cholesky solve."""
    lm = np.asarray(landmarks, np.float32).reshape(-1, 2)
    visible = lm[:, 0] != 0
    if visible.all():  # the usual case: the model's own arrays, no copies
        mean, pc, vis = pdm.mean_shape, pdm.princ_comp, lm
    else:
        rows3 = np.concatenate([visible, visible, visible])
        mean = np.ascontiguousarray(pdm.mean_shape[rows3])
        pc = np.ascontiguousarray(pdm.princ_comp[rows3])
        # read-only like the model's own arrays: one compiled specialisation (and one cache load) for both paths
        mean.setflags(write=False)
        pc.setflags(write=False)
        vis = lm[visible]
    target = np.ascontiguousarray(vis.T).reshape(-1)  # [x.., y..]
    n = len(vis)
    # the model's box at unit scale, no rotation, zero local parameters
    mx, my = mean[:n], mean[n:2 * n]
    model_w = np.float32(abs(mx.min() - mx.max()))
    model_h = np.float32(abs(my.min() - my.max()))
    g, loc = _fit(mean, pc, np.ascontiguousarray(pdm.eigen_values), target,
                  np.asarray(rotation, np.float32).reshape(3), model_w, model_h,
                  np.float32(vis[:, 0].min()), np.float32(vis[:, 0].max()),
                  np.float32(vis[:, 1].min()), np.float32(vis[:, 1].max()))
    return g, loc
