"""Reader of OpenFace's MTCNN networks (PNet/RNet/ONet .dat) on the real files and damaged copies."""

from __future__ import annotations

import shutil
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aubench.pipeline.errors import ModelFormatError
from aubench.pipeline.models.mtcnn_dat import DETECTOR_FILE, read_mtcnn, read_network

from ...conftest import MODELS

PNET = MODELS / "model" / "mtcnn_detector" / "PNet.dat"
PNET_BYTES = PNET.read_bytes()


def test_real_networks(models_dir):
    model = read_mtcnn(models_dir)
    kinds = [layer.kind for layer in model.pnet.layers]
    assert kinds == ["convolution", "prelu", "max_pooling", "convolution", "prelu", "convolution", "prelu",
                     "fully_connected"]
    assert model.pnet.layers[0].weights.shape == (10, 3, 3, 3)
    assert model.pnet.layers[2].kernel == (2, 2) and model.pnet.layers[2].stride == (2, 2)
    assert model.pnet.layers[-1].weights.shape == (6, 32) and not model.pnet.flat_output
    assert model.rnet.layers[-3].weights.shape == (128, 576) and model.rnet.n_outputs == 6 and model.rnet.flat_output
    assert model.onet.layers[-3].weights.shape == (256, 1152) and model.onet.n_outputs == 16
    assert model.onet.layers[2].kernel == (3, 3) and model.onet.layers[2].stride == (2, 2)
    # the same object from the text file itself
    assert read_mtcnn(models_dir / DETECTOR_FILE).rnet.layers[0].weights.shape == (28, 3, 3, 3)


def test_kernel_layout_matches_file(models_dir):
    """Kernel (in=1, out=2) of PNet's first layer is the 3rd Mat of the file after the biases, row-major."""
    depth, ltype, n_in, n_k = struct.unpack_from("<4i", PNET_BYTES, 0)
    offset = 16 + 4 * n_k
    mat_bytes = 12 + 9 * 4
    offset += (1 * n_k + 2) * mat_bytes  # in-map 1, kernel 2 (stored in-map major)
    rows, cols, _ = struct.unpack_from("<3i", PNET_BYTES, offset)
    expected = np.frombuffer(PNET_BYTES, np.float32, 9, offset + 12).reshape(rows, cols)
    np.testing.assert_array_equal(read_network(PNET).layers[0].weights[2, 1], expected)


def test_truncated_file_names_it(tmp_path):
    path = tmp_path / "PNet.dat"
    path.write_bytes(PNET_BYTES[: len(PNET_BYTES) // 2])
    with pytest.raises(ModelFormatError, match="PNet.dat.*end of file"):
        read_network(path)


def test_bad_layer_type_and_trailing_bytes(tmp_path):
    path = tmp_path / "PNet.dat"
    path.write_bytes(PNET_BYTES[:4] + struct.pack("<i", 7) + PNET_BYTES[8:])
    with pytest.raises(ModelFormatError, match="layer type"):
        read_network(path)
    path.write_bytes(PNET_BYTES + b"\0\0")
    with pytest.raises(ModelFormatError, match="2 more bytes"):
        read_network(path)


def test_detector_list_problems(tmp_path, models_dir):
    with pytest.raises(ModelFormatError, match="no such file"):
        read_mtcnn(tmp_path)
    folder = tmp_path / "model" / "mtcnn_detector"
    folder.mkdir(parents=True)
    for name in ("PNet.dat", "RNet.dat", "ONet.dat"):
        shutil.copy(models_dir / "model" / "mtcnn_detector" / name, folder / name)
    (folder / "MTCNN_detector.txt").write_text("PNet PNet.dat\r\nRNet RNet.dat\r\n")
    with pytest.raises(ModelFormatError, match="no ONet"):
        read_mtcnn(tmp_path)
    (folder / "MTCNN_detector.txt").write_text("PNet PNet.dat\nRNet RNet.dat\nONet PNet.dat\n")
    with pytest.raises(ModelFormatError, match="ONet ending in a flattening"):
        read_mtcnn(tmp_path)
    (folder / "MTCNN_detector.txt").write_text("PNet PNet.dat\nRNet RNet.dat\nONet missing.dat\n")
    with pytest.raises(ModelFormatError, match="missing.dat"):
        read_mtcnn(tmp_path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, len(PNET_BYTES)), flips=st.lists(st.tuples(st.integers(0, len(PNET_BYTES) - 1),
                                                                      st.integers(1, 255)), max_size=6))
def test_fuzz_only_model_format_errors(tmp_path_factory, cut, flips):
    """Truncated and byte-flipped PNet files either read or raise ModelFormatError naming the file."""
    data = bytearray(PNET_BYTES)
    for pos, xor in flips:
        data[pos] ^= xor
    data = bytes(data[:cut]) if cut < len(data) else bytes(data)
    path = tmp_path_factory.mktemp("fuzz") / "PNet.dat"
    path.write_bytes(data)
    try:
        net = read_network(path)
    except ModelFormatError as exc:
        assert "PNet.dat" in str(exc) and "\n" not in str(exc)
    else:
        assert net.layers and all(np.all(np.isfinite(layer.weights)) for layer in net.layers if layer.weights is not None)
