"""``RotationHelpers.h::AlignShapesWithScale`` in NumPy (the reference variant)."""

from __future__ import annotations

import cv2
import numpy as np


def align_shapes(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """NumPy reductions and products around ``cv2.SVDecomp`` in OpenFace's precisions (contract:
    :class:`aubench.pipeline.contracts.AlignShapes`).
    """
    src = np.asarray(src, np.float32)
    dst = np.asarray(dst, np.float32)
    n = len(src)
    # cv::mean accumulates in double (the column sums in row order); the centring is float
    src_c = src - (np.add.reduce(src, axis=0, dtype=np.float64) / n).astype(np.float32)
    dst_c = dst - (np.add.reduce(dst, axis=0, dtype=np.float64) / n).astype(np.float32)
    # cv::pow(x, 2) squares in float, cv::sum adds in double
    s_src = np.float32(np.sqrt(np.add.reduce((src_c * src_c).ravel(), dtype=np.float64) / n))
    s_dst = np.float32(np.sqrt(np.add.reduce((dst_c * dst_c).ravel(), dtype=np.float64) / n))
    # Mat / double is a convertTo with the float32-rounded factor 1/s
    src_c *= np.float32(1.0 / float(s_src))
    dst_c *= np.float32(1.0 / float(s_dst))
    s = np.float32(s_dst / s_src)
    # AlignShapesKabsch2D: OpenCV's float32 2x2 SVD (cv2 runs the same code as the C++), then
    # R = V diag(1, d) U^T with d the sign of det(V U^T) (flipping V's second column), in double
    cov = (src_c.T.astype(np.float64) @ dst_c.astype(np.float64)).astype(np.float32)
    _, u, vt = cv2.SVDecomp(cov)
    v = vt.T.astype(np.float64)
    ut = u.T.astype(np.float64)
    m = v @ ut
    if not m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0] > 0:
        v[:, 1] = -v[:, 1]
    rot = (v @ ut).astype(np.float32)
    return (s * rot).astype(np.float32)
