"""Geometry descriptor: C++ landmarks of frames 1-3 (exact) and the CSV landmarks (0.1 px rounding)."""

from __future__ import annotations

import numpy as np
import pytest

from aubench.harness.au_reference import csv_landmarks, read_csv_columns
from aubench.pipeline.au.geometry import empty_geometry_descriptor, fit_geometry, geometry_descriptor
from aubench.pipeline.models.pdm import read_pdm

from ...conftest import MODELS, REFERENCE, TRACE


@pytest.fixture(scope="module")
def pdm():
    return read_pdm(MODELS / "AU_predictors" / "In-the-wild_aligned_PDM_68.txt")


@pytest.fixture(scope="module")
def expected():
    return np.load(TRACE / "au" / "geom_descriptor_per_frame.npy")


def test_layout(pdm):
    p = np.zeros(34, np.float32)
    p[2] = 1.5
    d = geometry_descriptor(pdm, p)
    assert d.shape == (238,) and d.dtype == np.float64
    np.testing.assert_array_equal(d[:204], pdm.princ_comp[:, 2].astype(np.float64) * 1.5)
    np.testing.assert_array_equal(d[204:], p)
    assert not empty_geometry_descriptor(pdm).any() and empty_geometry_descriptor(pdm).shape == (238,)


@pytest.mark.parametrize("frame", [1, 2, 3])
def test_traced_landmarks(pdm, expected, frame):
    """The landmarks FaceAnalyser received (float32, unrounded): CalcParams agrees to float32 noise."""
    landmarks = np.load(TRACE / "clnf" / f"frame{frame:04d}" / "final_landmarks_as_recorded.npy")
    _, _, d = fit_geometry(pdm, landmarks)
    np.testing.assert_allclose(d, expected[frame - 1], rtol=0, atol=1e-4)


def test_csv_landmarks_first_frames(pdm, expected):
    """From the CSV's 0.1 px landmarks the descriptor moves by up to ~0.6 (PDM units; the
    whole of default.wmv: median 0.14, p95 0.40, max 0.61; |p| is up to 41, 3 on average)."""
    columns = read_csv_columns(REFERENCE / "default" / "default.csv")
    landmarks = csv_landmarks(columns)
    errors = []
    for f in range(0, 20):
        _, _, d = fit_geometry(pdm, landmarks[f])
        errors.append(np.abs(d - expected[f]).max())
    assert max(errors) < 0.7 and np.median(errors) < 0.3
