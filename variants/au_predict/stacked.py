"""AU prediction as one stacked matrix product for all models."""

from __future__ import annotations

import numpy as np

from variants.au_predict.bank import AUPredictorBank


def au_predict(bank: AUPredictorBank, features: np.ndarray, median: np.ndarray) -> np.ndarray:
    """Same contract; ``W x + (b - W means) - dynamic * (W median)`` with every weight vector
    stacked in one (K, D) matrix and [x, median] multiplied in one GEMM."""
    both = np.empty((bank.n_features, 2), dtype=np.float64)
    both[:, 0] = features
    both[:, 1] = median
    products = bank.weights_t @ both
    return products[:, 0] + bank.offsets - np.where(bank.dynamic, products[:, 1], 0.0)
