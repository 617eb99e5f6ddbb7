"""Numba ``AlignShapesWithScale``: the reference's arithmetic, compiled around OpenCV's SVD.

Every operation of the reference variant (:mod:`aubench.variants.align_shapes.reference`) in the same
precision and order: column means summed row after row in double, the float32 centring
and scaling, the sums of squares in double in NumPy's own pairwise order (the reference
calls ``np.add.reduce``), the double cross-covariance rounded to float32. The 2x2 SVD
stays ``cv2.SVDecomp`` (the C++'s own routine), called between the two compiled halves;
the rotation's products are 2-term sums of exact double products, so their order cannot
matter. About 5x faster than the NumPy glue (the CLNF calls it once per scale).
"""

from __future__ import annotations

import cv2
import numpy as np

from aubench.variants._jit import jit


@jit
def _block_sum(a, lo, n):
    """NumPy's ``pairwise_sum`` leaf on the doubles a[lo:lo+n], n <= 128 (8 accumulators)."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    m = n - n % 8
    for i in range(8, m, 8):
        b = lo + i
        r0 += a[b]
        r1 += a[b + 1]
        r2 += a[b + 2]
        r3 += a[b + 3]
        r4 += a[b + 4]
        r5 += a[b + 5]
        r6 += a[b + 6]
        r7 += a[b + 7]
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(m, n):
        res += a[lo + i]
    return res


@jit
def _pairwise_sum(a, lo, n):
    """NumPy's ``pairwise_sum`` of the doubles a[lo:lo+n]: above 128 values, the sum of the two
    halves (the first rounded down to a multiple of 8), each summed the same way. Evaluated
    with an explicit stack (Numba's on-disk cache does not keep recursive functions safely)."""
    if n <= 128:
        return _block_sum(a, lo, n)
    los = np.empty(64, np.int64)
    ns = np.empty(64, np.int64)
    states = np.zeros(64, np.int64)
    values = np.empty(64, np.float64)
    top = 0
    count = 0
    los[0] = lo
    ns[0] = n
    while top >= 0:
        start, size = los[top], ns[top]
        if size <= 128:
            values[count] = _block_sum(a, start, size)
            count += 1
            top -= 1
            continue
        half = size // 2
        half -= half % 8
        if states[top] == 0:  # left half next
            states[top] = 1
            top += 1
            los[top], ns[top], states[top] = start, half, 0
        elif states[top] == 1:  # then the right half
            states[top] = 2
            top += 1
            los[top], ns[top], states[top] = start + half, size - half, 0
        else:  # both done: left + right
            values[count - 2] = values[count - 2] + values[count - 1]
            count -= 1
            top -= 1
    return values[0]


@jit
def _centre_and_scale(pts, out, squares):
    """Centre ``pts`` (n, 2) float32 into ``out``; return its RMS scale as float32 and scale ``out`` by 1/scale."""
    n = pts.shape[0]
    sx = 0.0
    sy = 0.0
    for i in range(n):  # column sums row after row, in double
        sx += np.float64(pts[i, 0])
        sy += np.float64(pts[i, 1])
    mx = np.float32(sx / n)
    my = np.float32(sy / n)
    for i in range(n):
        cx = pts[i, 0] - mx
        cy = pts[i, 1] - my
        out[i, 0] = cx
        out[i, 1] = cy
        squares[2 * i] = np.float64(cx * cx)  # float32 square, summed in double
        squares[2 * i + 1] = np.float64(cy * cy)
    scale = np.float32(np.sqrt(_pairwise_sum(squares, 0, 2 * n) / n))
    inv = np.float32(1.0 / np.float64(scale))
    for i in range(n):
        out[i, 0] = out[i, 0] * inv
        out[i, 1] = out[i, 1] * inv
    return scale


@jit
def _covariance(src, dst):
    """(scale, float32 2x2 cross-covariance of the normalised shapes) for ``cv2.SVDecomp``."""
    n = src.shape[0]
    src_c = np.empty((n, 2), np.float32)
    dst_c = np.empty((n, 2), np.float32)
    squares = np.empty(2 * n, np.float64)
    s_src = _centre_and_scale(src, src_c, squares)
    s_dst = _centre_and_scale(dst, dst_c, squares)
    cov = np.empty((2, 2), np.float32)
    for r in range(2):
        for c in range(2):
            acc = 0.0
            for i in range(n):
                acc += np.float64(src_c[i, r]) * np.float64(dst_c[i, c])
            cov[r, c] = np.float32(acc)
    return np.float32(s_dst / s_src), cov


@jit
def _rotation(s, u, vt):
    """s * V diag(1, d) U^T in float32, d the sign of det(V U^T) (Kabsch without reflection)."""
    v00, v01 = np.float64(vt[0, 0]), np.float64(vt[1, 0])  # v = vt^T
    v10, v11 = np.float64(vt[0, 1]), np.float64(vt[1, 1])
    u00, u01 = np.float64(u[0, 0]), np.float64(u[1, 0])  # ut = u^T
    u10, u11 = np.float64(u[0, 1]), np.float64(u[1, 1])
    m00 = v00 * u00 + v01 * u10
    m01 = v00 * u01 + v01 * u11
    m10 = v10 * u00 + v11 * u10
    m11 = v10 * u01 + v11 * u11
    if not m00 * m11 - m01 * m10 > 0:
        v01 = -v01
        v11 = -v11
    out = np.empty((2, 2), np.float32)
    out[0, 0] = s * np.float32(v00 * u00 + v01 * u10)
    out[0, 1] = s * np.float32(v00 * u01 + v01 * u11)
    out[1, 0] = s * np.float32(v10 * u00 + v11 * u10)
    out[1, 1] = s * np.float32(v10 * u01 + v11 * u11)
    return out


def align_shapes(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Same contract as the reference (:class:`aubench.pipeline.contracts.AlignShapes`)."""
    s, cov = _covariance(np.ascontiguousarray(src, dtype=np.float32), np.ascontiguousarray(dst, dtype=np.float32))
    _, u, vt = cv2.SVDecomp(cov)
    return _rotation(s, u, vt)
