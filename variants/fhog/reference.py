"""Plain NumPy FHOG, stage by stage as dlib computes it (the reference variant of kernel ``fhog``)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from aubench.pipeline.errors import InputError

F32 = np.float32

# dlib's 9 unsigned orientation axes (float literals as in fhog.h); the 18 signed bins are
# each axis and its opposite (o + 9).
DIRECTIONS = np.array([
    [1.0000, 0.0000], [0.9397, 0.3420], [0.7660, 0.6428], [0.500, 0.8660], [0.1736, 0.9848],
    [-0.1736, 0.9848], [-0.5000, 0.8660], [-0.7660, 0.6428], [-0.9397, 0.3420],
], dtype=np.float32)

EPS = F32(0.0001)        # added to the block energy before the square root
TRUNCATION = F32(0.2)    # nn = 0.2 * sqrt(energy): each bin is clipped at nn, then scaled by 0.1 / nn
SCALE = F32(0.1)
TEXTURE_SCALE = F32(2 * 0.2357)
SIMD_WIDTH = 8           # dlib processes 8 columns at a time, the leftover columns one by one


def cell_grid(n_pixels: int, cell_size: int) -> int:
    """Number of cells along one axis: ``(int)((float)n / (float)cell_size + 0.5)``."""
    return int(F32(F32(n_pixels) / F32(cell_size)) + F32(0.5))


class CellLayout(NamedTuple):
    """dlib's cell grid for an image: cells (incl. the dropped outer ring), output cells,
    and the last pixel row/column that votes (``visible - 1``)."""

    cells_nr: int
    cells_nc: int
    hog_nr: int
    hog_nc: int
    visible_nr: int
    visible_nc: int


def cell_layout(nr: int, nc: int, cell_size: int) -> CellLayout:
    """The grid ``extract_fhog_features`` uses for an ``nr`` x ``nc`` image."""
    cells_nr, cells_nc = cell_grid(nr, cell_size), cell_grid(nc, cell_size)
    return CellLayout(cells_nr, cells_nc, max(cells_nr - 2, 0), max(cells_nc - 2, 0),
                      min(cells_nr * cell_size, nr) - 1, min(cells_nc * cell_size, nc) - 1)


def check_image(image: np.ndarray, cell_size: int) -> np.ndarray:
    """The (H, W, 3) BGR or (H, W) grey uint8 image, or an InputError saying what is wrong."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise InputError(
            f"fhog: expected an (H, W, 3) BGR or (H, W) grey uint8 image, got {image.dtype} {image.shape}; "
            "convert the aligned face with np.asarray(face, np.uint8)"
        )
    if int(cell_size) < 2:
        raise InputError(f"fhog: expected cell_size >= 2 (OpenFace uses 8), got {cell_size}; "
                         "dlib's cell_size == 1 path is not reproduced")
    return image


def simd_columns(visible_nc: int) -> np.ndarray:
    """Boolean per image column: True where dlib takes its 8-wide SIMD path.

    dlib runs ``for (x = 1; x < visible_nc - 7; x += 8)`` with SIMD, then the remaining
    columns with scalar code. The two paths round the bilinear weights differently and
    break ties between colour channels differently, so the reference has to know which
    path each column took.
    """
    simd = np.zeros(max(visible_nc, 1), dtype=bool)
    x = 1
    while x < visible_nc - 7:
        simd[x:x + SIMD_WIDTH] = True
        x += SIMD_WIDTH
    return simd


def lane_sum(v: np.ndarray) -> np.ndarray:
    """dlib's horizontal ``sum(simd4f)`` over the last axis (SSE2: ``(v0 + v2) + (v1 + v3)``)."""
    return (v[..., 0] + v[..., 2]) + (v[..., 1] + v[..., 3])


