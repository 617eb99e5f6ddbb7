"""MTCNN face detection as OpenFace 2.2 runs it (``FaceDetectorMTCNN.cpp::FaceDetectorMTCNN::DetectFaces``).

Stages of one :meth:`MTCNNDetector.detect` call:

1. **Pyramid**: scales ``(12 / min_face_size) * 0.709**i`` for
   ``i < floor(log(min_face_size / min(h, w)) / log(0.709)) + 1``; each level is
   ``cv::resize`` (bilinear) of the float frame to ``ceil(w*s) x ceil(h*s)``, normalised
   ``(x - 127.5) * 0.0078125``, channels flipped to RGB.
2. **PNet** (``detect.pnet``) on every level: face probability ``1 / (1 + exp(l0 - l1))``
   and 4 box corrections per 2-px step; every cell with probability >= ``pnet_threshold``
   gives a 12x12 box mapped back to the frame (``generate_bounding_boxes``; cells visited
   column by column). Large levels run in row bands (same values, bounded memory).
3. **NMS** (``detect.nms``) 0.5 IoU per level, then 0.7 IoU across levels; the
   corrections are applied and the boxes squared and truncated to integers (``rectify``).
4. **RNet** (``detect.rnet``): each box (plus a 1-px border, zero outside the frame) is
   resized to 24x24; boxes scoring >= ``rnet_threshold`` are kept, NMS 0.7, corrected, squared.
5. **ONet** (``detect.onet``): the same on 48x48 crops; boxes scoring >= ``onet_threshold``
   are corrected (box size + 1), NMS 0.7 with the overlap over the *smaller* area.
6. The box is moved to where CLNF expects the face: ``x -= 0.0075 w``, ``y += 0.2459 h``,
   ``w *= 1.0323``, ``h *= 0.7751``. That box and the ONet probability are a :class:`Detection`.

Box arithmetic follows the C++ types (float32 boxes, integer ``cv::Rect`` in NMS and in
``apply_correction``, truncation in ``rectify``). The network layers are the registered
kernels ``mtcnn_conv``, ``mtcnn_prelu``, ``mtcnn_max_pool``, ``mtcnn_fc`` and NMS is
``mtcnn_nms``: the :class:`registry.Kernels` passed in decides which variant runs.

:meth:`MTCNNDetector.detect_single` is ``LandmarkDetectorUtils.cpp::DetectSingleFaceMTCNN``:
the widest face (the first one on equal widths), or the one closest to a preferred point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from aubench.pipeline.config import DetectorParameters
from aubench.pipeline.errors import InputError
from aubench.pipeline.models.mtcnn_dat import MTCNNModel, Network, read_mtcnn
from aubench.pipeline.registry import Kernels
from aubench.pipeline.timing import NULL_TIMER, StageTimer

F32 = np.float32
FACE_SUPPORT = 12  # PNet sees 12x12 px
PNET_STRIDE = 2
# OpenFace keeps a float copy of the whole frame (12 bytes a pixel); above this many pixels
# the detector refuses the frame instead of growing past ~1 GB.
MAX_PIXELS = 50_000_000
# PNet levels larger than this many pixels run in bands of output rows.
PNET_BAND_PIXELS = 1 << 18
# final correction towards the landmark-tight box CLNF expects (DetectFaces' last loop)
FINAL_CORRECTION = (-0.0075, 0.2459, 1.0323, 0.7751)


@dataclass(frozen=True)
class Detection:
    """One face: the corrected box handed to CLNF (x, y, w, h in px) and the ONet probability."""

    x: float
    y: float
    w: float
    h: float
    confidence: float


@dataclass(frozen=True)
class Boxes:
    """Boxes of one stage: ``xywh`` (n, 4) float32, ``scores`` (n,) float32, ``corrections`` (n, 4) float32."""

    xywh: np.ndarray
    scores: np.ndarray
    corrections: np.ndarray

    @staticmethod
    def empty() -> Boxes:
        return Boxes(np.zeros((0, 4), F32), np.zeros(0, F32), np.zeros((0, 4), F32))

    def __len__(self) -> int:
        return len(self.scores)

    def subset(self, keep: np.ndarray) -> Boxes:
        keep = np.asarray(keep, dtype=np.int64)
        return Boxes(self.xywh[keep], self.scores[keep], self.corrections[keep])

    @staticmethod
    def concat(parts: list[Boxes]) -> Boxes:
        if not parts:
            return Boxes.empty()
        return Boxes(np.concatenate([p.xywh for p in parts]), np.concatenate([p.scores for p in parts]),
                     np.concatenate([p.corrections for p in parts]))


# -- image pyramid -------------------------------------------------------------------------

def pyramid_scales(height: int, width: int, min_face_size: int, pyramid_factor: float) -> list[float]:
    """The PNet scales (``DetectFaces``): empty when the frame is smaller than a minimum face."""
    min_dim = min(height, width)
    if min_dim <= 0:
        return []
    num_scales = math.floor(math.log(min_face_size / min_dim) / math.log(pyramid_factor)) + 1
    return [(FACE_SUPPORT / min_face_size) * pyramid_factor ** i for i in range(max(num_scales, 0))]


def pyramid_size(height: int, width: int, scale: float) -> tuple[int, int]:
    """(h, w) of a pyramid level: ``ceil(h * s)``, ``ceil(w * s)``."""
    return math.ceil(height * scale), math.ceil(width * scale)


def normalise(img_f32: np.ndarray) -> np.ndarray:
    """``(img - 127.5) * 0.0078125`` in float32, as OpenFace scales each network input."""
    return (img_f32 - F32(127.5)) * F32(0.0078125)


# -- box arithmetic (FaceDetectorMTCNN.cpp helpers) ------------------------------------------

def generate_bounding_boxes(prob: np.ndarray, reg: np.ndarray, scale: float, threshold: float) -> Boxes:
    """``generate_bounding_boxes``: a frame box per PNet cell with probability >= threshold.

    ``prob`` (H, W), ``reg`` (H, W, 4). Cells are taken column by column (x outer), as the
    C++ loops; corners ``int((2 * cell + 1) / scale)`` and ``int((2 * cell + 12) / scale)``
    with a float32 scale.
    """
    xs, ys = np.nonzero(prob.T >= F32(threshold))
    if xs.size == 0:
        return Boxes.empty()
    s = F32(scale)
    min_x = np.trunc((PNET_STRIDE * xs + 1).astype(F32) / s)
    max_x = np.trunc((PNET_STRIDE * xs + FACE_SUPPORT).astype(F32) / s)
    min_y = np.trunc((PNET_STRIDE * ys + 1).astype(F32) / s)
    max_y = np.trunc((PNET_STRIDE * ys + FACE_SUPPORT).astype(F32) / s)
    xywh = np.stack([min_x, min_y, max_x - min_x, max_y - min_y], axis=1).astype(F32)
    return Boxes(xywh, prob[ys, xs].astype(F32), reg[ys, xs].astype(F32))


def apply_correction(boxes: Boxes, add1: bool) -> Boxes:
    """``apply_correction``: move the box edges by the regressed fractions of its integer size."""
    r = np.rint(boxes.xywh).astype(np.int64)  # cv::Rect(Rect_<float>)
    x, y, w, h = (r[:, i] for i in range(4))
    if add1:
        w, h = w + 1, h + 1
    c = boxes.corrections
    xf, yf, wf, hf = (v.astype(F32) for v in (x, y, w, h))
    new_min_x = xf + c[:, 0] * wf
    new_min_y = yf + c[:, 1] * hf
    new_max_x = (x + w).astype(F32) + wf * c[:, 2]
    new_max_y = (y + h).astype(F32) + hf * c[:, 3]
    xywh = np.stack([new_min_x, new_min_y, new_max_x - new_min_x, new_max_y - new_min_y], axis=1).astype(F32)
    return Boxes(xywh, boxes.scores, boxes.corrections)


def rectify(boxes: Boxes) -> Boxes:
    """``rectify``: square each box on its longer side, truncating corner and side to integers."""
    x, y, w, h = (boxes.xywh[:, i] for i in range(4))
    side = np.maximum(w, h)
    new_x = (x.astype(np.float64) + 0.5 * (w - side).astype(np.float64)).astype(F32)
    new_y = (y.astype(np.float64) + 0.5 * (h - side).astype(np.float64)).astype(F32)
    xywh = np.stack([np.trunc(new_x), np.trunc(new_y), np.trunc(side), np.trunc(side)], axis=1).astype(F32)
    return Boxes(xywh, boxes.scores, boxes.corrections)


def final_correction(xywh: np.ndarray) -> np.ndarray:
    """The last loop of ``DetectFaces`` (double arithmetic stored as float)."""
    b = xywh.astype(np.float64)
    dx, dy, sw, sh = FINAL_CORRECTION
    out = np.stack([b[:, 2] * dx + b[:, 0], b[:, 3] * dy + b[:, 1], sw * b[:, 2], sh * b[:, 3]], axis=1)
    return out.astype(F32)


def crop_patches(image: np.ndarray, xywh: np.ndarray, size: int) -> np.ndarray:
    """RNet/ONet inputs: each integer box plus a 1-px border (zeros outside the frame), resized.

    Returns (n, size, size, 3) float32 normalised, channels as in ``image`` (BGR).
    """
    height, width = image.shape[:2]
    out = np.empty((len(xywh), size, size, 3), dtype=F32)
    for k, (bx, by, bw, bh) in enumerate(xywh.astype(np.float64)):
        tw, th = int(bw + 1), int(bh + 1)
        if tw <= 0 or th <= 0:
            out[k] = normalise(np.zeros((size, size, 3), F32))
            continue
        x0_in, y0_in = max(int(bx - 1), 0), max(int(by - 1), 0)
        x1_in, y1_in = min(int(bx + tw - 1), width), min(int(by + th - 1), height)
        x0_out, y0_out = max(int(-bx + 1), 0), max(int(-by + 1), 0)
        tmp = np.zeros((th, tw, 3), dtype=F32)
        cw, ch = x1_in - x0_in, y1_in - y0_in
        if cw > 0 and ch > 0:
            tmp[y0_out:y0_out + ch, x0_out:x0_out + cw] = image[y0_in:y1_in, x0_in:x1_in]
        out[k] = normalise(cv2.resize(tmp, (size, size), interpolation=cv2.INTER_LINEAR))
    return out


def softmax_prob(logit0: np.ndarray, logit1: np.ndarray) -> np.ndarray:
    """Face probability ``1 / (1 + exp(l0 - l1))`` (float32)."""
    with np.errstate(over="ignore"):
        return (1.0 / (1.0 + np.exp((logit0 - logit1).astype(np.float64)))).astype(F32)


# -- the networks -------------------------------------------------------------------------------

def receptive_field(net: Network) -> tuple[int, int]:
    """(rows of input one output row needs, input rows per output row) of a fully convolutional net."""
    field, step = 1, 1
    for layer in net.layers:
        if layer.kind == "convolution":
            field += (layer.weights.shape[2] - 1) * step
        elif layer.kind == "max_pooling":
            field += (layer.kernel[1] - 1) * step
            step *= layer.stride[1]
    return field, step


def pooled_size(size: int, kernel: int, stride: int) -> int:
    """Cells along one axis after ``CNN_utils.cpp::max_pooling``: ``round((float)(size - kernel) / stride) + 1``.

    C ``round`` (halves away from zero), so a partial window at the edge is kept when the
    division rounds up. The output size of the ``mtcnn_max_pool`` kernel.
    """
    q = float(np.float32(size - kernel) / np.float32(stride))
    return int(math.copysign(math.floor(abs(q) + 0.5), q)) + 1


def output_size(net: Network, size: int) -> int:
    """Rows (or columns) a fully convolutional net outputs for ``size`` input rows (columns)."""
    for layer in net.layers:
        if size <= 0:
            return 0
        if layer.kind == "convolution":
            size = size - layer.weights.shape[2] + 1
        elif layer.kind == "max_pooling":
            size = pooled_size(size, layer.kernel[1], layer.stride[1])
    return max(size, 0)


def forward(net: Network, maps: np.ndarray, kernels: Kernels) -> np.ndarray:
    """``CNN::Inference`` on a batch of (N, H, W, 3) RGB float32 maps.

    Returns (N, Ho, Wo, outputs) for a fully convolutional net (PNet), (N, outputs) otherwise.
    """
    x = maps
    for layer in net.layers:
        if layer.kind == "convolution":
            x = kernels.mtcnn_conv(x, layer.weights, layer.bias)
        elif layer.kind == "prelu":
            x = kernels.mtcnn_prelu(x, layer.weights)
        elif layer.kind == "max_pooling":
            x = kernels.mtcnn_max_pool(x, layer.kernel, layer.stride)
        elif layer.kind == "fully_connected":
            if x.ndim == 4 and x.shape[3] == layer.weights.shape[1]:
                # per-pixel layer (the C++ multiplies the map-by-pixel matrix): a 1x1 convolution
                x = kernels.mtcnn_conv(x, layer.weights[:, :, None, None], layer.bias)
            else:
                if x.ndim == 4:  # flatten map by map, each map column by column (C++ transposes)
                    x = np.ascontiguousarray(x.transpose(0, 3, 2, 1)).reshape(x.shape[0], -1)
                x = kernels.mtcnn_fc(x, layer.weights, layer.bias)
        elif layer.kind == "sigmoid":
            with np.errstate(over="ignore"):
                x = (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(F32)
    return x


class MTCNNDetector:
    """OpenFace 2.2's MTCNN face detector.

    Parameters
    ----------
    models_dir : OpenFace model folder (holding ``model/mtcnn_detector/``), or the
        ``MTCNN_detector.txt`` file itself.
    params : :class:`aubench.pipeline.config.DetectorParameters` (min face size, thresholds, pyramid factor).
    kernels : resolved :class:`aubench.pipeline.registry.Kernels` (``mtcnn_conv``, ``mtcnn_prelu``,
        ``mtcnn_max_pool``, ``mtcnn_fc``, ``mtcnn_nms``).
    model : an already read :class:`MTCNNModel` (skips reading the files).
    """

    def __init__(self, models_dir: str | Path, params: DetectorParameters, kernels: Kernels, *, model: MTCNNModel | None = None):
        self.params = params
        self.kernels = kernels
        self.model = model if model is not None else read_mtcnn(models_dir)
        self._pnet_field = receptive_field(self.model.pnet)

    # -- public API ---------------------------------------------------------------------------
    def detect(self, image: np.ndarray, timer: StageTimer = NULL_TIMER) -> list[Detection]:
        """All faces of a BGR (H, W, 3) or grey (H, W) uint8 frame, most confident first."""
        boxes = self.detect_boxes(image, timer)
        return [Detection(float(b[0]), float(b[1]), float(b[2]), float(b[3]), float(s))
                for b, s in zip(boxes.xywh, boxes.scores)]

    def detect_single(self, image: np.ndarray, timer: StageTimer = NULL_TIMER,
                      preference: tuple[float, float] | None = None) -> Detection | None:
        """``DetectSingleFaceMTCNN``: the widest face, or the one nearest ``preference`` (x, y px)."""
        faces = self.detect(image, timer)
        if not faces:
            return None
        if preference is None:
            widths = [F32(f.w) for f in faces]
            best = 0
            for i in range(1, len(faces)):
                if widths[i] > widths[best]:
                    best = i
            return faces[best]
        px, py = preference

        def dist(f: Detection) -> float:
            return math.hypot(px - (f.w / 2 + f.x), py - (f.h / 2 + f.y))

        best = 0
        for i in range(1, len(faces)):
            if dist(faces[i]) < dist(faces[best]):
                best = i
        return faces[best]

    # -- the stages ---------------------------------------------------------------------------
    def detect_boxes(self, image: np.ndarray, timer: StageTimer = NULL_TIMER, trace: dict | None = None) -> Boxes:
        """The final corrected boxes and ONet probabilities; ``trace`` (a dict) collects every stage."""
        image = self._as_bgr(image)
        p = self.params
        height, width = image.shape[:2]
        scales = pyramid_scales(height, width, p.min_face_size, p.pyramid_factor)
        if trace is not None:
            trace["scales"] = scales
        if not scales:
            return Boxes.empty()

        with timer("detect.pnet"):
            per_scale = self._pnet(image, scales, trace)
        with timer("detect.nms"):
            kept = [b.subset(self.kernels.mtcnn_nms(b.xywh, b.scores, 0.5, False)) for b in per_scale]
            boxes = Boxes.concat(kept)
            if trace is not None:
                trace["stage1"] = boxes
            boxes = boxes.subset(self.kernels.mtcnn_nms(boxes.xywh, boxes.scores, 0.7, False))
            boxes = rectify(apply_correction(boxes, add1=False))
        if trace is not None:
            trace["stage2"] = boxes
        if not len(boxes):
            return Boxes.empty()

        with timer("detect.rnet"):
            boxes = self._refine(self.model.rnet, image, boxes, 24)
        if trace is not None:
            trace["stage3"] = boxes
        with timer("detect.nms"):
            boxes = boxes.subset(np.nonzero(boxes.scores >= F32(p.rnet_threshold))[0])
            boxes = boxes.subset(self.kernels.mtcnn_nms(boxes.xywh, boxes.scores, 0.7, False))
            boxes = rectify(apply_correction(boxes, add1=False))
        if trace is not None:
            trace["stage4"] = boxes
        if not len(boxes):
            return Boxes.empty()

        with timer("detect.onet"):
            boxes = self._refine(self.model.onet, image, boxes, 48)
        if trace is not None:
            trace["stage5"] = boxes
        with timer("detect.nms"):
            boxes = boxes.subset(np.nonzero(boxes.scores >= F32(p.onet_threshold))[0])
            boxes = apply_correction(boxes, add1=True)
            boxes = boxes.subset(self.kernels.mtcnn_nms(boxes.xywh, boxes.scores, 0.7, True))
        if trace is not None:
            trace["stage6"] = boxes
        return Boxes(final_correction(boxes.xywh), boxes.scores, np.zeros_like(boxes.corrections))

    def pnet_maps(self, level_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """PNet on one normalised BGR level (h, w, 3): probability (H, W) and corrections (H, W, 4).

        Levels above ``PNET_BAND_PIXELS`` run in bands of output rows; each band gets the
        input rows its outputs read (PNet is fully convolutional), so the maps are the same.
        """
        rgb = level_bgr[:, :, ::-1]
        h, w = rgb.shape[:2]
        field, step = self._pnet_field
        out_h, out_w = output_size(self.model.pnet, h), output_size(self.model.pnet, w)
        if out_h <= 0 or out_w <= 0:
            return np.zeros((0, 0), F32), np.zeros((0, 0, 4), F32)
        rows_per_band = max(1, PNET_BAND_PIXELS // max(1, w * step))
        outs = []
        for r0 in range(0, out_h, rows_per_band):
            r1 = min(out_h, r0 + rows_per_band)
            band = rgb[step * r0: min(h, step * (r1 - 1) + field)] if out_h > rows_per_band else rgb
            out = forward(self.model.pnet, np.ascontiguousarray(band)[None], self.kernels)[0]
            outs.append(out[: r1 - r0])
        out = np.concatenate(outs, axis=0) if len(outs) > 1 else outs[0]
        return softmax_prob(out[..., 0], out[..., 1]), np.ascontiguousarray(out[..., 2:6])

    # -- helpers --------------------------------------------------------------------------------
    @staticmethod
    def _as_bgr(image: np.ndarray) -> np.ndarray:
        image = np.asarray(image)
        if image.dtype != np.uint8:
            raise InputError(f"MTCNN detector: expected a uint8 image, got dtype {image.dtype}; convert the frame to 8-bit")
        if image.ndim in (2, 3) and image.shape[0] * image.shape[1] > MAX_PIXELS:
            h, w = image.shape[:2]
            raise InputError(
                f"MTCNN detector: image of {w}x{h} px ({h * w / 1e6:.0f} Mpx) is larger than the {MAX_PIXELS / 1e6:.0f} Mpx "
                "it handles (it keeps a float copy of the whole frame, as OpenFace does); downscale the image first")
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[:, :, 0]
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)  # cvtColor(GRAY2RGB): three equal channels
        elif image.ndim != 3 or image.shape[2] not in (3, 4):
            raise InputError(f"MTCNN detector: expected an (H, W) grey or (H, W, 3) BGR image, got shape {image.shape}")
        elif image.shape[2] == 4:
            image = np.ascontiguousarray(image[:, :, :3])
        return image

    def _pnet(self, image: np.ndarray, scales: list[float], trace: dict | None) -> list[Boxes]:
        height, width = image.shape[:2]
        img_f32 = image.astype(F32)
        per_scale = []
        for scale in scales:
            h_pyr, w_pyr = pyramid_size(height, width, scale)
            level = normalise(cv2.resize(img_f32, (w_pyr, h_pyr), interpolation=cv2.INTER_LINEAR))
            prob, reg = self.pnet_maps(level)
            boxes = generate_bounding_boxes(prob, reg, scale, self.params.pnet_threshold)
            if trace is not None:
                trace.setdefault("levels", []).append({"size": (h_pyr, w_pyr), "input": level, "prob": prob,
                                                       "reg": reg, "candidates": boxes})
            per_scale.append(boxes)
        return per_scale

    def _refine(self, net: Network, image: np.ndarray, boxes: Boxes, size: int) -> Boxes:
        """RNet/ONet on every box: new scores and corrections (boxes unchanged)."""
        patches = crop_patches(image, boxes.xywh, size)[:, :, :, ::-1]
        out = forward(net, np.ascontiguousarray(patches), self.kernels)
        return Boxes(boxes.xywh, softmax_prob(out[:, 0], out[:, 1]), np.ascontiguousarray(out[:, 2:6], dtype=F32))
