"""AU intensity and occurrence prediction for one frame (``FaceAnalyser::PredictCurrentAUs``,
``FaceAnalyser::PredictCurrentAUsClass``).

The linear models are evaluated by the ``au_predict`` kernel (see
:class:`aubench.pipeline.contracts.AuPredict`); this module builds the feature vector
(HOG then geometry), the calibration vector (the running medians) and turns the SVM
margins into OpenFace's class values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aubench.pipeline.au.predictor_bank import AUPredictorBank, build_bank
from aubench.pipeline.models.au_models import AUModels
from aubench.pipeline.registry import Kernels


@dataclass(frozen=True)
class AUValues:
    """One frame's predictions: ``{"AU01": value}`` in OpenFace's order (static models first)."""

    intensity: dict[str, float] = field(default_factory=dict)
    occurrence: dict[str, float] = field(default_factory=dict)

    def zeroed(self) -> AUValues:
        """The same AUs with every value 0 (what OpenFace reports for a frame without a face)."""
        return AUValues(dict.fromkeys(self.intensity, 0.0), dict.fromkeys(self.occurrence, 0.0))


class AUPredictor:
    """The AU models of one model file, ready to predict.

    Parameters
    ----------
    models : AUModels
        From :func:`aubench.pipeline.models.au_models.read_au_models`.
    """

    def __init__(self, models: AUModels):
        self.models = models
        self.bank: AUPredictorBank = build_bank(models)
        svm = self.bank.classifier
        self._svr = np.flatnonzero(~svm)
        self._svm = np.flatnonzero(svm)
        groups = [g for g in self.bank.groups if len(g) and g.classifier]
        self._pos = np.concatenate([g.pos_classes for g in groups]) if groups else np.zeros(0)
        self._neg = np.concatenate([g.neg_classes for g in groups]) if groups else np.zeros(0)
        self.intensity_names = tuple(self.bank.names[i] for i in self._svr)
        self.occurrence_names = tuple(self.bank.names[i] for i in self._svm)

    @property
    def n_features(self) -> int:
        return self.bank.n_features

    def decision_values(self, kernels: Kernels, features: np.ndarray, median: np.ndarray) -> np.ndarray:
        """Raw values of every model in bank order (the ``au_predict`` kernel)."""
        return kernels.au_predict(self.bank, features, median)

    def split(self, values: np.ndarray) -> AUValues:
        """Raw bank-order values -> SVR intensities (unclipped) and SVM class values."""
        margins = values[self._svm]
        classes = np.where(margins > 0, self._pos, self._neg)
        return AUValues(dict(zip(self.intensity_names, values[self._svr].tolist())),
                        dict(zip(self.occurrence_names, classes.tolist())))

    def predict(self, kernels: Kernels, hog: np.ndarray, geom: np.ndarray,
                hog_median: np.ndarray | None = None, geom_median: np.ndarray | None = None) -> AUValues:
        """Predict every AU of one frame.

        Parameters
        ----------
        hog : (4464,) float HOG descriptor; geom : (238,) float64 geometry descriptor.
        hog_median, geom_median : running medians (None = zeros; only dynamic models read them).
        """
        features = np.concatenate([np.asarray(hog, dtype=np.float64).reshape(-1),
                                   np.asarray(geom, dtype=np.float64).reshape(-1)])
        if hog_median is None or geom_median is None:
            median = np.zeros_like(features)
        else:
            median = np.concatenate([np.asarray(hog_median, dtype=np.float64).reshape(-1),
                                     np.asarray(geom_median, dtype=np.float64).reshape(-1)])
        if features.shape[0] != self.n_features or median.shape[0] != self.n_features:
            raise ValueError(f"AU features: expected {self.n_features} values (HOG + geometry), "
                             f"got {features.shape[0]} and median {median.shape[0]}")
        return self.split(self.decision_values(kernels, features, median))
