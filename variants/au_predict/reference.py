"""Plain NumPy AU prediction: one dot product per AU, as OpenFace's predictors compute it (the reference variant)."""

from __future__ import annotations

import numpy as np

from aubench.pipeline.au.predictor_bank import AUPredictorBank


def au_predict(bank: AUPredictorBank, features: np.ndarray, median: np.ndarray) -> np.ndarray:
    """Plain NumPy, one dot product per AU as OpenFace (contract: :class:`aubench.pipeline.contracts.AuPredict`)."""
    out = []
    for group in bank.groups:
        if not len(group):
            continue
        centred = features - group.means
        if group.dynamic:
            centred = centred - median
        for k in range(len(group)):
            out.append(float(centred @ group.support_vectors[:, k]) + float(group.biases[k]))
    return np.array(out, dtype=np.float64)
