"""Similarity alignment of the face for the AU features (``Face_utils.cpp::AlignFace``, ``AlignFaceMask``).

The face is warped so that its rigid landmarks (face outline at the temples and jaw
corners, nose, eye corners: 24 of the 68) match the analyser PDM's mean shape scaled by
``sim_scale`` (0.7 for the AU features: about 0.7 px per mm), centred in an
``out_size`` x ``out_size`` image. OpenFace centres the warp on the PDM fit's translation
``params_global[4:6]`` (not on the landmarks' mean), so the analyser's own
``PDM::CalcParams`` result must be passed in. ``AlignFaceMask`` then keeps only the
pixels inside the triangulated face (``tris_68_full.txt``), with the eyebrows and the
outer jaw points raised by 30 mm so the forehead stays in.

All arithmetic is float32 where OpenFace's is (the warp matrix is a ``cv::Matx23f``);
the warp is ``cv::warpAffine`` with bilinear interpolation and a black border.
"""

from __future__ import annotations

import cv2
import numpy as np

from aubench.pipeline.contracts import AlignShapes
from aubench.pipeline.errors import InputError
from aubench.pipeline.models.pdm import PDMModel
from aubench.pipeline.registry import Kernels
from aubench.pipeline.timing import NULL_TIMER, StageTimer

F32 = np.float32

# Face_utils.cpp::extract_rigid_points: outline 1-4 and 12-15, nose 27-29 and 31-35, eye corners and lower lids
RIGID_POINTS = np.array([1, 2, 3, 4, 12, 13, 14, 15, 27, 28, 29, 31, 32, 33, 34, 35,
                         36, 39, 40, 41, 42, 45, 46, 47])
# points moved up by 30 mm (at scale 0.7: 30 px) before the mask is built: jaw ends and eyebrows
RAISED_POINTS = np.array([0, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26])
RAISE_MM = 30.0


def _landmarks(landmarks, pdm: PDMModel) -> np.ndarray:
    lm = np.asarray(landmarks, dtype=F32)
    if lm.ndim == 1 and lm.size == 2 * pdm.n_points:  # OpenFace's (2n,) column [x.., y..]
        lm = lm.reshape(2, -1).T
    if lm.shape != (pdm.n_points, 2):
        raise InputError(
            f"face alignment: expected ({pdm.n_points}, 2) landmarks [x, y] for the PDM {pdm.path.name}, "
            f"got shape {np.shape(landmarks)}; pass the tracker's 2D landmarks"
        )
    return lm


def _image(frame) -> np.ndarray:
    img = np.asarray(frame)
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (1, 3)):
        raise InputError(
            f"face alignment: expected an (H, W, 3) BGR or (H, W) grey uint8 frame, got {img.dtype} {img.shape}; "
            "pass the decoded video frame"
        )
    return img


