"""Areas of interest sampled with OpenCV's own warpAffine (the contract)."""

from __future__ import annotations

import cv2
import numpy as np


def warp_areas(gray, tx, ty, a1, b1, area_size):
    """Square patches around landmarks in the reference frame, as ``Patch_experts::Response`` samples them.

    ``cv::warpAffine(gray, area, M, (A, A), WARP_INVERSE_MAP | INTER_LINEAR)`` with the
    dst->src map ``M_i = [[a1, -b1, tx_i], [b1, a1, ty_i]]`` and a constant 0 border.

    Parameters
    ----------
    gray : (H, W) float32 grey image of integer grey levels (a uint8 frame as float32): on those the
        bilinear sums are exact, so the result does not depend on how an OpenCV version orders them.
    tx, ty : (k,) float64 translations of the k maps (float32 values, see
        :func:`aubench.pipeline.landmarks.patch_experts.warp_matrix`).
    a1, b1 : float, scale-rotation of the map (float32 values).
    area_size : int A.

    Returns
    -------
    (k, A, A) float32, bit-identical to OpenCV 4.6 (fixed-point 1/32 px coordinates,
    float bilinear weights) on integer grey levels, with every OpenCV 4.x measured (4.6-4.14);
    on fractional values 4.14 differs from 4.6-4.13 by up to 2 ulp (summation order).
    """
    out = np.empty((len(tx), area_size, area_size), np.float32)
    m = np.array([[a1, -b1, 0.0], [b1, a1, 0.0]], np.float64)
    flags = cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR
    size = (area_size, area_size)
    for i in range(len(tx)):
        m[0, 2] = tx[i]
        m[1, 2] = ty[i]
        cv2.warpAffine(gray, m, size, dst=out[i], flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out
