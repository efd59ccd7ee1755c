"""The embedded default model: Ames-style house prices, generated offline from a seed."""

from __future__ import annotations

from mlgate.reference.data import (
    HOLDOUT_ROWS,
    ID_COLUMN,
    TARGET,
    TRAIN_ROWS,
    generate,
    holdout_frame,
    train_frame,
)
from mlgate.reference.pipeline import VERSIONS, build
from mlgate.spec import ModelSpec

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
