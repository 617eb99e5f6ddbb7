"""Vectorised NumPy FHOG: orientation from a lookup table, votes summed with ``np.bincount``."""

from __future__ import annotations

import numpy as np

from aubench.variants.fhog._tables import MAX_DIFF, ORIENTATION, axis_weights
from aubench.variants.fhog.reference import EPS, SCALE, TEXTURE_SCALE, TRUNCATION, cell_layout, check_image, simd_columns

F32 = np.float32


def fhog(image: np.ndarray, cell_size: int = 8) -> np.ndarray:
    """Like the reference, but orientations come from a (gx, gy) table and the histogram votes
    are summed by ``np.bincount`` in float64 (so cells differ from dlib's float32 running sums
    by float32 rounding only, ~1e-7)."""
    image = check_image(image, cell_size)
    cells_nr, cells_nc, hog_nr, hog_nc, vr, vc = cell_layout(*image.shape[:2], cell_size)
    if hog_nr == 0 or hog_nc == 0:
        return np.zeros((0, 0, 31), dtype=np.float32)
    simd = simd_columns(vc)[1:vc]

    # gradient of the strongest channel, dlib's tie rules per column path
    img = image.astype(np.int16)
    if img.ndim == 2:
        img = img[:, :, None]
    gx_all = img[1:vr, 2:vc + 1] - img[1:vr, 0:vc - 1]  # (h, w, C)
    gy_all = img[2:vr + 1, 1:vc] - img[0:vr - 1, 1:vc]
    len_all = gx_all.astype(np.int32) ** 2 + gy_all.astype(np.int32) ** 2
    if img.shape[2] == 3:
        # candidates in dlib's order red, green, blue; argmax keeps the first maximum, so the
        # SIMD columns (later channel wins ties) look at the reversed order
        scalar_pick = 2 - np.argmax(len_all[:, :, ::-1], axis=2)
        simd_pick = np.argmax(len_all, axis=2)
        pick = np.where(simd[None, :], simd_pick, scalar_pick)[:, :, None]
        gx = np.take_along_axis(gx_all, pick, axis=2)[:, :, 0]
        gy = np.take_along_axis(gy_all, pick, axis=2)[:, :, 0]
        length = np.take_along_axis(len_all, pick, axis=2)[:, :, 0]
    else:
        gx, gy, length = gx_all[:, :, 0], gy_all[:, :, 0], len_all[:, :, 0]
    orient = ORIENTATION[gy + MAX_DIFF, gx + MAX_DIFF].astype(np.int64)
    v = np.sqrt(length.astype(F32))

    # bilinear votes, rounded as dlib rounds them on each path
    row, vy0, vy1 = axis_weights(vr, cell_size, None)
    col, vx0, vx1 = axis_weights(vc, cell_size, simd)
    vy0, vy1, s2 = vy0[:, None], vy1[:, None], simd[None, :]
    v11 = np.where(s2, vy1 * (vx1 * v), (vy1 * vx1) * v)
    v01 = np.where(s2, vy0 * (vx1 * v), (vy0 * vx1) * v)
    v10 = np.where(s2, vy1 * (vx0 * v), (vy1 * vx0) * v)
    v00 = np.where(s2, vy0 * (vx0 * v), (vy0 * vx0) * v)
    width = cells_nc + 2
    base = ((row[:, None] * width + col[None, :]) * 18 + orient).reshape(-1)
    size = (cells_nr + 2) * width * 18
    hist = np.bincount(base, v11.reshape(-1), size)
    hist += np.bincount(base + width * 18, v01.reshape(-1), size)
    hist += np.bincount(base + 18, v10.reshape(-1), size)
    hist += np.bincount(base + width * 18 + 18, v00.reshape(-1), size)
    hist = hist.astype(F32).reshape(cells_nr + 2, width, 18)

    # cell energies, block norms and the 31 features (as the reference)
    cells = hist[1:cells_nr + 1, 1:cells_nc + 1]
    unsigned_all = cells[:, :, :9] + cells[:, :, 9:]
    norm = np.zeros((cells_nr, cells_nc), dtype=F32)
    for o in range(9):
        norm = norm + unsigned_all[:, :, o] * unsigned_all[:, :, o]
    s = norm[:-1, :-1] + norm[:-1, 1:] + norm[1:, :-1] + norm[1:, 1:]  # block (top-left r, c)
    # lanes: blocks with top-left (y+1,x+1), (y,x+1), (y+1,x), (y,x)
    energy = np.stack([s[1:hog_nr + 1, 1:hog_nc + 1], s[:hog_nr, 1:hog_nc + 1],
                       s[1:hog_nr + 1, :hog_nc], s[:hog_nr, :hog_nc]], axis=-1)
    nn = TRUNCATION * np.sqrt(energy + EPS)
    n = SCALE / nn
    h = hist[2:2 + hog_nr, 2:2 + hog_nc]
    u = unsigned_all[1:1 + hog_nr, 1:1 + hog_nc]
    parts = np.minimum(np.concatenate([h, u], axis=2)[:, :, :, None], nn[:, :, None, :]) * n[:, :, None, :]
    out = np.empty((hog_nr, hog_nc, 31), dtype=F32)
    out[:, :, :27] = (parts[..., 0] + parts[..., 2]) + (parts[..., 1] + parts[..., 3])
    texture = np.zeros((hog_nr, hog_nc, 4), dtype=F32)
    for o in range(0, 18, 3):
        texture = texture + ((parts[:, :, o] + parts[:, :, o + 1]) + parts[:, :, o + 2])
    out[:, :, 27:] = texture * TEXTURE_SCALE
    return out
