"""AU prediction as one stacked matrix product for all models."""

from __future__ import annotations

import numpy as np

from aubench.pipeline.au.predictor_bank import AUPredictorBank


def au_predict(bank: AUPredictorBank, features: np.ndarray, median: np.ndarray) -> np.ndarray:
    """Same contract; ``W x + (b - W means)`` with every weight vector stacked in one (K, D)
    matrix (one matrix-vector product), minus ``W_dyn median`` for the dynamic rows only."""
    out = bank.weights_t @ features
    out += bank.offsets
    if bank.dynamic_rows.size:
        out[bank.dynamic_rows] -= bank.dynamic_weights_t @ median
    return out
