"""Plain NumPy AU prediction: one dot product per AU, as OpenFace's predictors compute it (the contract)."""

from __future__ import annotations

import numpy as np

from aubench.pipeline.au.predictor_bank import AUPredictorBank


def au_predict(bank: AUPredictorBank, features: np.ndarray, median: np.ndarray) -> np.ndarray:
    """Decision values of every linear AU model for one frame.

    Reproduces the ``Predict`` methods of ``SVR_static_lin_regressors``,
    ``SVR_dynamic_lin_regressors``, ``SVM_static_lin`` and ``SVM_dynamic_lin`` (called from
    ``FaceAnalyser::PredictCurrentAUs`` and ``PredictCurrentAUsClass``): a static model
    computes ``(x - means) . w + b``, a dynamic one ``(x - means - median) . w + b``.

    Parameters
    ----------
    bank : :class:`aubench.pipeline.au.predictor_bank.AUPredictorBank`
    features : (D,) float64
        ``[HOG (4464), geometry (238)]`` of the frame.
    median : (D,) float64
        ``[HOG running median, geometry running median]`` (person calibration; only the
        dynamic models read it).

    Returns
    -------
    (K,) float64 raw decision values in ``bank.names`` order: SVR intensities (not clipped)
    then SVM margins (the caller maps ``> 0`` to the model's positive class value).

    Notes
    -----
    OpenCV subtracts the means and the median element-wise first and then takes the dot
    product with its own GEMM; the summation order differs from NumPy's, so values agree
    to about 1e-12 (tolerance 1e-9 absolute).
    """
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
