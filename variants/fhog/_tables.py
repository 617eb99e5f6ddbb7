"""Lookup tables shared by the fast FHOG variants (constants of the algorithm, built once)."""

from __future__ import annotations

import numpy as np

from aubench.variants.fhog.reference import DIRECTIONS

F32 = np.float32
MAX_DIFF = 255  # uint8 central differences lie in [-255, 255]


def orientation_table() -> np.ndarray:
    """(511, 511) int8: dlib's orientation bin (0..17) of the integer gradient ``(gx, gy)``,
    indexed ``[gy + 255, gx + 255]``; the same float32 dot products and comparisons as the
    reference, so looking a bin up is exact."""
    g = np.arange(-MAX_DIFF, MAX_DIFF + 1, dtype=F32)
    gy, gx = np.meshgrid(g, g, indexing="ij")
    best_dot = np.zeros_like(gx)
    best_o = np.zeros(gx.shape, dtype=np.int8)
    for o in range(9):
        dot = gx * DIRECTIONS[o, 0] + gy * DIRECTIONS[o, 1]
        pos = dot > best_dot
        best_dot = np.where(pos, dot, best_dot)
        best_o[pos] = o
        neg = ~pos & (-dot > best_dot)
        best_dot = np.where(neg, -dot, best_dot)
        best_o[neg] = o + 9
    best_o.setflags(write=False)
    return best_o


def axis_weights(n_visible: int, cell_size: int, simd: np.ndarray | None):
    """Bilinear weights along one axis for pixels ``1 .. n_visible - 1``.

    Returns ``(first, w0, w1)``: the first of the two padded-histogram indices a pixel votes
    into and the float32 weights of the far (``w0``) and near (``w1``) cell, computed as
    dlib does on its scalar path (double, rounded to float) or, where ``simd`` is True, on
    its SIMD path (float32 with a +0.5 offset and truncation).
    """
    p = np.arange(1, n_visible)
    pp = ((p + 0.5) / float(cell_size) - 0.5).astype(F32)
    ip = np.floor(pp).astype(np.int64)
    w0 = (pp - ip.astype(F32)).astype(F32)
    w1 = (1.0 - w0.astype(np.float64)).astype(F32)
    if simd is not None:
        sp = (p.astype(F32) + F32(0.5)) / F32(cell_size) + F32(0.5)
        s_ip = sp.astype(np.int64)
        s_w0 = sp - s_ip.astype(F32)
        s_w1 = F32(1.0) - s_w0
        ip = np.where(simd, s_ip - 1, ip)
        w0 = np.where(simd, s_w0, w0)
        w1 = np.where(simd, s_w1, w1)
    return ip + 1, w0, w1


def _cached_orientation_table() -> np.ndarray:
    """:func:`orientation_table`, kept in the derived-array cache (:mod:`aubench.pipeline.cache`) under a
    key made from the direction vectors it is computed from (25 ms to build, at every start)."""
    import hashlib

    from aubench.pipeline import cache

    key = "fhog-orientation-" + hashlib.sha256(np.ascontiguousarray(DIRECTIONS).tobytes()).hexdigest()[:24]
    size = 2 * MAX_DIFF + 1
    table = cache.load_array(key, (size, size), np.int8)
    if table is None:
        table = orientation_table()
        cache.save_array(key, table)
    table.setflags(write=False)
    return table


ORIENTATION = _cached_orientation_table()
