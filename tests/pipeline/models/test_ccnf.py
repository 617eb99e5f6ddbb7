"""CCNF patch-expert reader against the real OpenFace files."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aubench.pipeline.errors import ModelFormatError
from aubench.pipeline.models.ccnf import read_ccnf_scale

from ...conftest import MODELS

GENERAL = MODELS / "model" / "patch_experts" / "ccnf_patches_0.25_general.txt"
RIGHT_EYE = MODELS / "model" / "model_eye" / "patch_experts" / "ccnf_patches_1.00_synth_lid_.txt"


@pytest.fixture(scope="module")
def general():
    return read_ccnf_scale(GENERAL)


def test_general_header(general):
    assert general.patch_scaling == 0.25
    assert general.n_views == 7 and general.n_points == 68
    # view centres are stored in degrees and converted to radians
    np.testing.assert_allclose(general.centers[1], [0, -20 * math.pi / 180, 0])
    assert general.visibilities.sum(axis=1).tolist() == [68, 68, 68, 35, 35, 68, 68]
    assert sorted(general.sigma_components) == [7, 9, 11, 15]
    assert general.sigma_components[11].shape == (3, 121, 121)


def test_general_experts(general):
    for view in range(general.n_views):
        for lm, ex in enumerate(general.experts[view]):
            # experts of invisible landmarks are empty, visible ones have 7 neurons of 11x11
            assert ex.empty == (general.visibilities[view, lm] == 0)
            if not ex.empty:
                assert ex.weights.shape == (7, 11, 11) and len(ex.betas) == 3
    ex = general.experts[0][0]
    wm = ex.weight_matrix()
    assert wm.shape == (7, 122)
    np.testing.assert_allclose(wm[:, 0], ex.biases.astype(np.float32))
    # column 1 + x*11 + y holds filter pixel (y, x)
    np.testing.assert_allclose(wm[2, 1 + 3 * 11 + 5], ex.weights[2, 5, 3] * np.float32(ex.norm_weights[2]), rtol=1e-6)


def test_eye_experts_have_no_sigma_components():
    eye = read_ccnf_scale(RIGHT_EYE)
    assert eye.n_views == 1 and eye.n_points == 28 and eye.patch_scaling == 1.0
    assert 3 not in eye.sigma_components  # OpenFace then builds Sigma from the alphas alone
    assert all(len(ex.betas) == 0 for ex in eye.experts[0])


def test_missing_file(tmp_path):
    with pytest.raises(ModelFormatError, match="no such file"):
        read_ccnf_scale(tmp_path / "nope.txt")


@settings(max_examples=25, deadline=None)
@given(cut=st.integers(min_value=0, max_value=104367))
def test_truncated_file_is_a_format_error(tmp_path_factory, cut):
    data = RIGHT_EYE.read_bytes()[:cut]
    path = tmp_path_factory.mktemp("ccnf") / "cut.txt"
    path.write_bytes(data)
    with pytest.raises(ModelFormatError):
        read_ccnf_scale(path)


def test_trailing_garbage_is_a_format_error(tmp_path):
    path = tmp_path / "long.txt"
    path.write_bytes(RIGHT_EYE.read_bytes() + b"\0\0\0\0")
    with pytest.raises(ModelFormatError, match="trailing"):
        read_ccnf_scale(path)
