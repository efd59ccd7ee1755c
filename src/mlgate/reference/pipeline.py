"""The reference pipeline: feature-engine steps and a regularised linear model on log price."""

from __future__ import annotations

import numpy as np
from feature_engine.creation import MathFeatures, RelativeFeatures
from feature_engine.encoding import OrdinalEncoder, RareLabelEncoder
from feature_engine.imputation import AddMissingIndicator, CategoricalImputer, MeanMedianImputer
from feature_engine.selection import DropFeatures
from feature_engine.transformation import LogTransformer
from feature_engine.wrappers import SklearnTransformerWrapper
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import Lasso
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from mlgate.reference import VERSIONS
from mlgate.reference.data import NOMINAL

NUMERIC_WITH_MISSING: list[str | int] = ["LotFrontage", "MasVnrArea", "GarageYrBlt"]
# Missing here means "the house has no such thing": it becomes its own level.
STRUCTURAL_MISSING: list[str | int] = [
    "BsmtQual",
    "BsmtCond",
    "BsmtExposure",
    "BsmtFinType1",
    "FireplaceQu",
    "GarageType",
    "GarageFinish",
    "GarageQual",
]
QUALITY_COLUMNS: list[str | int] = ["ExterQual", "ExterCond", "HeatingQC", "KitchenQual"]
CATEGORICAL: list[str | int] = sorted({*NOMINAL, "Neighborhood", *STRUCTURAL_MISSING, *QUALITY_COLUMNS})
SKEWED: list[str | int] = ["LotArea", "GrLivArea", "LotFrontage"]
YEAR_COLUMNS: list[str | int] = ["YearBuilt", "YearRemodAdd", "GarageYrBlt"]


def build_pipeline(version: str) -> Pipeline:
    """Build an unfitted pipeline for ``version`` (v1, or v2 with total area and less shrinkage)."""
    if version not in VERSIONS:
        raise ValueError(f"unknown reference version {version!r}; known: {', '.join(VERSIONS)}")
    steps: list[tuple[str, object]] = [
        ("missing_indicator", AddMissingIndicator(variables=NUMERIC_WITH_MISSING)),
        (
            "numeric_imputer",
            MeanMedianImputer(imputation_method="median", variables=NUMERIC_WITH_MISSING),
        ),
        (
            "structural_imputer",
            CategoricalImputer(
                imputation_method="missing", fill_value="Missing", variables=STRUCTURAL_MISSING
            ),
        ),
        (
            "frequent_imputer",
            CategoricalImputer(
                imputation_method="frequent",
                variables=[c for c in CATEGORICAL if c not in STRUCTURAL_MISSING],
            ),
        ),
        # Years since built/remodelled/garage at the time of sale.
        (
            "elapsed_years",
            RelativeFeatures(variables=["YrSold"], reference=YEAR_COLUMNS, func=["sub"]),
        ),
        ("drop_years", DropFeatures(features_to_drop=YEAR_COLUMNS)),
    ]
    if version == "v2":
        steps.append(
            (
                "total_area",
                MathFeatures(
                    variables=["GrLivArea", "TotalBsmtSF"],
                    func="sum",
                    new_variables_names=["TotalSF"],
                ),
            )
        )
    steps += [
        (
            "log_transform",
            LogTransformer(variables=SKEWED + (["TotalSF"] if version == "v2" else [])),
        ),
        ("rare_labels", RareLabelEncoder(tol=0.01, n_categories=1, variables=CATEGORICAL)),
        (
            "ordinal_encoder",
            OrdinalEncoder(encoding_method="ordered", variables=CATEGORICAL, unseen="encode"),
        ),
        ("scaler", SklearnTransformerWrapper(transformer=MinMaxScaler())),
        (
            "model",
            TransformedTargetRegressor(
                regressor=Lasso(alpha=0.0005 if version == "v1" else 0.0002, max_iter=5000, random_state=0),
                func=np.log,
                inverse_func=np.exp,
            ),
        ),
    ]
    return Pipeline(steps)
