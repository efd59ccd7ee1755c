"""Prediction evidence: one version's outputs on raw rows, keyed by id, and each step's output.

A side is an artifact folder (predicted here, step by step) or a predictions file `mlgate predict`
wrote (with its ``.steps/`` folder when it was written with ``--steps``). This module owns reading
both; checks receive the outputs frames and the helpers below, never paths.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlgate.evidence.outputs import PREDICTION, PROBA_PREFIX, looks_like_classification
from mlgate.infra import threads
from mlgate.infra.errors import MlgateError
from mlgate.model import artifacts
from mlgate.model.predicting import model_input, predict, step_outputs
from mlgate.model.spec import ModelSpec
from mlgate.model.tables import read_table
from mlgate.model.workflow import INPUT_STEP, STEPS_INDEX, steps_folder

Steps = list[tuple[str, pd.DataFrame]]


@dataclass
class Side:
    """One version's outputs on raw rows, indexed by id, and (if known) each step's output."""

    label: str
    source: str
    kind: str  # "artifact" or "predictions"
    outputs: pd.DataFrame
    task: str | None
    steps: Steps | None = None
    manifest: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        info = {
            "label": self.label,
            "source": self.source,
            "kind": self.kind,
            "rows": len(self.outputs),
        }
        if self.manifest:
            info.update(
                version=self.manifest.get("version"),
                name=self.manifest.get("name"),
                git_commit=self.manifest.get("git_commit"),
                created=self.manifest.get("created"),
            )
        return info


def is_artifact(path: Path) -> bool:
    return path.is_dir() and (path / artifacts.MANIFEST_FILE).is_file()


def read_side(
    path: Path,
    flag: str,
    spec: ModelSpec,
    data: pd.DataFrame | None,
    data_source: str,
    id_column: str | None = None,
    trust_pickle: bool = False,
) -> Side:
    """``path``'s outputs: an artifact predicts ``data`` here; a predictions file is read."""
    if is_artifact(path):
        if data is None:  # pragma: no cover - compare always finds rows when a side is an artifact
            raise MlgateError(f"{flag}: {path} is an artifact; give --data to predict with it")
        artifact = artifacts.load(path, spec.trusted_types, trust_pickle, flag)
        features = model_input(artifact, data, data_source)
        with threads.pinned():
            outputs = predict(artifact, features, data_source).set_index(artifact.id_column)
            steps = [(INPUT_STEP, features), *step_outputs(artifact.pipeline, features, data_source)]
        label = artifact.version if artifact.version != "?" else path.name
        return Side(
            label,
            str(path),
            "artifact",
            outputs,
            str(artifact.manifest.get("task", "")) or None,
            steps,
            artifact.manifest,
        )
    if path.is_dir():
        raise MlgateError(
            f"{flag}: {path} is a folder without {artifacts.MANIFEST_FILE}; give an "
            "artifact folder or a predictions file"
        )
    frame = read_table(path, flag)
    id_col = id_column or spec.id_column
    if id_col not in frame.columns:
        raise MlgateError(f"{flag}: {path} has no id column {id_col!r}; pass --id with its name")
    if PREDICTION not in frame.columns:
        raise MlgateError(f"{flag}: {path} has no {PREDICTION!r} column; write it with `mlgate predict`")
    if frame[id_col].isna().any():
        raise MlgateError(f"{flag}: {path} has blank ids in {id_col!r}; give every row an id")
    outputs = frame.set_index(id_col)
    # The index's own check: a sorted id column answers without hashing, and the join reuses it.
    if not outputs.index.is_unique:
        raise MlgateError(f"{flag}: {path} repeats ids in {id_col!r}; give one row per id")
    _check_outputs(outputs, path, flag)
    task = "classification" if looks_like_classification(outputs) else None
    return Side(path.stem, str(path), "predictions", outputs, task, _read_steps(path, id_col, flag))


