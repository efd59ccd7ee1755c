"""Point metrics of a model on labelled rows, each with the direction that counts as better."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Metric:
    """A metric and whether higher values are better."""

    name: str
    higher_is_better: bool
    compute: Callable[[Array, Array], float]


def _rmse(y: Array, p: Array) -> float:
    return float(np.sqrt(np.mean((y - p) ** 2)))


def _mae(y: Array, p: Array) -> float:
    return float(np.mean(np.abs(y - p)))


def _r2(y: Array, p: Array) -> float:
    return float(1.0 - np.sum((y - p) ** 2) / np.sum((y - np.mean(y)) ** 2))


def _accuracy(y: Array, p: Array) -> float:
    return float(np.mean(y == p))


REGRESSION = (Metric("rmse", False, _rmse), Metric("mae", False, _mae), Metric("r2", True, _r2))
CLASSIFICATION = (Metric("accuracy", True, _accuracy),)


def regression_metrics(y_true: Array, y_pred: Array) -> dict[str, float]:
    """RMSE, MAE and R² of predictions against the truth."""
    return {m.name: m.compute(y_true, y_pred) for m in REGRESSION}


def classification_metrics(
    y_true: NDArray[np.generic], labels: NDArray[np.generic], scores: Array | None
) -> dict[str, float]:
    """Accuracy, and ROC AUC and log-loss when binary scores are available."""
    from sklearn.metrics import log_loss, roc_auc_score

    result = {"accuracy": float(np.mean(y_true == labels))}
    if scores is not None and np.unique(y_true).size == 2:
        positive = np.unique(y_true)[1]
        truth = (y_true == positive).astype(int)
        result["roc_auc"] = float(roc_auc_score(truth, scores))
        result["log_loss"] = float(log_loss(truth, np.clip(scores, 1e-15, 1 - 1e-15)))
    return result
