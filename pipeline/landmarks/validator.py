"""Landmark detection validation with OpenFace's CNN validator.

Reproduces ``LandmarkDetectionValidator.cpp::DetectionValidator::Check``: pick the view
nearest the head orientation, crop the image around the landmarks, warp the face into
the view's reference frame with a piecewise affine warp (``PAW.cpp::PAW::Warp``),
normalise the masked pixels (per image, then per pixel with the model's mean and std),
run the small CNN (``CheckCNN``: conv 9x9 -> ReLU -> max-pool -> conv 7x7 -> ReLU ->
max-pool -> FC -> ReLU -> FC, see ``CNN_utils.cpp``) and turn the arg-max of its 30
outputs into a certainty: bin ``k`` gives ``0.5 * (1 - (-1 + (k + 0.5) * 2 / 30))``,
i.e. 0.9833 for bin 0 down to 0.0167 for bin 29. The tracker treats
``certainty > validation_boundary`` (0.725) as success.

Images are grey, uint8 or float32 holding integer values (both give the same result);
landmarks are (n, 2) float32 image pixels; orientation is ``[rot_x, rot_y, rot_z]`` radians.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from aubench.pipeline.contracts import ValidatorConv
from aubench.pipeline.models.validator import PAWModel, ValidatorModel, ValidatorView, read_validator

F32 = np.float32


# ---------------------------------------------------------------------------
# piecewise affine warp (PAW.cpp)
# ---------------------------------------------------------------------------
def paw_coefficients(paw: PAWModel, source_landmarks: np.ndarray) -> np.ndarray:
    """``PAW::CalcCoeff``: (t, 6) float32 affine map of each destination triangle onto the source."""
    src = np.asarray(source_landmarks, dtype=F32).reshape(-1, 2)
    i, j, k = paw.triangulation[:, 0], paw.triangulation[:, 1], paw.triangulation[:, 2]
    c1 = src[i, 0]
    c2 = src[j, 0] - c1
    c3 = src[k, 0] - c1
    c4 = src[i, 1]
    c5 = src[j, 1] - c4
    c6 = src[k, 1] - c4
    a, b = paw.alpha, paw.beta
    return np.stack(
        [
            c1 + c2 * a[:, 0] + c3 * b[:, 0],
            c2 * a[:, 1] + c3 * b[:, 1],
            c2 * a[:, 2] + c3 * b[:, 2],
            c4 + c5 * a[:, 0] + c6 * b[:, 0],
            c5 * a[:, 1] + c6 * b[:, 1],
            c5 * a[:, 2] + c6 * b[:, 2],
        ],
        axis=1,
    ).astype(F32)


def paw_maps(paw: PAWModel, coefficients: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``PAW::WarpRegion``: float32 (h, w) source coordinates of each destination pixel (-1 outside)."""
    h, w = paw.pixel_mask.shape
    xi = (np.arange(w, dtype=F32) + F32(paw.min_x))[None, :]
    yi = (np.arange(h, dtype=F32) + F32(paw.min_y))[:, None]
    # pixels outside the mask take an extra "triangle" (-1, 0, 0, -1, 0, 0): their maps come out
    # exactly -1, so no masking pass is needed; one gather per coefficient plane
    outside_row = np.array([[-1, 0, 0, -1, 0, 0]], F32)
    planes = np.ascontiguousarray(np.concatenate([np.asarray(coefficients, F32), outside_row]).T)  # (6, t + 1)
    tri = np.where(paw.pixel_mask != 0, paw.triangle_id, len(coefficients))
    c = np.take(planes, tri, axis=1)  # (6, h, w)
    map_x = (c[0] + c[1] * xi) + c[2] * yi
    map_y = (c[3] + c[4] * xi) + c[5] * yi
    return map_x, map_y


def paw_warp(paw: PAWModel, image: np.ndarray, source_landmarks: np.ndarray) -> np.ndarray:
    """``PAW::Warp``: (h, w) float32 destination image (bilinear ``cv::remap``, border 0)."""
    map_x, map_y = paw_maps(paw, paw_coefficients(paw, source_landmarks))
    return cv2.remap(np.asarray(image, dtype=F32), map_x, map_y, cv2.INTER_LINEAR)


