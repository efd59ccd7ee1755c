"""Point metrics of a model on labelled rows, each with the direction that counts as better.

The one place a metric is defined: training's holdout summary, the asv tracks, the segment table and
the paired quality check (per-row losses) all use these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mlgate import stats

Array = NDArray[np.float64]
SMALLEST_PROBABILITY = 1e-15  # log-loss clips here, so a confident miss costs ~34.5, not infinity


@dataclass(frozen=True)
class Metric:
    """A metric and whether higher values are better."""

    name: str
    higher_is_better: bool
    compute: Callable[[Array, Array], float]


def rmse(y: Array, p: Array) -> float:
    return float(np.sqrt(np.mean((y - p) ** 2)))


def mae(y: Array, p: Array) -> float:
    return float(np.mean(np.abs(y - p)))


def r2(y: Array, p: Array) -> float:
    return float(1.0 - np.sum((y - p) ** 2) / np.sum((y - np.mean(y)) ** 2))


def accuracy(y: NDArray[np.generic], p: NDArray[np.generic]) -> float:
    return float(np.mean(y == p))


def log_loss_rows(p_true: Array) -> Array:
    """Per row: minus the log of the probability the model gave the true class."""
    return np.asarray(-np.log(np.clip(p_true, SMALLEST_PROBABILITY, 1.0)))


REGRESSION = (Metric("rmse", False, rmse), Metric("mae", False, mae), Metric("r2", True, r2))


def regression_metrics(y_true: Array, y_pred: Array) -> dict[str, float]:
    """RMSE, MAE and R² of predictions against the truth."""
    return {m.name: m.compute(y_true, y_pred) for m in REGRESSION}


def classification_metrics(
    y_true: NDArray[np.generic], labels: NDArray[np.generic], scores: Array | None
) -> dict[str, float]:
    """Accuracy, and ROC AUC and log-loss when binary scores (the second class's probability) exist."""
    result = {"accuracy": accuracy(y_true, labels)}
    if scores is not None and np.unique(y_true).size == 2:
        positive = (y_true == np.unique(y_true)[1]).astype(int)
        result["roc_auc"] = stats.auc(positive, scores)
        result["log_loss"] = float(log_loss_rows(np.where(positive == 1, scores, 1 - scores)).mean())
    return result
