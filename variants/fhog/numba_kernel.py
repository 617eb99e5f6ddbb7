"""Numba FHOG: dlib's loops pixel by pixel in float32, one pass (bit-exact with the reference)."""

from __future__ import annotations

import numpy as np

from aubench.variants._jit import jit
from aubench.variants.fhog.reference import DIRECTIONS, cell_layout, check_image, simd_columns

F32 = np.float32


@jit
def _histograms(img, simd, cell_size, cells_nr, cells_nc, visible_nr, visible_nc, directions):
    """Stages 1-3 of the reference: gradient, orientation and bilinear votes, raster order."""
    n_channels = img.shape[2]
    hist = np.zeros((cells_nr + 2, cells_nc + 2, 18), dtype=np.float32)
    one = np.float32(1.0)
    half = np.float32(0.5)
    cs32 = np.float32(cell_size)
    for y in range(1, visible_nr):
        yp = np.float32((y + 0.5) / np.float64(cs32) - 0.5)
        iyp = int(np.floor(yp))
        vy0 = yp - np.float32(iyp)
        vy1 = np.float32(1.0 - np.float64(vy0))
        r0 = iyp + 1
        for x in range(1, visible_nc):
            is_simd = simd[x]
            # gradient of the strongest channel (dlib order red, green, blue = BGR 2, 1, 0)
            c = n_channels - 1
            gx = np.int32(img[y, x + 1, c]) - np.int32(img[y, x - 1, c])
            gy = np.int32(img[y + 1, x, c]) - np.int32(img[y - 1, x, c])
            best = gx * gx + gy * gy
            for c in range(n_channels - 2, -1, -1):
                ex = np.int32(img[y, x + 1, c]) - np.int32(img[y, x - 1, c])
                ey = np.int32(img[y + 1, x, c]) - np.int32(img[y - 1, x, c])
                length = ex * ex + ey * ey
                if length > best or (is_simd and length == best):
                    best = length
                    gx = ex
                    gy = ey
            fx = np.float32(gx)
            fy = np.float32(gy)
            v = np.sqrt(np.float32(best))
            # snap to the best of 18 signed orientations
            best_dot = np.float32(0.0)
            best_o = 0
            for o in range(9):
                dot = fx * directions[o, 0] + fy * directions[o, 1]
                if dot > best_dot:
                    best_dot = dot
                    best_o = o
                elif -dot > best_dot:
                    best_dot = -dot
                    best_o = o + 9
            # bilinear weights: the two dlib paths round differently
            if is_simd:
                xp = (np.float32(x) + half) / cs32 + half
                ixp1 = int(xp)
                vx0 = xp - np.float32(ixp1)
                vx1 = one - vx0
                w1 = vx1 * v
                w0 = vx0 * v
                v11 = vy1 * w1
                v01 = vy0 * w1
                v10 = vy1 * w0
                v00 = vy0 * w0
            else:
                xp = np.float32((x + 0.5) / np.float64(cell_size) - 0.5)
                ixp1 = int(np.floor(xp)) + 1
                vx0 = xp - np.float32(ixp1 - 1)
                vx1 = np.float32(1.0 - np.float64(vx0))
                v11 = (vy1 * vx1) * v
                v01 = (vy0 * vx1) * v
                v10 = (vy1 * vx0) * v
                v00 = (vy0 * vx0) * v
            hist[r0, ixp1, best_o] += v11
            hist[r0 + 1, ixp1, best_o] += v01
            hist[r0, ixp1 + 1, best_o] += v10
            hist[r0 + 1, ixp1 + 1, best_o] += v00
    return hist


@jit
def _features(hist, cells_nr, cells_nc, hog_nr, hog_nc):
    """Stages 4-5 of the reference: cell energies, 4 block normalisations, 31 features."""
    norm = np.zeros((cells_nr, cells_nc), dtype=np.float32)
    for r in range(cells_nr):
        for c in range(cells_nc):
            acc = np.float32(0.0)
            for o in range(9):
                s = hist[r + 1, c + 1, o] + hist[r + 1, c + 1, o + 9]
                acc += s * s
            norm[r, c] = acc
    eps = np.float32(0.0001)
    trunc = np.float32(0.2)
    scale = np.float32(0.1)
    texture_scale = np.float32(2 * 0.2357)
    out = np.empty((hog_nr, hog_nc, 31), dtype=np.float32)
    nn = np.empty(4, dtype=np.float32)
    n = np.empty(4, dtype=np.float32)
    t = np.empty(4, dtype=np.float32)
    p = np.empty(4, dtype=np.float32)
    for y in range(hog_nr):
        for x in range(hog_nc):
            # lane k: the 2x2 block of norm cells whose top-left is (y+1,x+1), (y,x+1), (y+1,x), (y,x)
            for k in range(4):
                by = y + 1 if (k == 0 or k == 2) else y
                bx = x + 1 if k < 2 else x
                e = ((norm[by, bx] + norm[by, bx + 1]) + norm[by + 1, bx]) + norm[by + 1, bx + 1]
                nn[k] = trunc * np.sqrt(e + eps)
                n[k] = scale / nn[k]
                t[k] = np.float32(0.0)
            for o in range(0, 18, 3):
                for k in range(4):
                    h0 = min(hist[y + 2, x + 2, o], nn[k]) * n[k]
                    h1 = min(hist[y + 2, x + 2, o + 1], nn[k]) * n[k]
                    h2 = min(hist[y + 2, x + 2, o + 2], nn[k]) * n[k]
                    t[k] += (h0 + h1) + h2
                for j in range(3):
                    for k in range(4):
                        p[k] = min(hist[y + 2, x + 2, o + j], nn[k]) * n[k]
                    out[y, x, o + j] = (p[0] + p[2]) + (p[1] + p[3])
            for o in range(9):
                u = hist[y + 2, x + 2, o] + hist[y + 2, x + 2, o + 9]
                for k in range(4):
                    p[k] = min(u, nn[k]) * n[k]
                out[y, x, 18 + o] = (p[0] + p[2]) + (p[1] + p[3])
            for k in range(4):
                out[y, x, 27 + k] = t[k] * texture_scale
    return out


def fhog(image: np.ndarray, cell_size: int = 8) -> np.ndarray:
    """Numba loops over pixels and cells in dlib's order and float32 arithmetic; bit-exact."""
    image = check_image(image, cell_size)
    cells_nr, cells_nc, hog_nr, hog_nc, visible_nr, visible_nc = cell_layout(*image.shape[:2], cell_size)
    if hog_nr == 0 or hog_nc == 0:
        return np.zeros((0, 0, 31), dtype=np.float32)
    img = image if image.ndim == 3 else image[:, :, None]
    hist = _histograms(np.ascontiguousarray(img), simd_columns(visible_nc), int(cell_size),
                       cells_nr, cells_nc, visible_nr, visible_nc, DIRECTIONS)
    return _features(hist, cells_nr, cells_nc, hog_nr, hog_nc)
