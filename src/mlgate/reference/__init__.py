"""The embedded default model: Ames-style house prices, generated offline from a seed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlgate.model.spec import ModelSpec
from mlgate.reference.data import (
    HOLDOUT_ROWS,
    ID_COLUMN,
    TARGET,
    TRAIN_ROWS,
    generate,
    holdout_frame,
    train_frame,
)

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

VERSIONS = ("v1", "v2")


def build(version: str) -> Pipeline:
    """An unfitted reference pipeline; scikit-learn is imported only when one is built."""
    from mlgate.reference.pipeline import build_pipeline

    return build_pipeline(version)


# Beyond skops' defaults, the reference pipelines contain exactly these types.
TRUSTED_TYPES = (
    "feature_engine.creation.math_features.MathFeatures",
    "feature_engine.creation.relative_features.RelativeFeatures",
    "feature_engine.encoding.ordinal.OrdinalEncoder",
    "feature_engine.encoding.rare_label.RareLabelEncoder",
    "feature_engine.imputation.categorical.CategoricalImputer",
    "feature_engine.imputation.mean_median.MeanMedianImputer",
    "feature_engine.imputation.missing_indicator.AddMissingIndicator",
    "feature_engine.selection.drop_features.DropFeatures",
    "feature_engine.transformation.log.LogTransformer",
    "feature_engine.wrappers.wrappers.SklearnTransformerWrapper",
)

spec = ModelSpec(
    name="ames-house-prices",
    task="regression",
    target=TARGET,
    id_column=ID_COLUMN,
    versions=VERSIONS,
    build=build,
    load_train=train_frame,
    load_holdout=holdout_frame,
    trusted_types=TRUSTED_TYPES,
    make_rows=lambda n, seed: generate(n, seed=seed, first_id=10_000_001),
)

__all__ = [
    "HOLDOUT_ROWS",
    "ID_COLUMN",
    "TARGET",
    "TRAIN_ROWS",
    "TRUSTED_TYPES",
    "VERSIONS",
    "build",
    "generate",
    "holdout_frame",
    "spec",
    "train_frame",
]
