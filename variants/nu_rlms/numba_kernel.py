"""Numba NU-RLMS: the whole update loop compiled (shape, Jacobian, mean-shift, solve, update, clamp)."""

from __future__ import annotations

import numpy as np

from aubench.variants._jit import jit


@jit
def _euler_to_rotation(rx, ry, rz):
    s1, s2, s3 = np.sin(rx), np.sin(ry), np.sin(rz)
    c1, c2, c3 = np.cos(rx), np.cos(ry), np.cos(rz)
    r = np.empty((3, 3), np.float32)
    r[0, 0] = c2 * c3
    r[0, 1] = -c2 * s3
    r[0, 2] = s2
    r[1, 0] = c1 * s3 + c3 * s1 * s2
    r[1, 1] = c1 * c3 - s1 * s2 * s3
    r[1, 2] = -c2 * s1
    r[2, 0] = s1 * s3 - c1 * c3 * s2
    r[2, 1] = c3 * s1 + c1 * s2 * s3
    r[2, 2] = c1 * c2
    return r


@jit
def _rotation_to_euler(r):
    q0 = np.sqrt(1.0 + r[0, 0] + r[1, 1] + r[2, 2]) / 2.0
    q1 = (r[2, 1] - r[1, 2]) / (4.0 * q0)
    q2 = (r[0, 2] - r[2, 0]) / (4.0 * q0)
    q3 = (r[1, 0] - r[0, 1]) / (4.0 * q0)
    t1 = 2.0 * (q0 * q2 + q1 * q3)
    t1 = min(max(t1, -1.0), 1.0)
    yaw = np.arcsin(t1)
    pitch = np.arctan2(2.0 * (q0 * q1 - q2 * q3), q0 * q0 - q1 * q1 - q2 * q2 + q3 * q3)
    roll = np.arctan2(2.0 * (q0 * q3 - q1 * q2), q0 * q0 + q1 * q1 - q2 * q2 - q3 * q3)
    return pitch, yaw, roll


@jit
def cholesky_solve(a, b):
    """Solve ``a x = b`` for symmetric positive definite ``a`` (Cholesky, then two triangular sweeps)."""
    k = b.shape[0]
    chol = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1):
            acc = a[i, j]
            for p in range(j):
                acc -= chol[i, p] * chol[j, p]
            if i == j:
                chol[i, i] = np.sqrt(acc)
            else:
                chol[i, j] = acc / chol[j, j]
    y = np.empty(k)
    for i in range(k):
        acc = b[i]
        for j in range(i):
            acc -= chol[i, j] * y[j]
        y[i] = acc / chol[i, i]
    x = np.empty(k)
    for i in range(k - 1, -1, -1):
        acc = y[i]
        for j in range(i + 1, k):
            acc -= chol[j, i] * x[j]
        x[i] = acc / chol[i, i]
    return x


@jit
def update_parameters(g, loc, delta, rigid):
    """``PDM::UpdateModelParameters`` in place: add scale/translation (and local parameters when
    not rigid), compose the rotation with the orthonormalised small-angle step (in double,
    closed form instead of OpenCV's SVD)."""
    g[0] += delta[0]
    g[4] += delta[4]
    g[5] += delta[5]
    r1 = _euler_to_rotation(g[1], g[2], g[3]).astype(np.float64)
    # Orthonormalise(I + [w]x) by SVD is its polar factor: the rotation about w by atan(|w|)
    wx, wy, wz = np.float64(delta[1]), np.float64(delta[2]), np.float64(delta[3])
    theta = np.sqrt(wx * wx + wy * wy + wz * wz)
    r2 = np.eye(3)
    if theta > 0:
        ux, uy, uz = wx / theta, wy / theta, wz / theta
        c = 1.0 / np.sqrt(1.0 + theta * theta)
        s = theta * c
        v = 1.0 - c
        r2[0, 0] = c + v * ux * ux
        r2[0, 1] = v * ux * uy - s * uz
        r2[0, 2] = v * ux * uz + s * uy
        r2[1, 0] = v * uy * ux + s * uz
        r2[1, 1] = c + v * uy * uy
        r2[1, 2] = v * uy * uz - s * ux
        r2[2, 0] = v * uz * ux - s * uy
        r2[2, 1] = v * uz * uy + s * ux
        r2[2, 2] = c + v * uz * uz
    r3 = np.dot(r1, r2)
    pitch, yaw, roll = _rotation_to_euler(r3)
    if np.isnan(pitch) or np.isnan(yaw) or np.isnan(roll):
        pitch, yaw, roll = 0.0, 0.0, 0.0
    g[1] = pitch
    g[2] = yaw
    g[3] = roll
    if not rigid:
        for j in range(loc.shape[0]):
            loc[j] += delta[6 + j]


