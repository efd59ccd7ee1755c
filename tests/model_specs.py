"""Model specs for the comparator's fault matrix: each version is a real, retrained change."""

from __future__ import annotations

import time
from functools import cache
from typing import Any

import pandas as pd
from feature_engine.creation import MathFeatures
from feature_engine.selection import DropFeatures
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge, RidgeClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from mlgate import ModelSpec, reference

NUMERIC = ["LotArea", "GrLivArea", "TotalBsmtSF", "GarageArea", "WoodDeckSF", "OpenPorchSF"]
STRONG = ["OverallQual", "TotalBsmtSF", "GarageCars", "OverallCond", "Fireplaces"]


def _fault(version: str) -> Pipeline:
    """Reference v1 with one deliberate change per version."""
    pipeline = reference.build("v1")
    if version == "imputer_mean":  # a changed imputation value in one step
        pipeline.set_params(numeric_imputer__imputation_method="mean")
    elif version == "encoder_arbitrary":  # a changed encoder
        pipeline.set_params(ordinal_encoder__encoding_method="arbitrary")
    elif version == "strong_dropped":  # a clearly worse model
        pipeline.steps.insert(0, ("drop_strong", DropFeatures(features_to_drop=STRONG)))
    elif version == "over_regularised":  # a clearly worse baseline, so v1 is the better model
        pipeline.set_params(model__regressor__alpha=0.02)
    elif version == "slow":  # the same predictions after more work per call: a latency regression
        functions = ["sum", "mean", "std", "max", "min", "prod"]
        for k in range(3):
            names = [f"extra{k}_{f}" for f in functions]
            pipeline.steps[-1:-1] = [
                (
                    f"extra_work_{k}",
                    MathFeatures(variables=NUMERIC, func=functions, new_variables_names=names),
                ),
                (f"drop_extra_{k}", DropFeatures(features_to_drop=names)),
            ]
    return pipeline


faults = ModelSpec(
    name="ames-faults",
    task="regression",
    target=reference.TARGET,
    id_column=reference.ID_COLUMN,
    versions=("v1", "imputer_mean", "encoder_arbitrary", "strong_dropped", "over_regularised", "slow"),
    build=_fault,
    load_train=reference.train_frame,
    load_holdout=reference.holdout_frame,
    trusted_types=reference.TRUSTED_TYPES,
)


def _reversed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[list(reversed(frame.columns))]


# The same model trained on data whose columns come in the opposite order.
reordered = ModelSpec(
    name="ames-reordered",
    task="regression",
    target=reference.TARGET,
    id_column=reference.ID_COLUMN,
    versions=("v1",),
    build=reference.build,
    load_train=lambda: _reversed(reference.train_frame()),
    load_holdout=lambda: _reversed(reference.holdout_frame()),
    trusted_types=reference.TRUSTED_TYPES,
)


@cache
def _cancer() -> pd.DataFrame:
    """scikit-learn's bundled breast-cancer data with an id; rows shuffled once, deterministically."""
    frame = load_breast_cancer(as_frame=True).frame.sample(frac=1.0, random_state=0)
    frame.insert(0, "row_id", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)


WEAK = ["mean fractal dimension", "texture error", "smoothness error"]


def _cancer_pipeline(version: str) -> Pipeline:
    scaler = StandardScaler().set_output(transform="pandas")
    if version == "weak":  # three uninformative features only: clearly worse
        keep = DropFeatures(
            features_to_drop=[c for c in _cancer().columns if c not in (*WEAK, "row_id", "target")]
        )
        return Pipeline([("keep_weak", keep), ("scaler", scaler), ("model", LogisticRegression())])
    return Pipeline([("scaler", scaler), ("model", LogisticRegression(C=1.0, max_iter=1000))])


breast_cancer = ModelSpec(
    name="breast-cancer",
    task="classification",
    target="target",
    id_column="row_id",
    versions=("v1", "weak"),
    build=_cancer_pipeline,
    load_train=lambda: _cancer().iloc[:300],
    load_holdout=lambda: _cancer().iloc[300:],
    trusted_types=("feature_engine.selection.drop_features.DropFeatures",),
)


@cache
def _diabetes() -> pd.DataFrame:
    """scikit-learn's bundled diabetes data (442 rows, 10 numeric features) with an id column."""
    frame = load_diabetes(as_frame=True).frame.sample(frac=1.0, random_state=0)
    frame.insert(0, "patient_id", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)


PAUSE_SECONDS = 0.004


def pause(frame: pd.DataFrame) -> pd.DataFrame:
    """Wait a fixed time and change nothing: extra latency that a busy CPU cannot hide or inflate."""
    time.sleep(PAUSE_SECONDS)
    return frame


