"""The model itself: size on disk, holdout quality, and the same predictions as the baseline artifact."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from mlgate import artifacts

from .common import REPO, FittedModel, spec

# The production artifact the suite compares predictions with (like scikit-learn's track_same_prediction).
BASELINE_ARTIFACT = Path(os.environ.get("MLGATE_BASELINE_ARTIFACT", REPO / "results" / "models" / "v1"))


class ModelSize(FittedModel):
    """Bytes of the skops artifact (lower is better)."""

    version = "1"
    rounds = 1
    unit = "bytes"

    def track_model_bytes(self, cache: dict[str, Any]) -> int:
        return len(cache["model"])


class Quality(FittedModel):
    """Holdout RMSE (dollars, lower is better) and R² (higher is better) on 10,000 generated rows."""

    version = "1"
    rounds = 1

    def track_holdout_rmse(self, cache: dict[str, Any]) -> float:
        return float(np.sqrt(np.mean((self.truth - self.pipeline.predict(self.features)) ** 2)))

    track_holdout_rmse.unit = "dollars"  # type: ignore[attr-defined]

    def track_holdout_r2(self, cache: dict[str, Any]) -> float:
        residual = np.sum((self.truth - self.pipeline.predict(self.features)) ** 2)
        return float(1 - residual / np.sum((self.truth - self.truth.mean()) ** 2))

    track_holdout_r2.unit = "R2"  # type: ignore[attr-defined]


class SamePredictions(FittedModel):
    """Share of holdout rows predicted exactly like the baseline artifact (1.0 = identical)."""

    version = "1"
    rounds = 1
    unit = "share"

    def setup(self, cache: dict[str, Any]) -> None:
        super().setup(cache)
        if not (BASELINE_ARTIFACT / artifacts.MANIFEST_FILE).is_file():
            raise NotImplementedError(
                f"no baseline artifact at {BASELINE_ARTIFACT}; set MLGATE_BASELINE_ARTIFACT"
            )
        self.baseline = artifacts.load(BASELINE_ARTIFACT, spec().trusted_types)

    def track_same_predictions(self, cache: dict[str, Any]) -> float:
        ours = self.pipeline.predict(self.features)
        theirs = self.baseline.pipeline.predict(self.features[self.baseline.pipeline.feature_names_in_])
        return float(np.mean(ours == theirs))
