"""The model itself: size on disk, quality tracks for its task, and the production artifact's predictions.

A track that does not apply (a regression metric of a classifier, log-loss without ``predict_proba``,
no production artifact) raises NotImplementedError in ``setup``: asv lists it as skipped (n/a).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from mlgate import metrics
from mlgate.asv_suite import FittedModel, spec
from mlgate.model import artifacts


class ModelSize(FittedModel):
    """Bytes of the skops artifact (lower is better)."""

    version = "1"
    rounds = 1
    unit = "bytes"

    def track_model_bytes(self, cache: dict[str, Any]) -> int:
        return len(cache["model"])


class _TaskQuality(FittedModel):
    task = ""
    rounds = 1

    def setup(self, cache: dict[str, Any]) -> None:
        if spec().task != self.task:
            raise NotImplementedError(f"{spec().name} is a {spec().task} model")
        super().setup(cache)
        self.predicted = self.pipeline.predict(self.features)


class Quality(_TaskQuality):
    """Regression: RMSE and MAE (target units, lower is better) and R² (higher is better)."""

    version = "1"
    task = "regression"

    def track_holdout_rmse(self, cache: dict[str, Any]) -> float:
        return metrics.rmse(self.truth, self.predicted)

    def track_holdout_mae(self, cache: dict[str, Any]) -> float:
        return metrics.mae(self.truth, self.predicted)

    def track_holdout_r2(self, cache: dict[str, Any]) -> float:
        return metrics.r2(self.truth, self.predicted)

    track_holdout_rmse.unit = track_holdout_mae.unit = "target"  # type: ignore[attr-defined]
    track_holdout_r2.unit = "R2"  # type: ignore[attr-defined]


class ClassQuality(_TaskQuality):
    """Classification: accuracy and macro-F1 (higher is better)."""

    version = "1"
    task = "classification"
    unit = "share"

    def track_holdout_accuracy(self, cache: dict[str, Any]) -> float:
        return metrics.accuracy(self.truth, self.predicted)

    def track_holdout_macro_f1(self, cache: dict[str, Any]) -> float:
        from sklearn.metrics import f1_score

        return float(f1_score(self.truth, self.predicted, average="macro"))


class ClassLogLoss(_TaskQuality):
    """Classification with ``predict_proba``: log-loss (lower is better)."""

    version = "1"
    task = "classification"
    unit = "nats"

    def setup(self, cache: dict[str, Any]) -> None:
        super().setup(cache)
        if not hasattr(self.pipeline, "predict_proba"):
            raise NotImplementedError(f"{spec().name} has no predict_proba")

    def track_holdout_log_loss(self, cache: dict[str, Any]) -> float:
        proba = self.pipeline.predict_proba(self.features)
        column = np.searchsorted(self.pipeline.classes_, self.truth)
        return float(metrics.log_loss_rows(proba[np.arange(len(column)), column]).mean())


class SamePredictions(FittedModel):
    """Share of rows predicted exactly like the production artifact (1.0 = identical).

    The artifact is named by MLGATE_BASELINE_ARTIFACT (the binding sets a default); without one this
    benchmark is skipped, like scikit-learn's own track_same_prediction without a baseline.
    """

    version = "1"
    rounds = 1
    unit = "share"

    def setup(self, cache: dict[str, Any]) -> None:
        folder = Path(os.environ.get("MLGATE_BASELINE_ARTIFACT", ""))
        if not str(folder) or not (folder / artifacts.MANIFEST_FILE).is_file():
            raise NotImplementedError(f"no production artifact at {folder}; set MLGATE_BASELINE_ARTIFACT")
        super().setup(cache)
        self.baseline = artifacts.load(folder, spec().trusted_types)

    def track_same_predictions(self, cache: dict[str, Any]) -> float:
        ours = self.pipeline.predict(self.features)
        theirs = self.baseline.pipeline.predict(self.features[self.baseline.pipeline.feature_names_in_])
        return float(np.mean(ours == theirs))