def fhog(image: np.ndarray, cell_size: int = 8) -> np.ndarray:
    """Plain NumPy, stage by stage as dlib computes it; votes accumulated with ``np.add.at`` in dlib's
    order (contract: :class:`aubench.pipeline.contracts.Fhog`).

    Stages (all arithmetic float32, as dlib's SSE code):

    1. Gradient at each pixel of rows/columns ``1 .. visible - 2``
       (``visible = min(cells * cell_size, n) - 1``): central differences per colour
       channel, keep the channel with the largest squared norm. Ties: the scalar path
       keeps red over green over blue, the SIMD path keeps the later channel.
    2. Orientation: the largest of ``+-(g . d_o)`` over dlib's 9 rounded unit vectors
       ``d_o`` (bins 0..17), magnitude ``sqrt(|g|^2)``.
    3. Bilinear vote of the magnitude into the 4 cells around the pixel centre
       (``(x + 0.5) / cell_size - 0.5``), accumulated in raster order into a histogram
       padded by one cell on each side. dlib's SIMD columns weight as
       ``vy * (vx * v)``, its scalar columns as ``(vy * vx) * v``.
    4. Cell energy: ``sum_o (h_o + h_(o+9))^2``.
    5. Per output cell, the 4 blocks of 2x2 cells around it give 4 norms
       ``nn = 0.2 * sqrt(energy + 1e-4)``; each bin is ``min(h, nn) * (0.1 / nn)`` summed
       over the 4 normalisations (signed bins 0..17, unsigned ``h_o + h_(o+9)`` 18..26);
       the texture features 27..30 are ``0.2357 * 2 *`` the sum of the 18 signed
       normalised bins for each normalisation separately.
    6. The outermost ring of cells is dropped (it has no full blocks).
    """
    image = check_image(image, cell_size)
    cells_nr, cells_nc, hog_nr, hog_nc, visible_nr, visible_nc = cell_layout(*image.shape[:2], cell_size)
    if hog_nr == 0 or hog_nc == 0:
        return np.zeros((0, 0, 31), dtype=np.float32)
    ys = np.arange(1, visible_nr)
    xs = np.arange(1, visible_nc)
    simd = simd_columns(visible_nc)[xs]  # (len(xs),)

    # -- 1. gradient: central differences, strongest colour channel ---------------------
    img = image.astype(np.int32)
    if img.ndim == 2:
        img = img[:, :, None]
    channels = [img[:, :, 2], img[:, :, 1], img[:, :, 0]] if img.shape[2] == 3 else [img[:, :, 0]]  # red, green, blue
    best_gx = best_gy = best_len = None
    for k, ch in enumerate(channels):
        gx = ch[1:visible_nr, 2:visible_nc + 1] - ch[1:visible_nr, 0:visible_nc - 1]
        gy = ch[2:visible_nr + 1, 1:visible_nc] - ch[0:visible_nr - 1, 1:visible_nc]
        length = gx * gx + gy * gy
        if k == 0:
            best_gx, best_gy, best_len = gx, gy, length
            continue
        # scalar path: replace only when strictly larger; SIMD path: also on ties
        take = np.where(simd[None, :], length >= best_len, length > best_len)
        best_gx = np.where(take, gx, best_gx)
        best_gy = np.where(take, gy, best_gy)
        best_len = np.where(take, length, best_len)
    gx = best_gx.astype(F32)
    gy = best_gy.astype(F32)
    magnitude = np.sqrt(best_len.astype(F32))

    # -- 2. orientation: snap to the best of the 18 signed directions --------------------
    best_dot = np.zeros_like(gx)
    best_o = np.zeros(gx.shape, dtype=np.int64)
    for o in range(9):
        dot = gx * DIRECTIONS[o, 0] + gy * DIRECTIONS[o, 1]
        pos = dot > best_dot
        best_dot = np.where(pos, dot, best_dot)
        best_o = np.where(pos, o, best_o)
        neg = ~pos & (-dot > best_dot)
        best_dot = np.where(neg, -dot, best_dot)
        best_o = np.where(neg, o + 9, best_o)

    # -- 3. bilinear votes into the padded cell histogram --------------------------------
    # rows: yp = (y + 0.5) / cell - 0.5 in double, rounded to float
    yp = ((ys + 0.5) / float(F32(cell_size)) - 0.5).astype(F32)
    iyp = np.floor(yp).astype(np.int64)
    vy0 = (yp - iyp.astype(F32)).astype(F32)
    vy1 = (1.0 - vy0.astype(np.float64)).astype(F32)
    # columns: the scalar path computes like the rows; the SIMD path in float32 with +0.5
    xp_scalar = ((xs + 0.5) / float(cell_size) - 0.5).astype(F32)
    ixp_scalar = np.floor(xp_scalar).astype(np.int64)
    vx0_scalar = (xp_scalar - ixp_scalar.astype(F32)).astype(F32)
    vx1_scalar = (1.0 - vx0_scalar.astype(np.float64)).astype(F32)
    xp_simd = (xs.astype(F32) + F32(0.5)) / F32(cell_size) + F32(0.5)
    ixp_simd = xp_simd.astype(np.int64) - 1  # truncation; the SIMD histogram index is one ahead
    vx0_simd = xp_simd - (ixp_simd + 1).astype(F32)
    vx1_simd = F32(1.0) - vx0_simd
    ixp = np.where(simd, ixp_simd, ixp_scalar)
    vx0 = np.where(simd, vx0_simd, vx0_scalar)
    vx1 = np.where(simd, vx1_simd, vx1_scalar)

    v = magnitude
    vy0_, vy1_ = vy0[:, None], vy1[:, None]
    simd2 = simd[None, :]
    # SIMD: vy * (vx * v); scalar: (vy * vx) * v
    v11 = np.where(simd2, vy1_ * (vx1 * v), (vy1_ * vx1) * v)
    v01 = np.where(simd2, vy0_ * (vx1 * v), (vy0_ * vx1) * v)
    v10 = np.where(simd2, vy1_ * (vx0 * v), (vy1_ * vx0) * v)
    v00 = np.where(simd2, vy0_ * (vx0 * v), (vy0_ * vx0) * v)

    hist = np.zeros((cells_nr + 2, cells_nc + 2, 18), dtype=F32)
    row0 = np.broadcast_to((iyp + 1)[:, None], v.shape)
    col0 = np.broadcast_to((ixp + 1)[None, :], v.shape)
    # one pixel after another in raster order: np.add.at adds in index order, so each bin
    # accumulates its float32 votes in the same order as dlib
    rows = np.stack([row0, row0 + 1, row0, row0 + 1], axis=-1).reshape(-1)
    cols = np.stack([col0, col0, col0 + 1, col0 + 1], axis=-1).reshape(-1)
    bins = np.repeat(best_o.reshape(-1), 4)
    votes = np.stack([v11, v01, v10, v00], axis=-1).reshape(-1).astype(F32)
    np.add.at(hist, (rows, cols, bins), votes)

    # -- 4. energy of each cell (unsigned histogram, squared) ----------------------------
    cells = hist[1:cells_nr + 1, 1:cells_nc + 1]
    norm = np.zeros((cells_nr, cells_nc), dtype=F32)
    for o in range(9):
        s = cells[:, :, o] + cells[:, :, o + 9]
        norm = norm + s * s

    # -- 5. normalise each interior cell by its 4 blocks ---------------------------------
    # lanes (in dlib's order): the 2x2 blocks whose top-left cell is (y+1,x+1), (y,x+1), (y+1,x), (y,x)
    # in norm coordinates, for the output cell (y, x) = interior cell (y + 1, x + 1)
    def block(dy: int, dx: int) -> np.ndarray:
        return norm[dy:dy + hog_nr, dx:dx + hog_nc]

    z1 = np.stack([block(1, 1), block(0, 1), block(1, 0), block(0, 0)], axis=-1)
    z2 = np.stack([block(1, 2), block(0, 2), block(1, 1), block(0, 1)], axis=-1)
    z3 = np.stack([block(2, 1), block(1, 1), block(2, 0), block(1, 0)], axis=-1)
    z4 = np.stack([block(2, 2), block(1, 2), block(2, 1), block(1, 1)], axis=-1)
    nn = TRUNCATION * np.sqrt((((z1 + z2) + z3) + z4) + EPS)  # (hog_nr, hog_nc, 4)
    n = SCALE / nn

    h = hist[2:2 + hog_nr, 2:2 + hog_nc]  # the cell each output describes
    out = np.zeros((hog_nr, hog_nc, 31), dtype=F32)
    texture = np.zeros((hog_nr, hog_nc, 4), dtype=F32)
    # contrast-sensitive (signed) bins 0..17; texture adds them three at a time
    for o in range(0, 18, 3):
        parts = [np.minimum(h[:, :, o + k, None], nn) * n for k in range(3)]
        for k in range(3):
            out[:, :, o + k] = lane_sum(parts[k])
        texture = texture + ((parts[0] + parts[1]) + parts[2])
    texture = texture * TEXTURE_SCALE
    # contrast-insensitive (unsigned) bins 18..26
    for o in range(9):
        unsigned = h[:, :, o] + h[:, :, o + 9]
        out[:, :, 18 + o] = lane_sum(np.minimum(unsigned[:, :, None], nn) * n)
    # texture features 27..30: one per normalisation
    out[:, :, 27:31] = texture
    return out
