"""AUPredictor: names, class mapping and the C++ online predictions of default.wmv."""

from __future__ import annotations

import numpy as np
import pytest

from aubench.harness.au_reference import load_online_trace
from aubench.pipeline import registry
from aubench.pipeline.au.predictors import AUPredictor
from aubench.pipeline.models.au_models import read_au_models

from ...conftest import MODELS, TRACE


@pytest.fixture(scope="module")
def predictor():
    return AUPredictor(read_au_models(MODELS / "AU_predictors" / "main_dynamic_svms.txt"))


@pytest.fixture(scope="module")
def trace():
    return load_online_trace(TRACE)


def test_names_follow_the_trace(predictor, trace):
    assert predictor.intensity_names == trace.intensity_order
    assert predictor.occurrence_names == trace.occurrence_order


@pytest.mark.parametrize("selection", [{}, {"au_predict": "stacked"}])
def test_online_values(predictor, trace, selection):
    kernels = registry.resolve(selection)
    for frame in (1, 100, 288):
        v = predictor.predict(kernels, trace.hog_descriptors[frame], trace.geometry[frame - 1],
                              trace.hog_medians[frame], trace.geom_medians[frame])
        for name, value in v.intensity.items():
            assert value == pytest.approx(trace.intensity[name][frame - 1], abs=1e-12)
        assert v.occurrence == {n: trace.occurrence[n][frame - 1] for n in v.occurrence}
    assert list(v.zeroed().intensity.values()) == [0.0] * 17


def test_wrong_length_is_refused(predictor):
    with pytest.raises(ValueError, match="4702"):
        predictor.predict(registry.resolve({}), np.zeros(4464), np.zeros(10))


def test_static_models_need_no_median():
    static = AUPredictor(read_au_models(MODELS / "AU_predictors" / "main_static_svms.txt"))
    rng = np.random.default_rng(0)
    v = static.predict(registry.resolve({}), rng.random(4464) * 0.2, rng.normal(0, 5, 238))
    assert len(v.intensity) == 17 and set(v.occurrence.values()) <= {0.0, 1.0}
