"""The outputs format: one row per id, a ``prediction`` column and, for classifiers with
``predict_proba``, one ``proba_<class>`` column per class. What every check reads outputs with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

PREDICTION = "prediction"
PROBA_PREFIX = "proba_"  # one column of class probabilities per label


@dataclass(frozen=True)
class Probabilities:
    """Class probabilities of one side: one column per class label (as text), rows as the labels'."""

    labels: list[str]
    matrix: NDArray[np.float64]

    def of(self, label: object) -> NDArray[np.float64]:
        """The probability column of ``label`` (zeros if the model never saw that class)."""
        if str(label) in self.labels:
            return self.matrix[:, self.labels.index(str(label))]
        return np.zeros(self.matrix.shape[0])


def looks_like_classification(outputs: pd.DataFrame) -> bool:
    has_proba = any(str(c).startswith(PROBA_PREFIX) for c in outputs.columns)
    return has_proba or not pd.api.types.is_numeric_dtype(outputs[PREDICTION])


def values(outputs: pd.DataFrame, task: str) -> NDArray[Any]:
    """The predictions as numbers (regression) or as labels."""
    return labels_or_numbers(outputs[PREDICTION], task)


def labels_or_numbers(column: pd.Series, task: str) -> NDArray[Any]:
    return column.to_numpy(dtype=float) if task == "regression" else column.astype(object).to_numpy()


def score(outputs: pd.DataFrame, task: str) -> NDArray[np.float64] | None:
    """One number per row: the prediction, or the positive-class probability of a binary model."""
    if task == "regression":
        return outputs[PREDICTION].to_numpy(dtype=float)
    proba = probabilities(outputs)
    return proba.matrix[:, -1] if proba is not None and len(proba.labels) == 2 else None


def probabilities(outputs: pd.DataFrame) -> Probabilities | None:
    """The ``proba_<class>`` columns of a classifier's outputs, or None when it has none."""
    columns = [c for c in outputs.columns if str(c).startswith(PROBA_PREFIX)]
    if not columns:
        return None
    labels = [str(c)[len(PROBA_PREFIX) :] for c in columns]
    return Probabilities(labels, outputs[columns].to_numpy(dtype=float))
