"""Kernel ``au_predict``: decision values of OpenFace's linear SVR/SVM AU models for one frame.

Contract: :class:`aubench.pipeline.contracts.AuPredict` (``SVR_*_lin_regressors::Predict``,
``SVM_*_lin::Predict``). The models are laid out once in an explicit
:class:`aubench.pipeline.au.predictor_bank.AUPredictorBank`.
"""

from __future__ import annotations

import numpy as np

from aubench.pipeline import contracts, registry


def _cases(rng, models_dir):
    from aubench.pipeline.au.predictor_bank import build_bank
    from aubench.pipeline.models.au_models import read_au_models

    for main in ("main_dynamic_svms.txt", "main_static_svms.txt"):
        bank = build_bank(read_au_models(models_dir / "AU_predictors" / main))
        for k in range(3):
            features = np.concatenate([rng.random(4464) * 0.3, rng.normal(0, 10, 238)])
            median = np.concatenate([rng.random(4464) * 0.2, rng.normal(0, 5, 238)])
            yield registry.Case((bank, features, median), label=f"{main}#{k}")


_check = registry.array_check(np.float64, atol=1e-9)


registry.kernel("au_predict", contract=contracts.AuPredict,
                summary="linear SVR/SVM AU decision values (static and person-calibrated dynamic)",
                cases=_cases, check=_check)
registry.variant("au_predict", "reference", "aubench.variants.au_predict.reference:au_predict",
                 "plain NumPy, one dot product per AU as OpenFace")
registry.variant("au_predict", "stacked", "aubench.variants.au_predict.stacked:au_predict",
                 "all AUs in one (K, D) x (D, 2) matrix product with the means folded into the offsets")
