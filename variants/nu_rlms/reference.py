"""Plain NumPy NU-RLMS optimisation loop built on the PDM operations (the reference variant)."""

from __future__ import annotations

import cv2
import numpy as np

from aubench.pipeline.landmarks import pdm as pdm_ops


def _gemm(a, b):
    """float32 product accumulated in double (OpenCV's own gemm for small matrices)."""
    return (np.asarray(a, np.float64) @ np.asarray(b, np.float64)).astype(np.float32)


def nu_rlms(pdm, responses, base_shape, sim_img_to_ref, sim_ref_to_img, visible, weights, reg_diag, kde,
            params_global, params_local, rigid, max_iterations, convergence_threshold, mean_shift, record=None):
    """Plain NumPy loop over the PDM operations and the given ``mean_shift`` kernel; records the
    intermediates when asked (contract: :class:`aubench.pipeline.contracts.NuRlms`).
    """
    window = responses.shape[1]
    half = np.float32((window - 1) // 2)
    cur_global = np.asarray(params_global, np.float32).copy()
    cur_local = np.asarray(params_local, np.float32).copy()
    visible = np.asarray(visible, bool)
    vis2 = np.concatenate([visible, visible])
    sim_i2r_t = np.asarray(sim_img_to_ref, np.float32).T
    sim_r2i_t = np.asarray(sim_ref_to_img, np.float32).T
    base = np.asarray(base_shape, np.float32)
    reg_diag = np.asarray(reg_diag, np.float32)
    previous = None
    dxs = dys = None
    updates = 0
    converged = False
    for it in range(max_iterations):
        shape = pdm_ops.calc_shape_2d(pdm, cur_global, cur_local)
        if it > 0:
            change = float(np.sqrt(np.sum((shape.astype(np.float64) - previous) ** 2)))
            if record is not None:
                record["norm"].append(change)
            if change < convergence_threshold:
                converged = True
                break
        previous = shape.astype(np.float64)

        # J rows are [x_0..x_{n-1}, y_0..y_{n-1}]; J_w^T = (W J)^T with W diagonal
        if rigid:
            jac, jac_t_w = pdm_ops.compute_rigid_jacobian(pdm, cur_global, cur_local, weights)
        else:
            jac, jac_t_w = pdm_ops.compute_jacobian(pdm, cur_global, cur_local, weights)
        offsets = _gemm(shape - base, sim_i2r_t)
        dxs = (offsets[:, 0] + half).astype(np.float32)
        dys = (offsets[:, 1] + half).astype(np.float32)
        ms_ref = mean_shift(responses, dxs, dys, visible, kde)
        ms_img = _gemm(ms_ref, sim_r2i_t)
        ms_img[~visible] = 0
        jac = jac.copy()
        jac_t_w = jac_t_w.copy()
        jac[~vis2] = 0
        jac_t_w[:, ~vis2] = 0
        mean_shifts = np.concatenate([ms_img[:, 0], ms_img[:, 1]]).astype(np.float32)
        rhs = _gemm(jac_t_w, mean_shifts[:, None]).reshape(-1)
        if not rigid:
            rhs[6:] = rhs[6:] - (reg_diag[6:].astype(np.float64) * cur_local).astype(np.float32)
        hessian = (np.diag(reg_diag) + jac_t_w @ jac).astype(np.float32)  # sgemm with beta = 1
        _, delta = cv2.solve(hessian, rhs[:, None], flags=cv2.DECOMP_CHOLESKY)
        delta = delta.reshape(-1).astype(np.float32)
        cur_global, cur_local = pdm_ops.update_model_parameters(delta, cur_global, cur_local)
        cur_local = pdm_ops.clamp(pdm, cur_local)
        updates += 1
        if record is not None:
            record["dxdy"].append(np.stack([dxs, dys], 1))
            record["ms_ref"].append(ms_ref)
            record["ms_img"].append(ms_img)
            record["update"].append(delta)
            record["params"].append(np.concatenate([cur_global, cur_local]))
    return cur_global, cur_local, updates, converged, dxs, dys