def similarity_warp(landmarks, params_global, pdm: PDMModel, sim_scale: float = 0.7,
                    out_width: int = 112, out_height: int = 112, rigid: bool = True, *,
                    align: AlignShapes) -> np.ndarray:
    """The (2, 3) float32 image -> aligned-face affine map of ``AlignFace``/``AlignFaceMask``.

    Parameters
    ----------
    landmarks : (n, 2) float image points (or OpenFace's (2n,) ``[x.., y..]`` column).
    params_global : (6,) ``[scale, rx, ry, rz, tx, ty]`` from ``PDM::CalcParams`` on ``landmarks``.
    pdm : the analyser's PDM (its mean shape is the target).
    sim_scale : aligned-image pixels per PDM unit (mm).
    rigid : align on the 24 rigid points only (OpenFace always does).
    align : the resolved ``align_shapes`` kernel (``kernels.align_shapes``).
    """
    lm = _landmarks(landmarks, pdm)
    n = pdm.n_points
    # the mean shape scaled in float32 (Mat * double is a convertTo with a float factor), z dropped
    target = pdm.mean_shape * F32(sim_scale)
    target = np.stack([target[:n], target[n:2 * n]], axis=1)
    src, dst = (lm[RIGID_POINTS], target[RIGID_POINTS]) if rigid and n == 68 else (lm, target)
    scale_rot = align(src, dst)
    tx, ty = F32(params_global[4]), F32(params_global[5])
    # Matx22f * Vec2f, accumulated in float
    t0 = F32(scale_rot[0, 0] * tx) + F32(scale_rot[0, 1] * ty)
    t1 = F32(scale_rot[1, 0] * tx) + F32(scale_rot[1, 1] * ty)
    warp = np.empty((2, 3), dtype=F32)
    warp[:, :2] = scale_rot
    warp[0, 2] = -t0 + F32(out_width // 2)
    warp[1, 2] = -t1 + F32(out_height // 2)
    return warp


def warp_face(frame, warp: np.ndarray, out_width: int, out_height: int) -> np.ndarray:
    """``cv::warpAffine(frame, aligned, warp, size, INTER_LINEAR)``: constant black border."""
    return cv2.warpAffine(_image(frame), np.asarray(warp, np.float64), (int(out_width), int(out_height)),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def mask_landmarks(landmarks, warp: np.ndarray, sim_scale: float) -> np.ndarray:
    """(n, 2) float32 landmarks in the aligned image, eyebrows and jaw ends raised (``AlignFaceMask``)."""
    lm = np.asarray(landmarks, dtype=F32)
    # Mat * Mat (small gemm: double accumulation, one rounding), then + the float translation
    moved = (lm.astype(np.float64) @ warp[:, :2].T.astype(np.float64)).astype(F32)
    moved = moved + warp[:, 2][None, :]
    # float -= double: evaluated in double, rounded back to float
    raise_px = (RAISE_MM / 0.7) * float(sim_scale)
    moved[RAISED_POINTS, 1] = (moved[RAISED_POINTS, 1].astype(np.float64) - raise_px).astype(F32)
    return moved


def align_face(frame, landmarks, params_global, pdm: PDMModel, sim_scale: float = 0.7, out_size: int = 112,
               rigid: bool = True, *, align: AlignShapes) -> np.ndarray:
    """``Face_utils.cpp::AlignFace``: the similarity-aligned face, no mask.

    Parameters
    ----------
    frame : (H, W, 3) uint8 BGR (or (H, W) grey) video frame.
    landmarks : (68, 2) float image points of the tracked face.
    params_global : (6,) float32 ``PDM::CalcParams`` of ``landmarks`` with ``pdm``.
    pdm : the analyser's PDM (``AU_predictors/In-the-wild_aligned_PDM_68.txt``).
    sim_scale, out_size : 0.7 and 112 for the AU features (``-simscale``/``-simsize``).
    align : the resolved ``align_shapes`` kernel (``kernels.align_shapes``).

    Returns
    -------
    (out_size, out_size[, 3]) uint8, same channels as ``frame``.
    """
    warp = similarity_warp(landmarks, params_global, pdm, sim_scale, out_size, out_size, rigid, align=align)
    return warp_face(frame, warp, out_size, out_size)


def align_face_mask(frame, landmarks, params_global, pdm: PDMModel, triangulation: np.ndarray,
                    sim_scale: float = 0.7, out_size: int = 112, rigid: bool = True, *,
                    kernels: Kernels, timer: StageTimer = NULL_TIMER) -> np.ndarray:
    """``Face_utils.cpp::AlignFaceMask``: :func:`align_face`, then black outside the face mesh.

    ``triangulation`` is the (t, 3) int mesh of ``tris_68_full.txt``
    (:func:`aubench.pipeline.models.triangulation.read_triangulation`). The mask is built on the
    landmarks mapped into the aligned image with the jaw ends and eyebrows raised by
    ``30 mm * sim_scale / 0.7`` (the ``face_mask`` kernel: ``kernels.face_mask``); every
    channel is multiplied by it. The similarity comes from ``kernels.align_shapes``.
    """
    lm = _landmarks(landmarks, pdm)
    with timer("au.align.warp"):
        warp = similarity_warp(lm, params_global, pdm, sim_scale, out_size, out_size, rigid, align=kernels.align_shapes)
        aligned = warp_face(frame, warp, out_size, out_size)
    with timer("au.align.mask"):
        mask = kernels.face_mask(mask_landmarks(lm, warp, sim_scale), triangulation, out_size, out_size)
        return aligned * (mask[:, :, None] if aligned.ndim == 3 else mask)
