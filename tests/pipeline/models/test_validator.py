"""Reader of the CNN detection validator (validator_cnn.txt) on the real file and damaged copies."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.pipeline.errors import ModelFormatError
from aubench.pipeline.models.validator import read_validator

VALIDATOR = "model/detection_validation/validator_cnn.txt"


def test_real_validator_structure(models_dir):
    model = read_validator(models_dir / VALIDATOR)
    assert len(model.views) == 7
    np.testing.assert_allclose(np.degrees(model.views[1].orientation), [0, -20, 0], atol=1e-9)
    for view in model.views:
        kinds = [layer.kind for layer in view.layers]
        assert kinds == ["convolution", "relu", "max_pooling", "convolution", "relu", "max_pooling",
                         "fully_connected", "relu", "fully_connected"]
        assert view.layers[0].weights.shape == (1, 10, 9, 9)
        assert view.layers[3].weights.shape == (10, 10, 7, 7)
        assert view.layers[6].weights.shape == (1000, 50) and view.layers[8].weights.shape == (50, 30)
        assert view.paw.pixel_mask.shape == (60, 60)
        assert view.mean_image.shape == (view.paw.n_pixels,) == view.std_dev.shape
        assert view.paw.destination_landmarks.shape == (68, 2)


def test_truncated_and_wrong_type(models_dir, tmp_path):
    data = (models_dir / VALIDATOR).read_bytes()
    path = tmp_path / "v.txt"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelFormatError, match="end of file"):
        read_validator(path)
    path.write_bytes(struct.pack("<i", 1) + data[4:])
    with pytest.raises(ModelFormatError, match="CNN validator"):
        read_validator(path)
    with pytest.raises(ModelFormatError, match="no such file"):
        read_validator(tmp_path / "absent.txt")


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_corrupted_validator_raises_only_model_format_error(models_dir, tmp_path_factory, data):
    raw = bytearray((models_dir / VALIDATOR).read_bytes()[:200_000])
    # damage a header-rich region (the first view's layers and matrices) or cut the file
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, 20_000))
        raw[pos:pos + 4] = data.draw(st.binary(min_size=4, max_size=4))
    path = tmp_path_factory.mktemp("val") / "v.txt"
    path.write_bytes(bytes(raw))
    try:
        read_validator(path)
    except ModelFormatError:
        pass
