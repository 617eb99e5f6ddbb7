"""The AU predictors of one model file, laid out once for the ``au_predict`` kernels (an explicit cache)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aubench.pipeline.models.au_models import AUModelGroup, AUModels


@dataclass(frozen=True, eq=False)
class AUPredictorBank:
    """Every linear AU model, in OpenFace's prediction order.

    Outputs are ordered static SVR, dynamic SVR, static SVM, dynamic SVM (the order of
    ``FaceAnalyser::PredictCurrentAUs`` then ``PredictCurrentAUsClass``).

    Attributes
    ----------
    groups : tuple of 4 :class:`aubench.pipeline.models.au_models.AUModelGroup`
        As read (the reference variant loops over them).
    names : tuple of str
        AU name of each output (an AU appears once among the SVRs and once among the SVMs).
    classifier, dynamic : (K,) bool
        Per output: an SVM; a dynamic (person-calibrated) model.
    weights_t : (K, D) float64
        All weight vectors stacked as rows.
    offsets : (K,) float64
        ``bias - weights . means`` of each output (its group's means).
    dynamic_rows : (Kd,) int64, dynamic_weights_t : (Kd, D) float64
        The dynamic outputs and their weight rows (they also read the median).
    """

    groups: tuple[AUModelGroup, ...]
    names: tuple[str, ...]
    classifier: np.ndarray
    dynamic: np.ndarray
    weights_t: np.ndarray
    offsets: np.ndarray
    dynamic_rows: np.ndarray
    dynamic_weights_t: np.ndarray

    @property
    def n_features(self) -> int:
        return self.weights_t.shape[1]

    def __len__(self) -> int:
        return len(self.names)


def build_bank(models: AUModels) -> AUPredictorBank:
    """Stack the four predictor groups of ``models`` (done once per model file)."""
    groups = tuple(g for g in (models.svr_static, models.svr_dynamic, models.svm_static, models.svm_dynamic))
    used = [g for g in groups if len(g)]
    names = tuple(n for g in used for n in g.names)
    weights_t = np.ascontiguousarray(np.concatenate([g.support_vectors.T for g in used], axis=0))
    offsets = np.concatenate([g.biases - g.support_vectors.T @ g.means for g in used])
    classifier = np.concatenate([np.full(len(g), g.classifier) for g in used])
    dynamic = np.concatenate([np.full(len(g), g.dynamic) for g in used])
    dynamic_rows = np.flatnonzero(dynamic)
    dynamic_weights_t = np.ascontiguousarray(weights_t[dynamic_rows])
    for a in (weights_t, offsets, classifier, dynamic, dynamic_rows, dynamic_weights_t):
        a.setflags(write=False)
    return AUPredictorBank(groups, names, classifier, dynamic, weights_t, offsets, dynamic_rows, dynamic_weights_t)
