"""Numba CCNF responses: fused im2col + contrast normalisation, BLAS for the two products."""

from __future__ import annotations

import numpy as np

from variants._jit import jit


@jit
def _responses(areas, weight_matrices, alphas, sigmas, s, w):
    n = areas.shape[0]
    k = weight_matrices.shape[1]
    out = np.zeros((n, w, w), np.float32)
    cols = np.empty((s * s, w * w), np.float32)
    inv_count = np.float32(1.0) / np.float32(s * s)
    for lm in range(n):
        area = areas[lm]
        p = 0
        for x in range(w):
            for y in range(w):
                total = np.float32(0.0)
                for xx in range(s):
                    for yy in range(s):
                        total += area[y + yy, x + xx]
                mean = total * inv_count
                sq = np.float32(0.0)
                for xx in range(s):
                    for yy in range(s):
                        v = area[y + yy, x + xx] - mean
                        cols[xx * s + yy, p] = v
                        sq += v * v
                norm = np.float32(np.sqrt(sq))
                if norm == 0:
                    norm = np.float32(1.0)
                scale = np.float32(1.0) / norm
                for q in range(s * s):
                    cols[q, p] *= scale
                p += 1
        z = np.dot(np.ascontiguousarray(weight_matrices[lm, :, 1:]), cols)  # (k, w*w)
        resp = np.zeros(w * w, np.float64)
        for kk in range(k):
            al = alphas[lm, kk]
            if al > 1e-4:
                b = weight_matrices[lm, kk, 0]
                for q in range(w * w):
                    resp[q] += (2.0 * al) / (1.0 + np.exp(-np.float64(z[kk, q] + b)))
        rt = np.empty(w * w, np.float32)
        for x in range(w):
            for y in range(w):
                rt[y * w + x] = np.float32(resp[x * w + y])
        r = np.dot(sigmas[lm], rt)
        low = r.min()
        for q in range(w * w):
            v = r[q]
            if low < 0:
                v = v - low
            out[lm, q // w, q % w] = v
    return out


def patch_response(areas_of_interest, weight_matrices, alphas, sigmas):
    """Same contract as the reference; compiled loops per landmark (float32 sums reordered)."""
    n, area, _ = areas_of_interest.shape
    s = int(round(np.sqrt(weight_matrices.shape[2] - 1)))
    w = area - s + 1
    return _responses(np.ascontiguousarray(areas_of_interest, dtype=np.float32),
                      np.ascontiguousarray(weight_matrices, dtype=np.float32),
                      np.ascontiguousarray(alphas, dtype=np.float64),
                      np.ascontiguousarray(sigmas, dtype=np.float32), s, w)
