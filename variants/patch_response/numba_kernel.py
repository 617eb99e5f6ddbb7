"""Numba CCNF responses: box-sum contrast normalisation and one small BLAS product per landmark.

Instead of normalising every window before the product (OpenFace's im2col), the raw
windows are multiplied by the filters and normalised afterwards:
``w . (x - mean) / norm = (w . x - mean * sum(w)) / norm``, with the window means and
norms from integral images (double). The area is first centred on its own mean, which
keeps ``w . x`` and ``mean * sum(w)`` small, so their difference stays accurate.

Two precisions of the product: ``numba`` multiplies in double (agrees with the reference
to float32 rounding); ``numba_f32`` builds the im2col matrix and multiplies in float32, as
OpenFace's own sgemm does (half the bytes to copy and a single-precision GEMM).
"""

from __future__ import annotations

import numpy as np

from variants._jit import jit


@jit
def _responses(areas, weight_matrices, alphas, sigmas, s, w, weights, cols, area_t):
    """``weights`` (k, s*s), ``cols`` (w*w, s*s) and ``area_t`` (A, A) are scratch buffers of the
    product's dtype; ``weight_matrices`` are the contract's float32 (n, k, 1 + s*s), bias first."""
    n = areas.shape[0]
    k = weight_matrices.shape[1]
    a_size = areas.shape[1]
    out = np.zeros((n, w, w), np.float32)
    weight_sums = np.empty(k, np.float64)
    rt = np.empty(w * w, np.float32)
    means = np.empty(w * w, np.float64)
    inv_norms = np.empty(w * w, np.float64)
    integral = np.zeros((a_size + 1, a_size + 1), np.float64)
    integral_sq = np.zeros((a_size + 1, a_size + 1), np.float64)
    count = s * s
    for lm in range(n):
        for kk in range(k):  # this landmark's filters in the product's dtype, and their sums in double
            total = 0.0
            for q in range(s * s):
                v = weight_matrices[lm, kk, 1 + q]
                weights[kk, q] = v
                total += np.float64(weights[kk, q])
            weight_sums[kk] = total
        c = 0.0
        for i in range(a_size):
            for j in range(a_size):
                c += areas[lm, i, j]
        c /= a_size * a_size
        for i in range(a_size):  # [x, y]: a window's column-major order is contiguous here
            for j in range(a_size):
                area_t[j, i] = areas[lm, i, j] - c
        for x in range(a_size):
            row = 0.0
            row_sq = 0.0
            for y in range(a_size):
                v = np.float64(area_t[x, y])
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
        z = np.dot(cols, weights.T)  # (w*w, k) raw products, row index x*w + y
        for x in range(w):
            for y in range(w):
                p = x * w + y
                acc = 0.0
                for kk in range(k):
                    al = alphas[lm, kk]
                    if al > 1e-4:
                        zz = ((z[p, kk] - means[p] * weight_sums[kk]) * inv_norms[p]
                              + np.float64(weight_matrices[lm, kk, 0]))
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


def _run(areas_of_interest, weight_matrices, alphas, sigmas, dtype):
    # no per-call copies of the model arrays (they come contiguous from SigmaCache.visible_stack):
    # each landmark's filters are converted inside the compiled loop
    n, area, _ = areas_of_interest.shape
    k, width = weight_matrices.shape[1], weight_matrices.shape[2]
    s = int(round(np.sqrt(width - 1)))
    w = area - s + 1
    return _responses(np.ascontiguousarray(areas_of_interest, dtype=np.float32),
                      np.ascontiguousarray(weight_matrices, dtype=np.float32),
                      np.ascontiguousarray(alphas, dtype=np.float64),
                      np.ascontiguousarray(sigmas, dtype=np.float32), s, w,
                      np.empty((k, s * s), dtype), np.empty((w * w, s * s), dtype), np.empty((area, area), dtype))


def patch_response(areas_of_interest, weight_matrices, alphas, sigmas):
    """Same contract as the reference; windows normalised after the product (box sums, double BLAS)."""
    return _run(areas_of_interest, weight_matrices, alphas, sigmas, np.float64)


def patch_response_f32(areas_of_interest, weight_matrices, alphas, sigmas):
    """Same contract as the reference; the im2col product in float32 (sgemm), as OpenFace's."""
    return _run(areas_of_interest, weight_matrices, alphas, sigmas, np.float32)
