"""Reader of OpenFace's MTCNN face detector (``FaceDetectorMTCNN.cpp::FaceDetectorMTCNN::Read``, ``CNN::Read``).

``model/mtcnn_detector/MTCNN_detector.txt`` names the three networks, one per line
(``PNet PNet.dat``; paths relative to that file). Each ``.dat`` is binary, little-endian::

    int32 depth, then per layer: int32 type
        0 convolution:     int32 n_in, int32 n_kernels, n_kernels x float32 bias,
                           n_in x n_kernels x Mat kernel (kh, kw) float32 (cross-correlation)
        1 max-pooling:     int32 kernel_x, kernel_y, stride_x, stride_y
        2 fully connected: Mat bias (n_out, 1), Mat weights (n_in, n_out)
        3 PReLU:           Mat slopes (n_maps, 1)
        4 sigmoid

where ``Mat`` is ``ReadMatBin`` (int32 rows, cols, OpenCV type, row-major data). The
networks must also chain (each layer's input channels = the previous layer's output).
Any problem raises :class:`aubench.pipeline.errors.ModelFormatError` naming the file.
"""

from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aubench.pipeline.errors import ModelFormatError
from aubench.pipeline.models.validator import BinaryCursor

DETECTOR_FILE = "model/mtcnn_detector/MTCNN_detector.txt"
NETWORKS = ("PNet", "RNet", "ONet")
LAYER_KINDS = {0: "convolution", 1: "max_pooling", 2: "fully_connected", 3: "prelu", 4: "sigmoid"}
# outputs each network must produce: 2 face/non-face logits + 4 box corrections (+ 10 landmarks for ONet)
MIN_OUTPUTS = {"PNet": 6, "RNet": 6, "ONet": 6}


@dataclass(frozen=True, eq=False)
class Layer:
    """One MTCNN layer.

    ``kind`` is one of LAYER_KINDS' values.
    convolution: ``weights`` (n_kernels, n_in, kh, kw) float32 cross-correlation kernels, ``bias`` (n_kernels,).
    max_pooling: ``kernel`` (kx, ky) and ``stride`` (sx, sy).
    fully_connected: ``weights`` (n_out, n_in) float32 (as ``CNN::Read`` stores them, transposed), ``bias`` (n_out,).
    prelu: ``weights`` (n_maps,) negative slopes.
    """

    kind: str
    weights: np.ndarray | None = None
    bias: np.ndarray | None = None
    kernel: tuple[int, int] = (0, 0)
    stride: tuple[int, int] = (0, 0)


@dataclass(frozen=True, eq=False)
class Network:
    """One of PNet/RNet/ONet: its layers in order and the file it came from."""

    name: str
    path: Path
    layers: tuple[Layer, ...]
    flat_output: bool = False  # True when a fully connected layer flattens the maps (RNet, ONet)

    @property
    def n_outputs(self) -> int:
        last = [layer for layer in self.layers if layer.kind in ("convolution", "fully_connected")][-1]
        return int(last.weights.shape[0])


@dataclass(frozen=True, eq=False)
class MTCNNModel:
    pnet: Network
    rnet: Network
    onet: Network


def _finite(path: Path, arr: np.ndarray, what: str) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        arr = np.asarray(arr, dtype=np.float32)
    if not np.all(np.isfinite(arr)):
        raise ModelFormatError(path, f"finite float32 values in {what}", "NaN or infinity")
    return arr


def _float_mat(cur: BinaryCursor, what: str) -> np.ndarray:
    m = cur.mat(what)
    if m.ndim != 2 or m.dtype != np.float32:
        raise ModelFormatError(cur.path, f"a single-channel float32 matrix for {what}", f"{m.dtype} {m.shape}")
    return _finite(cur.path, m, what)


_CV_32FC1 = 5


def _conv_kernels(cur: BinaryCursor, n_in: int, n_k: int, where: str) -> np.ndarray:
    """The n_in x n_k float32 kernels of a convolution layer, as (n_k, n_in, kh, kw).

    ``CNN::Read`` stores each kernel as its own small matrix (PNet..ONet: ~20 000 of them), so
    this reads the headers with one ``struct`` call each and the values in one copy; anything
    unexpected goes through :func:`_float_mat` for its error message.
    """
    data, shape = cur.data, None
    blocks: list[np.ndarray] = []
    for i in range(n_in):
        for j in range(n_k):
            header = struct.unpack_from("<iii", data, cur.pos) if cur.pos + 12 <= len(data) else None
            count = header[0] * header[1] if header else -1
            if (header is None or header[2] != _CV_32FC1 or header[0] < 1 or header[1] < 1
                    or (shape is not None and header[:2] != shape) or cur.pos + 12 + 4 * count > len(data)):
                m = _float_mat(cur, f"kernel {i},{j} of {where}")  # raises, or a kernel of another shape
                if shape is not None and m.shape != shape or min(m.shape) < 1:
                    raise ModelFormatError(cur.path, f"equal non-empty kernels in {where}", "mixed or empty shapes")
                shape = m.shape
                blocks.append(m)
                continue
            shape = header[:2]
            blocks.append(np.frombuffer(data, dtype="<f4", count=count, offset=cur.pos + 12))
            cur.pos += 12 + 4 * count
    kernels = np.array(blocks, dtype=np.float32).reshape(n_in, n_k, *shape)
    return np.ascontiguousarray(_finite(cur.path, kernels, f"the kernels of {where}").transpose(1, 0, 2, 3))


