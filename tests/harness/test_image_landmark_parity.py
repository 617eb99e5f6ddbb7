"""Still-image landmark parity (issue 4: median <= 0.5 px against FaceLandmarkImg)."""

from __future__ import annotations

import pytest

from aubench.harness import image_landmark_parity
from aubench.pipeline import config

from ..conftest import SHARED


@pytest.mark.slow
def test_every_sample_face_matches_cpp_faceLandmarkImg():
    result = image_landmark_parity.run(SHARED, config.preset("fast"))
    assert result["faces"] == 17  # sample1-5 one face each, sample6 twelve
    assert result["median_px"] <= 0.5
    # every face found and fitted (an unmatched or diverged face would be tens of px off)
    assert result["max_px"] < 1.0