def _fast_pipeline(version: str) -> Pipeline:
    steps: list[tuple[str, Any]] = [("scaler", StandardScaler())]
    if version == "paused":  # the same predictions, 4 ms later: a latency regression
        steps.append(("pause", FunctionTransformer(pause)))
    return Pipeline([*steps, ("model", Ridge(alpha=1.0))])


# A model that costs about a millisecond per call, for tests of the load machinery rather than the model.
fast = ModelSpec(
    name="diabetes-fast",
    task="regression",
    target="target",
    id_column="patient_id",
    versions=("v1", "paused"),
    build=_fast_pipeline,
    load_train=lambda: _diabetes().iloc[:300],
    load_holdout=lambda: _diabetes().iloc[300:],
    trusted_types=("model_specs.pause",),
)


def crash_on_heavy(frame: pd.DataFrame) -> pd.DataFrame:
    """A bug that valid input can reach: a body-mass index above any in training (0.17) raises."""
    if (frame["bmi"] > 0.18).any():
        raise RuntimeError("a bug in the model code")
    return frame


# The fast model with a bug in a pipeline step: what a 500 looks like, and that the connection lives on.
buggy = ModelSpec(
    name="diabetes-buggy",
    task="regression",
    target="target",
    id_column="patient_id",
    versions=("v1",),
    build=lambda _: Pipeline([("bug", FunctionTransformer(crash_on_heavy)), ("model", Ridge(alpha=1.0))]),
    load_train=lambda: _diabetes().iloc[:300],
    load_holdout=lambda: _diabetes().iloc[300:],
    trusted_types=("model_specs.crash_on_heavy",),
)


@cache
def _wine() -> pd.DataFrame:
    """scikit-learn's bundled wine data (178 rows, 3 cultivars) with string labels and an id."""
    frame = load_wine(as_frame=True).frame.sample(frac=1.0, random_state=0)
    frame["target"] = frame["target"].map({0: "barolo", 1: "grignolino", 2: "barbera"})
    frame.insert(0, "wine_id", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)


def _wine_pipeline(version: str) -> Pipeline:
    if version == "no_proba":  # string labels and no predict_proba, as a linear SVM serves them
        return Pipeline([("scaler", StandardScaler()), ("model", RidgeClassifier())])
    if version == "weak":  # two uninformative columns only: clearly worse
        keep = DropFeatures(features_to_drop=[c for c in WINE_FEATURES if c not in ("ash", "magnesium")])
        return Pipeline([("keep_weak", keep), ("scaler", StandardScaler()), ("model", LogisticRegression())])
    return Pipeline([("scaler", StandardScaler()), ("model", LogisticRegression(max_iter=1000))])


WINE_FEATURES = [c for c in load_wine(as_frame=True).frame.columns if c != "target"]

# A multiclass classifier with string labels: predict_proba (v1, weak) and without it (no_proba).
wine = ModelSpec(
    name="wine",
    task="classification",
    target="target",
    id_column="wine_id",
    versions=("v1", "weak", "no_proba"),
    build=_wine_pipeline,
    load_train=lambda: _wine().iloc[:100],
    load_holdout=lambda: _wine().iloc[100:],
    trusted_types=("feature_engine.selection.drop_features.DropFeatures",),
)


def _boosted(version: str) -> Pipeline:
    return Pipeline([("model", HistGradientBoostingRegressor(max_iter=30, random_state=0))])


# A gradient-boosted regressor whose spec forgot a type its fitted trees hold.
boosted_untrusted = ModelSpec(
    name="diabetes-boosted",
    task="regression",
    target="target",
    id_column="patient_id",
    versions=("v1",),
    build=_boosted,
    load_train=lambda: _diabetes().iloc[:300],
    load_holdout=lambda: _diabetes().iloc[300:],
)


def _counted(version: str) -> Pipeline:
    trees = {"v1": 50, "more_trees": 51}[version]  # 2% more trees: about 2% more compute a row
    return Pipeline(
        [("model", HistGradientBoostingRegressor(max_iter=trees, early_stopping=False, random_state=0))]
    )


# A gradient-boosted regressor whose second version only computes more: for instruction counts.
counted = ModelSpec(
    name="diabetes-counted",
    task="regression",
    target="target",
    id_column="patient_id",
    versions=("v1", "more_trees"),
    build=_counted,
    load_train=lambda: _diabetes().iloc[:300],
    load_holdout=lambda: _diabetes().iloc[300:],
    trusted_types=("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",),
)
