"""Predictions of a loaded artifact on raw rows, and every pipeline step's output on the way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mlgate.evidence.outputs import PREDICTION, PROBA_PREFIX
from mlgate.infra.errors import MlgateError, first_line
from mlgate.model.artifacts import Artifact
from mlgate.model.tables import conform

if TYPE_CHECKING:  # scikit-learn is imported where a model is loaded, not by every command
    from sklearn.pipeline import Pipeline


def model_input(artifact: Artifact, frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """The artifact's input columns of ``frame`` in trained order and dtypes (ids kept as index)."""
    id_col = artifact.id_column
    if id_col not in frame.columns:
        raise MlgateError(f"{source}: no id column {id_col!r}; add it so rows can be matched across versions")
    if frame[id_col].isna().any() or frame[id_col].duplicated().any():
        raise MlgateError(
            f"{source}: id column {id_col!r} has missing or repeated values; give every row a unique id"
        )
    features = conform(frame, artifact.schema, source)
    features.index = pd.Index(frame[id_col].to_numpy(), name=id_col)
    return features


def predict(artifact: Artifact, features: pd.DataFrame, source: str) -> pd.DataFrame:
    """One row per id: ``prediction``, and ``proba_<class>`` columns for classifiers."""
    values, probabilities = predict_arrays(artifact, features, source)
    out = pd.DataFrame({PREDICTION: values}, index=features.index)
    for label, column in (probabilities or {}).items():
        out[f"{PROBA_PREFIX}{label}"] = column
    return out.reset_index()


def predict_arrays(
    artifact: Artifact, features: pd.DataFrame, source: str
) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
    """Predictions, and class probabilities by label for classifiers, as plain arrays."""
    pipeline = artifact.pipeline
    with _model_errors(source, "predict"):
        values = pipeline.predict(features)
        if not (hasattr(pipeline, "predict_proba") and hasattr(pipeline[-1], "classes_")):
            return values, None
        proba = pipeline.predict_proba(features)
    # Columns of a C-ordered matrix are strided views: copies serialise (orjson) and write faster.
    return values, {
        str(label): np.ascontiguousarray(proba[:, k]) for k, label in enumerate(pipeline[-1].classes_)
    }


def step_outputs(
    pipeline: Pipeline, features: pd.DataFrame, source: str
) -> Iterator[tuple[str, pd.DataFrame]]:
    """Yield (step name, output of ``pipeline[:k]``) for every transforming step, in order.

    A step that outputs an array is reported with its ``get_feature_names_out`` names (``x0..`` when
    it has none), while the next step still gets the array it was fitted on: re-wrapping it would make
    scikit-learn warn "X has feature names" on every call.
    """
    current: object = features
    names = [str(c) for c in features.columns]
    for name, step in pipeline.steps[:-1]:
        with _model_errors(source, name):
            current = step.transform(current)
        if isinstance(current, pd.DataFrame):
            names = [str(c) for c in current.columns]
            yield name, current
            continue
        matrix = np.asarray(current.toarray() if hasattr(current, "toarray") else current)
        matrix = matrix.reshape(len(features), -1)
        names = _column_names(step, matrix.shape[1], names)
        yield name, pd.DataFrame(matrix, index=features.index, columns=names)


def _column_names(step: object, width: int, incoming: list[str]) -> list[str]:
    """The step's own output names, given the names of what came in (a step fitted on an array
    otherwise calls its columns x0..); ``x0..`` when it has none."""
    for arguments in ((incoming,), ()):
        try:
            names = [str(n) for n in step.get_feature_names_out(*arguments)]  # type: ignore[attr-defined]
        except (AttributeError, ValueError, TypeError, NotImplementedError):
            continue
        if len(names) == width and len(set(names)) == width:
            return names
    return [f"x{i}" for i in range(width)]


@contextmanager
def _model_errors(source: str, step: str) -> Iterator[None]:
    """Turn the model's own complaints about the data into one-line input errors."""
    try:
        yield
    except (ValueError, TypeError, KeyError) as exc:
        reason = first_line(exc)
        raise MlgateError(
            f"{source}: the model rejected the data at step {step!r} ({reason}); fix those values"
        ) from exc
