"""Numba FHOG with tables: orientation bin by (gx, gy) lookup and per-row/column bilinear
weights computed once per call, all inside one compiled call; bit-exact with the reference."""

from __future__ import annotations

import numpy as np

from aubench.variants._jit import jit
from aubench.variants.fhog._tables import MAX_DIFF, ORIENTATION
from aubench.variants.fhog.numba_kernel import _features
from aubench.variants.fhog.reference import SIMD_WIDTH, cell_layout, check_image


@jit
def _weights(n_visible, cell_size, simd):
    """Jitted ``_tables.axis_weights`` (same double/float32 expressions)."""
    n = n_visible - 1
    first = np.empty(n, dtype=np.int64)
    w0 = np.empty(n, dtype=np.float32)
    w1 = np.empty(n, dtype=np.float32)
    cs32 = np.float32(cell_size)
    for i in range(n):
        p = i + 1
        if simd[p]:
            sp = (np.float32(p) + np.float32(0.5)) / cs32 + np.float32(0.5)
            ip = int(sp)
            w0[i] = sp - np.float32(ip)
            w1[i] = np.float32(1.0) - w0[i]
            first[i] = ip
        else:
            pp = np.float32((p + 0.5) / np.float64(cell_size) - 0.5)
            ip = int(np.floor(pp))
            w0[i] = pp - np.float32(ip)
            w1[i] = np.float32(1.0 - np.float64(w0[i]))
            first[i] = ip + 1
    return first, w0, w1


@jit
def _histograms(img, cell_size, cells_nr, cells_nc, visible_nr, visible_nc, orientation, simd_width):
    n_channels = img.shape[2]
    # dlib's SIMD path covers x = 1 .. while x < visible_nc - 7, 8 columns at a time
    simd = np.zeros(visible_nc, dtype=np.bool_)
    x = 1
    while x < visible_nc - 7:
        simd[x:x + simd_width] = True
        x += simd_width
    no_simd = np.zeros(visible_nr, dtype=np.bool_)
    row, vy0, vy1 = _weights(visible_nr, cell_size, no_simd)
    col, vx0, vx1 = _weights(visible_nc, cell_size, simd)

    width = cells_nc + 2
    stride = width * 18
    hist = np.zeros((cells_nr + 2) * stride, dtype=np.float32)
    for y in range(1, visible_nr):
        j = y - 1
        base_row = row[j] * width
        wy0 = vy0[j]
        wy1 = vy1[j]
        above = img[y - 1]
        here = img[y]
        below = img[y + 1]
        for x in range(1, visible_nc):
            i = x - 1
            is_simd = simd[x]
            c = n_channels - 1  # dlib looks at red (BGR index 2) first
            gx = np.int32(here[x + 1, c]) - np.int32(here[x - 1, c])
            gy = np.int32(below[x, c]) - np.int32(above[x, c])
            best = gx * gx + gy * gy
            for c in range(n_channels - 2, -1, -1):
                ex = np.int32(here[x + 1, c]) - np.int32(here[x - 1, c])
                ey = np.int32(below[x, c]) - np.int32(above[x, c])
                length = ex * ex + ey * ey
                if length > best or (is_simd and length == best):
                    best = length
                    gx = ex
                    gy = ey
            k = (base_row + col[i]) * 18 + orientation[gy + 255, gx + 255]
            v = np.sqrt(np.float32(best))
            wx0 = vx0[i]
            wx1 = vx1[i]
            if is_simd:  # vy * (vx * v)
                a = wx1 * v
                b = wx0 * v
                hist[k] += wy1 * a
                hist[k + stride] += wy0 * a
                hist[k + 18] += wy1 * b
                hist[k + stride + 18] += wy0 * b
            else:  # (vy * vx) * v
                hist[k] += (wy1 * wx1) * v
                hist[k + stride] += (wy0 * wx1) * v
                hist[k + 18] += (wy1 * wx0) * v
                hist[k + stride + 18] += (wy0 * wx0) * v
    return hist.reshape(cells_nr + 2, width, 18)


def fhog(image: np.ndarray, cell_size: int = 8) -> np.ndarray:
    """Numba loops with the orientation looked up in a (gx, gy) table and the bilinear weights
    computed once per row and column; bit-exact with the reference."""
    image = check_image(image, cell_size)
    cells_nr, cells_nc, hog_nr, hog_nc, visible_nr, visible_nc = cell_layout(*image.shape[:2], cell_size)
    if hog_nr == 0 or hog_nc == 0:
        return np.zeros((0, 0, 31), dtype=np.float32)
    img = image if image.ndim == 3 else image[:, :, None]
    hist = _histograms(np.ascontiguousarray(img), int(cell_size), cells_nr, cells_nc, visible_nr, visible_nc,
                       ORIENTATION, SIMD_WIDTH)
    return _features(hist, cells_nr, cells_nc, hog_nr, hog_nc)


assert MAX_DIFF == 255  # the table offset used in _histograms