@jit
def _shape_2d(mean, pc, loc, g):
    n = mean.shape[0] // 3
    s3 = mean + np.dot(pc, loc)
    r = _euler_to_rotation(g[1], g[2], g[3])
    out = np.empty((n, 2), np.float32)
    for i in range(n):
        x, y, z = s3[i], s3[i + n], s3[i + 2 * n]
        out[i, 0] = g[0] * (r[0, 0] * x + r[0, 1] * y + r[0, 2] * z) + g[4]
        out[i, 1] = g[0] * (r[1, 0] * x + r[1, 1] * y + r[1, 2] * z) + g[5]
    return out, s3, r


@jit
def _loop(mean, pc, ev, responses, base, i2r, r2i, visible, weights, reg_diag, table, steps, g_in, l_in, rigid,
          max_iterations, threshold):
    n = mean.shape[0] // 3
    m = pc.shape[1]
    w = responses.shape[1]
    half = np.float32((w - 1) // 2)
    step = np.float32(0.1)
    top = np.float32(w) - step
    k = 6 if rigid else 6 + m
    g = g_in.copy()
    loc = l_in.copy()
    limits = np.float32(3.0) * np.sqrt(ev)
    previous = np.zeros((n, 2), np.float32)
    dxs = np.zeros(n, np.float32)
    dys = np.zeros(n, np.float32)
    jac = np.zeros((2 * n, k), np.float32)
    ms = np.zeros(2 * n, np.float32)
    jac64 = np.empty((2 * n, k), np.float64)
    jw = np.empty((2 * n, k), np.float64)
    ms64 = np.empty(2 * n, np.float64)
    w64 = weights.astype(np.float64)
    updates = 0
    converged = False
    for it in range(max_iterations):
        shape, s3, r = _shape_2d(mean, pc, loc, g)
        if it > 0:
            change = 0.0
            for i in range(n):
                for c in range(2):
                    d = np.float64(shape[i, c]) - np.float64(previous[i, c])
                    change += d * d
            if np.sqrt(change) < threshold:
                converged = True
                break
        previous[:, :] = shape
        s = g[0]
        # Jacobian (x rows then y rows), invisible rows zero
        for i in range(n):
            if not visible[i]:
                for j in range(k):
                    jac[i, j] = 0
                    jac[i + n, j] = 0
                continue
            x, y, z = s3[i], s3[i + n], s3[i + 2 * n]
            jac[i, 0] = x * r[0, 0] + y * r[0, 1] + z * r[0, 2]
            jac[i + n, 0] = x * r[1, 0] + y * r[1, 1] + z * r[1, 2]
            jac[i, 1] = s * (y * r[0, 2] - z * r[0, 1])
            jac[i + n, 1] = s * (y * r[1, 2] - z * r[1, 1])
            jac[i, 2] = -s * (x * r[0, 2] - z * r[0, 0])
            jac[i + n, 2] = -s * (x * r[1, 2] - z * r[1, 0])
            jac[i, 3] = s * (x * r[0, 1] - y * r[0, 0])
            jac[i + n, 3] = s * (x * r[1, 1] - y * r[1, 0])
            jac[i, 4] = 1.0
            jac[i + n, 4] = 0.0
            jac[i, 5] = 0.0
            jac[i + n, 5] = 1.0
            if not rigid:
                for j in range(m):
                    vx, vy, vz = pc[i, j], pc[i + n, j], pc[i + 2 * n, j]
                    jac[i, 6 + j] = s * (r[0, 0] * vx + r[0, 1] * vy + r[0, 2] * vz)
                    jac[i + n, 6 + j] = s * (r[1, 0] * vx + r[1, 1] * vy + r[1, 2] * vz)
        # positions in the response maps and mean-shift on the 0.1-cell grid
        for i in range(n):
            ox = np.float64(shape[i, 0] - base[i, 0])
            oy = np.float64(shape[i, 1] - base[i, 1])
            dxs[i] = np.float32(ox * i2r[0, 0] + oy * i2r[0, 1]) + half
            dys[i] = np.float32(ox * i2r[1, 0] + oy * i2r[1, 1]) + half
            ms[i] = 0
            ms[i + n] = 0
            if not visible[i]:
                continue
            dx = min(max(dxs[i], np.float32(0)), top)
            dy = min(max(dys[i], np.float32(0)), top)
            idx = int(np.float64(dx / step) + 0.5) * steps + int(np.float64(dy / step) + 0.5)
            mx = np.float32(0)
            my = np.float32(0)
            tot = np.float32(0)
            q = 0
            for ii in range(w):
                for jj in range(w):
                    v = responses[i, ii, jj] * table[idx, q]
                    q += 1
                    tot += v
                    mx += v * np.float32(jj)
                    my += v * np.float32(ii)
            msx = np.float64(mx / tot - dx)
            msy = np.float64(my / tot - dy)
            ms[i] = np.float32(msx * r2i[0, 0] + msy * r2i[0, 1])
            ms[i + n] = np.float32(msx * r2i[1, 0] + msy * r2i[1, 1])
        # normal equations in double, solved by Cholesky
        for r in range(2 * n):  # the same double values as jac.astype(float64) (* weights), without temporaries
            wr = w64[r]
            for j in range(k):
                v = np.float64(jac[r, j])
                jac64[r, j] = v
                jw[r, j] = v * wr
            ms64[r] = ms[r]
        hess = np.dot(jw.T, jac64)
        rhs = np.dot(jw.T, ms64)
        for j in range(k):
            hess[j, j] += reg_diag[j]
            if j >= 6:
                rhs[j] -= np.float64(reg_diag[j]) * np.float64(loc[j - 6])
        delta = cholesky_solve(hess, rhs).astype(np.float32)
        update_parameters(g, loc, delta, rigid)
        # PDM::Clamp (+-3 standard deviations)
        for j in range(m):
            if abs(loc[j]) > limits[j]:
                loc[j] = limits[j] if loc[j] > 0 else -limits[j]
        updates += 1
    return g, loc, updates, converged, dxs, dys


def nu_rlms(pdm, responses, base_shape, sim_img_to_ref, sim_ref_to_img, visible, weights, reg_diag, kde,
            params_global, params_local, rigid, max_iterations, convergence_threshold, mean_shift, record=None):
    """Same contract as the reference, one compiled loop; the mean-shift is fused in (the given
    ``mean_shift`` kernel is not called), the rotation update is done in double without the
    Rodrigues round trip, and ``record`` is not supported (use the reference for traces)."""
    if record is not None:
        raise ValueError("nu_rlms=numba does not record intermediates; use the reference variant for traces")
    g, loc, updates, converged, dxs, dys = _loop(
        pdm.mean_shape, np.ascontiguousarray(pdm.princ_comp), pdm.eigen_values,
        np.ascontiguousarray(responses, np.float32), np.ascontiguousarray(base_shape, np.float32),
        np.ascontiguousarray(sim_img_to_ref, np.float64), np.ascontiguousarray(sim_ref_to_img, np.float64),
        np.ascontiguousarray(visible, np.bool_), np.ascontiguousarray(weights, np.float32),
        np.ascontiguousarray(reg_diag, np.float32), kde.table, kde.steps,
        np.asarray(params_global, np.float32), np.asarray(params_local, np.float32), bool(rigid),
        int(max_iterations), float(convergence_threshold))
    if updates == 0:
        return g, loc, 0, converged, None, None
    return g, loc, updates, converged, dxs, dys