def task_of(base: Side, cand: Side, spec: ModelSpec) -> str:
    """The task both sides share (their manifests, else their outputs' look, else the spec's)."""
    if base.kind == "predictions" and cand.kind == "predictions":
        kinds = {looks_like_classification(base.outputs), looks_like_classification(cand.outputs)}
        if len(kinds) == 2:
            raise MlgateError(
                "BASELINE/CANDIDATE: one file holds class predictions and the other "
                "numbers; compare outputs of the same kind of model"
            )
    known = {s.task for s in (base, cand) if s.task}
    if len(known) > 1:
        raise MlgateError(
            f"BASELINE/CANDIDATE: a {base.task or 'regression'} model against a "
            f"{cand.task or 'regression'} model; compare versions of the same model"
        )
    return known.pop() if known else spec.task


def by_id(data: pd.DataFrame, id_col: str, column: str, ids: pd.Index) -> pd.Series:
    """``data[column]`` keyed by the id column, on exactly ``ids``."""
    series: pd.Series = aligned(pd.Series(data[column].to_numpy(), index=data[id_col], name=column), ids)
    return series


def aligned(frame: pd.DataFrame | pd.Series, ids: pd.Index) -> Any:
    """``frame`` on exactly ``ids`` in that order; no copy when it already is."""
    return frame if frame.index.equals(ids) else frame.loc[ids]


def labels(data: pd.DataFrame, id_col: str, target: str, ids: pd.Index, task: str) -> pd.Series:
    """The labels of ``ids``, checked: none missing, and a regression target finite and varying."""
    truth = by_id(data, id_col, target, ids)
    if truth.isna().any():
        raise MlgateError(
            f"--target: column {truth.name!r} has {int(truth.isna().sum())} missing "
            "value(s); drop those rows or fill the labels"
        )
    if task != "regression":
        return truth
    numbers = pd.to_numeric(truth, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(numbers)
    if bad.any():
        raise MlgateError(
            f"--target: column {truth.name!r} has {int(bad.sum())} value(s) that are not finite "
            f"numbers (e.g. {truth[bad].iloc[0]!r}); a regression target must be numbers, fix those rows"
        )
    if np.all(numbers == numbers[0]):
        raise MlgateError(
            f"--target: column {truth.name!r} holds {numbers[0]:g} in every row; R² and the "
            "intervals need labels that vary, give labelled rows of real outcomes"
        )
    return pd.Series(numbers, index=truth.index, name=truth.name)


def _check_outputs(outputs: pd.DataFrame, path: Path, flag: str) -> None:
    """Predictions must be values: a blank or infinite one would poison every statistic after it."""
    column = outputs[PREDICTION]
    bad = column.isna()
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        bad |= ~np.isfinite(column.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        raise MlgateError(
            f"{flag}: {path} has {int(bad.sum())} blank or non-finite value(s) in {PREDICTION!r} "
            f"(e.g. id {column.index[bad.to_numpy()][0]}); predict those rows again"
        )
    for name in (c for c in outputs.columns if str(c).startswith(PROBA_PREFIX)):
        numbers = pd.to_numeric(outputs[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if not np.all((numbers >= 0) & (numbers <= 1)):
            raise MlgateError(
                f"{flag}: {path}: column {name!r} must hold probabilities from 0 to 1 in every row; "
                "predict those rows again"
            )


def _read_steps(path: Path, id_col: str, flag: str) -> Steps | None:
    folder = steps_folder(path)
    index_file = folder / STEPS_INDEX
    if not index_file.is_file():
        return None
    try:
        index = json.loads(index_file.read_text(encoding="utf-8"))
        return [
            (
                step["name"],
                pd.read_parquet(folder / step["file"]).set_index(index.get("id_column", id_col)),
            )
            for step in index["steps"]
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise MlgateError(
            f"{flag}: cannot read step outputs in {folder} ({exc}); rerun `mlgate predict --steps`"
        ) from exc
