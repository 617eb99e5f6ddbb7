"""Every calc_params variant against the C++ refit of the merged landmarks (trace/clnf)."""

from __future__ import annotations

import numpy as np
import pytest

from aubench.pipeline import registry
from aubench.pipeline.landmarks import pdm as pdm_ops
from aubench.pipeline.models.pdm import read_pdm

from ..conftest import MODELS, TRACE

KERNEL = registry.kernels()["calc_params"]
AVAILABLE = [name for name, v in KERNEL.variants.items() if v.unavailable_reason() is None]


@pytest.mark.parametrize("variant", AVAILABLE)
@pytest.mark.parametrize("context", ["frame0001/detect/hyp00", "frame0002/track", "frame0003/track"])
def test_refit_matches_trace(variant, context):
    pdm = read_pdm(MODELS / "model" / "pdms" / "In-the-wild_aligned_PDM_68.txt")
    d = TRACE / "clnf" / context / "main"
    g, loc = KERNEL.variants[variant].load()(pdm, np.load(d / "merged_landmarks_before_refit.npy"))
    np.testing.assert_allclose(pdm_ops.calc_shape_2d(pdm, g, loc), np.load(d / "merged_landmarks_after_refit.npy"),
                               atol=2e-3)


@pytest.mark.parametrize("variant", AVAILABLE)
def test_part_initialisation_with_missing_points(variant):
    """Eye parts get only 6 of their 28 points from the main model (the rest are x == 0)."""
    pdm = read_pdm(MODELS / "model" / "model_eye" / "pdms" / "pdm_28_l_eye_3D_closed.txt")
    d = TRACE / "clnf" / "frame0001" / "detect" / "hyp00" / "left_eye_28"
    expected = np.load(d / "input_params.npy")[0]
    locs = np.zeros((28, 2), np.float32)
    main = np.load(TRACE / "clnf" / "frame0001" / "detect" / "hyp00" / "main" / "fit_landmarks.npy")
    for main_i, part_i in ((36, 8), (37, 10), (38, 12), (39, 14), (40, 16), (41, 18)):
        locs[part_i] = main[main_i]
    g, loc = KERNEL.variants[variant].load()(pdm, locs)
    np.testing.assert_allclose(pdm_ops.calc_shape_2d(pdm, g, loc),
                               pdm_ops.calc_shape_2d(pdm, expected[:6], expected[6:]), atol=2e-3)
