"""A user's model for the end-to-end tests: scikit-learn's bundled digits, multiclass, not in mlgate.

Copied into a scratch git repo as digits_model/spec.py; each version is a real change a team makes.
"""

import time
from typing import Any

import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler

from mlgate import ModelSpec


def _frame() -> pd.DataFrame:
    data = load_digits(as_frame=True)
    frame = data.frame.rename(columns={"target": "digit"})
    frame.insert(0, "image_id", range(len(frame)))
    return frame


def train() -> pd.DataFrame:
    return _frame().iloc[::2].reset_index(drop=True)


def holdout() -> pd.DataFrame:
    return _frame().iloc[1::2].reset_index(drop=True)


def pause(x: Any) -> Any:
    """A fixed 5 ms of extra work per call: the 'slower model'."""
    time.sleep(0.005)
    return x


def build(version: str) -> Pipeline:
    steps = [("scale", MinMaxScaler())]
    if version == "extra_step":
        steps.append(("standardise", StandardScaler()))
    if version == "slow":
        steps.append(("pause", FunctionTransformer(pause)))
    c = 1e-4 if version in ("worse", "v2") else 1.0
    steps.append(("model", LogisticRegression(C=c, max_iter=2000)))
    return Pipeline(steps)


spec = ModelSpec(
    name="digits",
    task="classification",
    target="digit",
    id_column="image_id",
    versions=("v1", "retrain", "worse", "extra_step", "slow"),
    build=build,
    load_train=train,
    load_holdout=holdout,
    trusted_types=("digits_model.spec.pause",),
)
