"""au_predict variants against the C++ online AU predictions of default.wmv (frames with dumped medians)."""

from __future__ import annotations

import numpy as np
import pytest

from aubench.harness.au_reference import load_online_trace
from aubench.pipeline import registry
from aubench.pipeline.au.predictor_bank import build_bank
from aubench.pipeline.models.au_models import read_au_models

from ..conftest import MODELS, TRACE

KERNEL = registry.kernels()["au_predict"]
AVAILABLE = [name for name, v in KERNEL.variants.items() if v.unavailable_reason() is None]


@pytest.fixture(scope="module")
def bank():
    return build_bank(read_au_models(MODELS / "AU_predictors" / "main_dynamic_svms.txt"))


@pytest.fixture(scope="module")
def trace():
    return load_online_trace(TRACE)


def test_bank_layout(bank):
    assert len(bank) == 35 and bank.weights_t.shape == (35, 4702)
    assert bank.classifier.sum() == 18 and bank.dynamic.sum() == 21
    assert bank.names[:6] == ("AU04", "AU06", "AU07", "AU10", "AU12", "AU14")


@pytest.mark.parametrize("variant", AVAILABLE)
@pytest.mark.parametrize("frame", [1, 50, 100, 288])
def test_online_predictions(variant, frame, bank, trace):
    fn = KERNEL.variants[variant].load()
    features = np.concatenate([trace.hog_descriptors[frame], trace.geometry[frame - 1]])
    median = np.concatenate([trace.hog_medians[frame], trace.geom_medians[frame]])
    values = fn(bank, features, median)
    n_svr = int((~bank.classifier).sum())
    expected = np.array([trace.intensity[n][frame - 1] for n in bank.names[:n_svr]])
    np.testing.assert_allclose(values[:n_svr], expected, rtol=0, atol=1e-12)
    # SVM margins: the C++ class values are pos_class when > 0
    groups = [g for g in bank.groups if g.classifier]
    pos = np.concatenate([g.pos_classes for g in groups])
    neg = np.concatenate([g.neg_classes for g in groups])
    classes = np.where(values[n_svr:] > 0, pos, neg)
    expected_c = np.array([trace.occurrence[n][frame - 1] for n in bank.names[n_svr:]])
    np.testing.assert_array_equal(classes, expected_c)


@pytest.mark.parametrize("variant", AVAILABLE)
def test_static_models_ignore_the_median(variant):
    bank = build_bank(read_au_models(MODELS / "AU_predictors" / "main_static_svms.txt"))
    fn = KERNEL.variants[variant].load()
    rng = np.random.default_rng(3)
    x = rng.random(4702)
    np.testing.assert_allclose(fn(bank, x, np.zeros(4702)), fn(bank, x, rng.random(4702)), rtol=0, atol=0)