def read_network(path: str | Path, name: str = "") -> Network:
    """Read one ``.dat`` network (``CNN::Read``) and check that its layers chain.

    A parsed network is kept in the derived-array cache (:func:`aubench.pipeline.cache.parsed`, keyed by
    the file's path, size and modification time): parsing value by value takes ~60 ms a start.
    """
    from aubench.pipeline import cache

    path = Path(path)
    name = name or path.stem
    if not path.is_file():
        raise ModelFormatError(path, f"the MTCNN {name} network file", "no such file")
    net = cache.parsed("Network", 1, path, _parse_network)
    return net if net.name == name and net.path == path else dataclasses.replace(net, name=name, path=path)


def _parse_network(path: Path) -> Network:
    name = path.stem
    cur = BinaryCursor(path, path.read_bytes())
    depth = cur.int32("the network depth")
    if not 0 < depth < 1000:
        raise ModelFormatError(path, "a network depth in 1..999", str(depth))
    layers: list[Layer] = []
    channels = 3  # the network sees an RGB image
    flat = False  # after a fully connected layer the maps are one vector
    for k in range(depth):
        kind = cur.int32(f"the type of layer {k}")
        if kind not in LAYER_KINDS:
            raise ModelFormatError(path, f"a layer type in {sorted(LAYER_KINDS)} for layer {k}", str(kind))
        where = f"layer {k} ({LAYER_KINDS[kind]})"
        if kind == 0:
            n_in = cur.int32(f"the input map count of {where}")
            n_k = cur.int32(f"the kernel count of {where}")
            if not (0 < n_in < 4096 and 0 < n_k < 4096):
                raise ModelFormatError(path, f"map and kernel counts in 1..4095 for {where}", f"{n_in}, {n_k}")
            if flat or n_in != channels:
                raise ModelFormatError(path, f"{channels} input maps for {where} (the previous layer's output)", str(n_in))
            bias = np.array([cur.float32(f"bias {b} of {where}") for b in range(n_k)], dtype=np.float32)
            weights = _conv_kernels(cur, n_in, n_k, where)
            layers.append(Layer("convolution", weights, _finite(path, bias, f"the biases of {where}")))
            channels = n_k
        elif kind == 1:
            kx, ky, sx, sy = (cur.int32(f"{v} of {where}") for v in ("kernel_x", "kernel_y", "stride_x", "stride_y"))
            if not all(0 < v < 64 for v in (kx, ky, sx, sy)) or flat:
                raise ModelFormatError(path, f"pooling kernel and stride in 1..63 on maps for {where}", f"{kx, ky, sx, sy}")
            layers.append(Layer("max_pooling", kernel=(kx, ky), stride=(sx, sy)))
        elif kind == 2:
            bias = _float_mat(cur, f"the biases of {where}")
            weights = _float_mat(cur, f"the weights of {where}")
            n_in, n_out = weights.shape
            if bias.shape != (n_out, 1) or n_out < 1 or n_in < 1:
                raise ModelFormatError(path, f"weights (n_in, n_out) and (n_out, 1) biases in {where}",
                                       f"{weights.shape}, {bias.shape}")
            # on maps: either a per-pixel (1x1) layer (n_in == channels) or a flattening one (n_in = channels * h * w)
            if (flat and n_in != channels) or (not flat and (n_in < channels or n_in % channels)):
                raise ModelFormatError(path, f"weights whose input count fits the {channels} previous outputs in {where}",
                                       str(n_in))
            flat = flat or n_in != channels
            layers.append(Layer("fully_connected", np.ascontiguousarray(weights.T), bias.reshape(-1).copy()))
            channels = n_out
        elif kind == 3:
            slopes = _float_mat(cur, f"the slopes of {where}")
            if slopes.shape != (channels, 1):
                raise ModelFormatError(path, f"({channels}, 1) slopes in {where}", str(slopes.shape))
            layers.append(Layer("prelu", slopes.reshape(-1).copy()))
        else:
            layers.append(Layer("sigmoid"))
    if cur.pos != len(cur.data):
        raise ModelFormatError(path, f"the end of the file after {depth} layers", f"{len(cur.data) - cur.pos} more bytes")
    if not any(layer.kind in ("convolution", "fully_connected") for layer in layers):
        raise ModelFormatError(path, "at least one convolution or fully connected layer", "none")
    return Network(name, path, tuple(layers), flat)


def read_mtcnn(location: str | Path) -> MTCNNModel:
    """Read the detector from ``MTCNN_detector.txt`` or from an OpenFace model folder that holds it.

    Checks that each network gives at least the 6 outputs the detector reads
    (2 logits, 4 box corrections) and that RNet and ONet end in a fully connected layer.
    """
    location = Path(location)
    if location.is_dir():
        location = location / DETECTOR_FILE
    if not location.is_file():
        raise ModelFormatError(location, "the MTCNN detector list (MTCNN_detector.txt)", "no such file")
    try:
        text = location.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ModelFormatError(location, "a text file with lines `PNet PNet.dat`", "binary data") from None
    paths: dict[str, Path] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in NETWORKS:
            paths[parts[0]] = location.parent / parts[1]
    missing = [n for n in NETWORKS if n not in paths]
    if missing:
        raise ModelFormatError(location, "lines naming PNet, RNet and ONet files", f"no {', '.join(missing)}")
    nets = {n: read_network(paths[n], n) for n in NETWORKS}
    for n, net in nets.items():
        if net.n_outputs < MIN_OUTPUTS[n]:
            raise ModelFormatError(net.path, f"at least {MIN_OUTPUTS[n]} outputs from {n}", str(net.n_outputs))
        if net.flat_output != (n != "PNet"):
            expected = "a fully convolutional PNet" if n == "PNet" else f"{n} ending in a flattening fully connected layer"
            raise ModelFormatError(net.path, expected, "the other kind of network")
    return MTCNNModel(nets["PNet"], nets["RNet"], nets["ONet"])
