"""Numba CCNF responses: box-sum contrast normalisation and one small double-precision BLAS product per landmark.

Instead of normalising every window before the product (OpenFace's im2col), the raw
windows are multiplied by the filters and normalised afterwards:
``w . (x - mean) / norm = (w . x - mean * sum(w)) / norm``, with the window means and
norms from integral images. Products and sums are in double, so the result agrees
with the reference to float32 rounding.
"""

from __future__ import annotations

import numpy as np

from variants._jit import jit


@jit
def _responses(areas, weights, weight_sums, biases, alphas, sigmas, s, w):
    n = areas.shape[0]
    k = weights.shape[1]
    a_size = areas.shape[1]
    out = np.zeros((n, w, w), np.float32)
    cols = np.empty((w * w, s * s), np.float64)
    means = np.empty(w * w, np.float64)
    inv_norms = np.empty(w * w, np.float64)
    integral = np.zeros((a_size + 1, a_size + 1), np.float64)
    integral_sq = np.zeros((a_size + 1, a_size + 1), np.float64)
    count = s * s
    for lm in range(n):
        area_t = areas[lm].T.astype(np.float64)  # [x, y]: a window's column-major order is contiguous here
        for x in range(a_size):
            row = 0.0
            row_sq = 0.0
            for y in range(a_size):
                v = area_t[x, y]
                row += v
                row_sq += v * v
                integral[x + 1, y + 1] = integral[x, y + 1] + row
                integral_sq[x + 1, y + 1] = integral_sq[x, y + 1] + row_sq
        p = 0
        for x in range(w):
            for y in range(w):
                total = integral[x + s, y + s] - integral[x, y + s] - integral[x + s, y] + integral[x, y]
                total_sq = (integral_sq[x + s, y + s] - integral_sq[x, y + s] - integral_sq[x + s, y]
                            + integral_sq[x, y])
                mean = total / count
                var = total_sq - total * mean
                norm = np.sqrt(var) if var > 0 else 0.0
                means[p] = mean
                inv_norms[p] = 1.0 / norm if norm > 1e-6 else 1.0
                q = 0
                for xx in range(s):
                    for yy in range(s):
                        cols[p, q] = area_t[x + xx, y + yy]
                        q += 1
                p += 1
        z = np.dot(cols, weights[lm].T)  # (w*w, k) raw products, row index x*w + y
        rt = np.empty(w * w, np.float32)
        for x in range(w):
            for y in range(w):
                p = x * w + y
                acc = 0.0
                for kk in range(k):
                    al = alphas[lm, kk]
                    if al > 1e-4:
                        zz = (z[p, kk] - means[p] * weight_sums[lm, kk]) * inv_norms[p] + biases[lm, kk]
                        acc += (2.0 * al) / (1.0 + np.exp(-zz))
                rt[y * w + x] = np.float32(acc)
        r = np.dot(sigmas[lm], rt)
        low = r.min()
        for q in range(w * w):
            v = r[q]
            if low < 0:
                v = v - low
            out[lm, q // w, q % w] = v
    return out


def patch_response(areas_of_interest, weight_matrices, alphas, sigmas):
    """Same contract as the reference; windows normalised after the product (box sums, double BLAS)."""
    n, area, _ = areas_of_interest.shape
    s = int(round(np.sqrt(weight_matrices.shape[2] - 1)))
    w = area - s + 1
    weights = np.ascontiguousarray(weight_matrices[:, :, 1:], dtype=np.float64)
    return _responses(np.ascontiguousarray(areas_of_interest, dtype=np.float32), weights, weights.sum(axis=2),
                      np.ascontiguousarray(weight_matrices[:, :, 0], dtype=np.float64),
                      np.ascontiguousarray(alphas, dtype=np.float64),
                      np.ascontiguousarray(sigmas, dtype=np.float32), s, w)