# ---------------------------------------------------------------------------
# the CNN (CNN_utils.cpp)
# ---------------------------------------------------------------------------
def conv_weight_matrix(weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The (n_in*kw*kh + 1, n_kernels) float32 matrix ``DetectionValidator::Read`` builds:
    each kernel flattened column-major (kx outer, ky inner) per input map, bias last."""
    n_in, n_k, kh, kw = weights.shape
    return np.concatenate(
        [weights.transpose(0, 3, 2, 1).reshape(n_in * kw * kh, n_k), bias[None, :]], axis=0
    ).astype(F32)


def _max_pooling(maps: np.ndarray, stride: int = 2, kernel: int = 2) -> np.ndarray:
    """``max_pooling``: ceil-mode ("caffe style") 2x2 stride-2 max-pooling of (n, h, w) maps."""
    assert stride == kernel == 2
    n, h, w = maps.shape
    # C round() (half away from zero) of the float quotient
    out_w = int(np.floor(np.float32(w - kernel) / np.float32(stride) + 0.5)) + 1
    out_h = int(np.floor(np.float32(h - kernel) / np.float32(stride) + 0.5)) + 1
    if h == 2 * out_h and w == 2 * out_w:  # no partial windows: the four taps directly
        return np.maximum(np.maximum(maps[:, 0::2, 0::2], maps[:, 0::2, 1::2]),
                          np.maximum(maps[:, 1::2, 0::2], maps[:, 1::2, 1::2]))
    padded = np.full((n, out_h * 2, out_w * 2), -np.finfo(F32).max, dtype=F32)
    hh, ww = min(h, out_h * 2), min(w, out_w * 2)
    padded[:, :hh, :ww] = maps[:, :hh, :ww]
    return padded.reshape(n, out_h, 2, out_w, 2).max(axis=(2, 4))


def _fully_connected(maps: np.ndarray, weights_t64: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``fully_connected`` (the flattening branch): maps flattened column-major, concatenated;
    ``weights_t64`` is the (out, in) transposed weight matrix in float64 (OpenCV's small
    gemm accumulates in double). Returns a (1, 1, out) "map" stack."""
    x = maps.transpose(0, 2, 1).reshape(-1) if maps.shape[0] > 1 else maps.reshape(-1)
    y = (weights_t64 @ x.astype(np.float64)).astype(F32) + bias
    return y.astype(F32).reshape(1, 1, -1)


def prepare_layers(view: ValidatorView) -> list[tuple]:
    """Per layer, the operands :func:`cnn_forward` uses (built once per view, as the C++ does on reading)."""
    prepared = []
    for layer in view.layers:
        if layer.kind == "convolution":
            _, _, kh, kw = layer.weights.shape
            prepared.append((layer.kind, conv_weight_matrix(layer.weights, layer.bias), kh, kw))
        elif layer.kind == "fully_connected":
            prepared.append((layer.kind, np.ascontiguousarray(layer.weights.T, dtype=np.float64), layer.bias))
        else:
            prepared.append((layer.kind,))
    return prepared


def cnn_forward(view: ValidatorView, image: np.ndarray, prepared: list[tuple] | None,
                conv: ValidatorConv) -> np.ndarray:
    """Run one view's CNN on its (h, w) normalised input image; returns the (30,) output.

    ``prepared``: :func:`prepare_layers` of the view (None: prepared here). ``conv``: the
    resolved ``validator_conv`` kernel (``kernels.validator_conv``).
    """
    maps = np.array(image, dtype=F32)[None]  # (n_maps, h, w), a copy: layers may work in place
    for layer in prepared if prepared is not None else prepare_layers(view):
        if layer[0] == "convolution":
            maps = conv(maps, layer[1], layer[2], layer[3])
        elif layer[0] == "max_pooling":
            maps = _max_pooling(maps)
        elif layer[0] == "fully_connected":
            maps = _fully_connected(maps, layer[1], layer[2])
        elif layer[0] == "relu":
            # cv::threshold TOZERO (x > 0 ? x : 0), in place on this function's own maps: fmax
            # gives 0 for NaN as the C++ does; it may keep a -0.0, which no later sum tells from 0
            maps = np.fmax(maps, F32(0), out=maps)
        elif layer[0] == "sigmoid":
            maps = (F32(1) / (F32(1) + np.exp(-maps))).astype(F32)
    return maps.reshape(-1)


def certainty_from_output(output: np.ndarray) -> float:
    """``CheckCNN``'s unquantisation of the arg-max bin, then ``Check``'s ``0.5 * (1 - dec)``."""
    bins = float(output.size)
    idx = int(np.argmax(output))  # first maximum, as cv::minMaxLoc
    step = 2.0 / bins
    dec = -1.0 + step / 2.0 + idx * step
    return float(F32(0.5 * (1.0 - dec)))


# ---------------------------------------------------------------------------
# the validator
# ---------------------------------------------------------------------------
class DetectionValidator:
    """OpenFace's CNN landmark detection validator (``DetectionValidator``).

    Parameters
    ----------
    model : :class:`aubench.pipeline.models.validator.ValidatorModel` (see :func:`load_validator`).
    conv : the resolved ``validator_conv`` kernel (``kernels.validator_conv``).
    """

    def __init__(self, model: ValidatorModel, conv: ValidatorConv):
        self.model = model
        self.conv = conv
        self._prepared = [prepare_layers(view) for view in model.views]
        self._orientations = np.array([np.asarray(v.orientation, np.float64).reshape(3) for v in model.views])

    def view_id(self, orientation) -> int:
        """``GetViewId``: nearest view orientation (Euclidean distance of the Euler angles)."""
        o = np.asarray(orientation, dtype=np.float64).reshape(3)
        diff = self._orientations - o
        return int(np.argmin(np.sqrt((diff * diff).sum(axis=1))))

    def warp(self, view: ValidatorView, gray: np.ndarray, landmarks: np.ndarray) -> np.ndarray | None:
        """Crop around the landmarks (+-3 px, clipped to the image) and PAW-warp; None when the crop is empty."""
        lm = np.asarray(landmarks, dtype=F32).reshape(-1, 2)
        min_x = int(F32(lm[:, 0].min()) - F32(3))  # (int) truncates toward zero
        max_x = int(F32(lm[:, 0].max()) + F32(3))
        min_y = int(F32(lm[:, 1].min()) - F32(3))
        max_y = int(F32(lm[:, 1].max()) + F32(3))
        height, width = gray.shape[:2]
        min_x, min_y = max(min_x, 0), max(min_y, 0)
        max_x, max_y = min(max_x, width - 1), min(max_y, height - 1)
        if max_x - min_x <= 1 or max_y - min_y <= 1:
            return None
        crop = np.asarray(gray[min_y:max_y, min_x:max_x], dtype=F32)
        local = (lm - np.array([min_x, min_y], dtype=F32)).astype(F32)
        return paw_warp(view.paw, crop, local)

    def features(self, view: ValidatorView, warped: np.ndarray) -> np.ndarray:
        """``NormaliseWarpedToVector``: masked pixels (column-major), standardised per image then per pixel."""
        mask_t = view.paw.pixel_mask.T != 0
        vec = np.asarray(warped, dtype=F32).T[mask_t]
        mean = float(np.mean(vec, dtype=np.float64))
        std = float(np.sqrt(np.mean((vec.astype(np.float64) - mean) ** 2)))
        vec = (vec - F32(mean)).astype(F32)
        if std == 0:
            std = 1.0
        vec = (vec * F32(1.0 / std)).astype(F32)
        return ((vec - view.mean_image) / view.std_dev).astype(F32)

    def cnn_input(self, view: ValidatorView, warped: np.ndarray) -> np.ndarray:
        """The (h, w) image the CNN sees: the normalised features put back at the mask's pixels."""
        feats = self.features(view, warped)
        img_t = np.zeros(warped.shape[::-1], dtype=F32)
        img_t[view.paw.pixel_mask.T != 0] = feats
        return np.ascontiguousarray(img_t.T)

    def check(self, orientation, gray: np.ndarray, landmarks: np.ndarray) -> float:
        """``DetectionValidator::Check``: certainty in (0, 1) that the landmarks sit on a face."""
        view_id = self.view_id(orientation)
        view = self.model.views[view_id]
        warped = self.warp(view, gray, landmarks)
        if warped is None:
            return 0.0
        return certainty_from_output(cnn_forward(view, self.cnn_input(view, warped), self._prepared[view_id],
                                                 self.conv))


def load_validator(path: str | Path, conv: ValidatorConv) -> DetectionValidator:
    """Read ``validator_cnn.txt`` and wrap it (the loader :mod:`aubench.pipeline.landmarks.clnf` looks for)."""
    return DetectionValidator(read_validator(path), conv)
