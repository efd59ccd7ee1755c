"""`mlgate compare`: gather both versions' outputs on the same rows and run every check on them."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlgate import __version__, artifacts, atomic, threads
from mlgate.checks import parity, quality, shift
from mlgate.errors import MlgateError
from mlgate.predicting import PREDICTION, PROBA_PREFIX, model_input, predict, step_outputs
from mlgate.report import Finding, Report
from mlgate.spec import ModelSpec
from mlgate.tables import read_table
from mlgate.workflow import INPUT_STEP, STEPS_INDEX, steps_folder

SCATTER_POINTS = 2000
# Fewest rows both versions must share: PSI's ten bins need a couple of rows each, and a bootstrap
# interval of fewer rows says more about the draw than about the models.
MIN_ROWS = 20


@dataclass
class Side:
    """One version's outputs on raw rows, indexed by id, and (if known) each step's output."""

    label: str
    source: str
    kind: str  # "artifact" or "predictions"
    outputs: pd.DataFrame
    task: str | None
    steps: list[tuple[str, pd.DataFrame]] | None = None
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


@dataclass
class Inputs:
    """What the user pointed compare at."""

    baseline: Path
    candidate: Path
    spec: ModelSpec
    data: Path | None = None
    target: str | None = None
    id_column: str | None = None
    trust_pickle: bool = False


def is_artifact(path: Path) -> bool:
    return path.is_dir() and (path / artifacts.MANIFEST_FILE).is_file()


def run(inputs: Inputs, policy: dict[str, Any], extra: list[Finding] | None = None) -> Report:
    """Compare the two versions and return the report (nothing is written here)."""
    started = time.perf_counter()
    spec = inputs.spec
    atomic.check_path(inputs.baseline, "BASELINE")
    atomic.check_path(inputs.candidate, "CANDIDATE")
    data, data_source = _data(inputs)
    target = inputs.target or spec.target
    if data is not None and target not in data.columns:
        raise MlgateError(
            f"--target: column {target!r} is not in {data_source}; pass --target with the label column's name"
        )
    segment = policy["shift"]["segment"]
    if segment and data is not None and segment not in data.columns:
        raise MlgateError(
            f"policy shift.segment: column {segment!r} is not in {data_source}; "
            "name an existing column or leave it empty"
        )
    base = _side(inputs.baseline, "BASELINE", inputs, data, data_source)
    cand = _side(inputs.candidate, "CANDIDATE", inputs, data, data_source)
    task = _task(base, cand, spec)
    common, join_finding = _join(base, cand, data, inputs, policy)
    if len(common) < MIN_ROWS:
        raise MlgateError(
            f"BASELINE/CANDIDATE: only {len(common)} row(s) to compare"
            f"{' with labels in ' + data_source if data is not None else ''}; a comparison needs at "
            f"least {MIN_ROWS}, give more rows"
        )
    # Align both sides on the joined ids, replacing the originals so no second copy stays alive.
    base.outputs, cand.outputs = _aligned(base.outputs, common), _aligned(cand.outputs, common)
    b_out, c_out = base.outputs, cand.outputs

    findings: list[Finding] = [join_finding]
    if base.steps is not None and cand.steps is not None:
        b_steps = [(n, _aligned(f, common)) for n, f in base.steps]
        c_steps = [(n, _aligned(f, common)) for n, f in cand.steps]
        findings.append(parity.step_parity(b_steps, c_steps, policy))
    else:
        findings.append(
            Finding(
                "feature parity",
                "parity",
                "skip",
                "step outputs unavailable; compare artifacts, or predict with --steps",
                "steps",
            )
        )
    findings += parity.prediction_parity(b_out, c_out, task, policy)

    truth = None
    if data is not None:
        id_col = _id_column(inputs, base, cand)
        truth = _by_id(data, id_col, target, common)
    findings += _quality(truth, b_out, c_out, task, policy)
    findings += _shift(b_out, c_out, task, policy)
    if segment and data is not None and truth is not None:
        seg = _by_id(data, _id_column(inputs, base, cand), segment, common)
        findings.append(
            shift.segment_quality(
                seg,
                _truth_values(truth, task),
                _values(b_out, task),
                _values(c_out, task),
                task,
                policy,
            )
        )
    findings += extra or []
    return Report(
        baseline=base.label,
        candidate=cand.label,
        checks=findings,
        meta={
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "mlgate_version": __version__,
            "task": task,
            "baseline": base.describe(),
            "candidate": cand.describe(),
            "data": data_source,
            "rows_compared": len(common),
            "policy": policy,
            "seconds": round(time.perf_counter() - started, 3),
        },
        plots=_plots(b_out, c_out, truth, task),
    )


def _data(inputs: Inputs) -> tuple[pd.DataFrame | None, str]:
    if inputs.data is not None:
        return read_table(inputs.data, "--data"), f"--data {inputs.data}"
    if is_artifact(inputs.baseline) or is_artifact(inputs.candidate):
        return inputs.spec.holdout_rows(), f"the holdout of {inputs.spec.name}"
    return None, "none (prediction files only)"


def _id_column(inputs: Inputs, base: Side, cand: Side) -> str:
    if inputs.id_column:
        return inputs.id_column
    for side in (base, cand):
        if side.manifest:
            return str(side.manifest["id_column"])
    return inputs.spec.id_column


def _side(path: Path, flag: str, inputs: Inputs, data: pd.DataFrame | None, data_source: str) -> Side:
    if is_artifact(path):
        if data is None:  # pragma: no cover - _data always finds rows when a side is an artifact
            raise MlgateError(f"{flag}: {path} is an artifact; give --data to predict with it")
        artifact = artifacts.load(path, inputs.spec.trusted_types, inputs.trust_pickle, flag)
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
    id_col = inputs.id_column or inputs.spec.id_column
    if id_col not in frame.columns:
        raise MlgateError(f"{flag}: {path} has no id column {id_col!r}; pass --id with its name")
    if PREDICTION not in frame.columns:
        raise MlgateError(f"{flag}: {path} has no {PREDICTION!r} column; write it with `mlgate predict`")
    if frame[id_col].isna().any():
        raise MlgateError(f"{flag}: {path} has blank ids in {id_col!r}; give every row an id")
    if frame[id_col].duplicated().any():
        raise MlgateError(f"{flag}: {path} repeats ids in {id_col!r}; give one row per id")
    outputs = frame.set_index(id_col)
    _check_outputs(outputs, path, flag)
    task = "classification" if _looks_like_classification(outputs) else None
    return Side(path.stem, str(path), "predictions", outputs, task, _read_steps(path, id_col, flag))


def _check_outputs(outputs: pd.DataFrame, path: Path, flag: str) -> None:
    """Predictions must be values: a blank or infinite one would poison every statistic after it."""
    values = outputs[PREDICTION]
    bad = values.isna()
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        bad |= ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        raise MlgateError(
            f"{flag}: {path} has {int(bad.sum())} blank or non-finite value(s) in {PREDICTION!r} "
            f"(e.g. id {values.index[bad.to_numpy()][0]}); predict those rows again"
        )
    for column in (c for c in outputs.columns if str(c).startswith(PROBA_PREFIX)):
        numbers = pd.to_numeric(outputs[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if not np.all((numbers >= 0) & (numbers <= 1)):
            raise MlgateError(
                f"{flag}: {path}: column {column!r} must hold probabilities from 0 to 1 in every row; "
                "predict those rows again"
            )


def _looks_like_classification(outputs: pd.DataFrame) -> bool:
    has_proba = any(str(c).startswith("proba_") for c in outputs.columns)
    return has_proba or not pd.api.types.is_numeric_dtype(outputs[PREDICTION])


def _read_steps(path: Path, id_col: str, flag: str) -> list[tuple[str, pd.DataFrame]] | None:
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


def _task(base: Side, cand: Side, spec: ModelSpec) -> str:
    if base.kind == "predictions" and cand.kind == "predictions":
        kinds = {_looks_like_classification(base.outputs), _looks_like_classification(cand.outputs)}
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


def _join(
    base: Side, cand: Side, data: pd.DataFrame | None, inputs: Inputs, policy: dict[str, Any]
) -> tuple[pd.Index, Finding]:
    b_ids, c_ids = base.outputs.index, cand.outputs.index
    common = b_ids.intersection(c_ids, sort=False)
    if data is not None and (base.kind == "predictions" or cand.kind == "predictions"):
        id_col = _id_column(inputs, base, cand)
        if id_col not in data.columns:
            raise MlgateError(f"--data: no id column {id_col!r}; pass --id with its name")
        common = common.intersection(pd.Index(data[id_col]), sort=False)
    if len(common) == 0:
        raise MlgateError(
            f"BASELINE/CANDIDATE: no common ids between {base.source} and {cand.source}"
            f"{' and the data' if data is not None else ''}; compare outputs for the same rows"
        )
    coverage = len(common) / max(len(b_ids), len(c_ids))
    if coverage < policy["min_join"]:
        raise MlgateError(
            f"BASELINE/CANDIDATE: only {coverage:.1%} of rows share an id (policy min_join "
            f"{policy['min_join']:.0%}); check the id column or lower min_join"
        )
    only_b = [str(i) for i in b_ids.difference(common)[:5]]
    only_c = [str(i) for i in c_ids.difference(common)[:5]]
    n_only_b, n_only_c = len(b_ids) - len(common), len(c_ids) - len(common)
    message = f"{len(common):,} rows joined by id ({coverage:.1%})"
    if n_only_b or n_only_c:
        message += (
            f"; {n_only_b} only in baseline{' (e.g. ' + ', '.join(only_b) + ')' if only_b else ''}, "
            f"{n_only_c} only in candidate{' (e.g. ' + ', '.join(only_c) + ')' if only_c else ''}"
        )
    finding = Finding(
        "id join",
        "input",
        "warn" if n_only_b or n_only_c else "pass",
        message,
        "coverage",
        None,
        None,
        coverage,
        threshold=policy["min_join"],
        details={"only_baseline": n_only_b, "only_candidate": n_only_c},
    )
    return common.sort_values(), finding


def _aligned(frame: pd.DataFrame | pd.Series, ids: pd.Index) -> Any:
    """``frame`` on exactly ``ids`` in that order; no copy when it already is."""
    return frame if frame.index.equals(ids) else frame.loc[ids]


def _by_id(data: pd.DataFrame, id_col: str, column: str, ids: pd.Index) -> pd.Series:
    """``data[column]`` keyed by the id column, on exactly ``ids``."""
    series: pd.Series = _aligned(pd.Series(data[column].to_numpy(), index=data[id_col], name=column), ids)
    return series


def _values(outputs: pd.DataFrame, task: str) -> np.ndarray:
    column = outputs[PREDICTION]
    return column.to_numpy(dtype=float) if task == "regression" else column.astype(object).to_numpy()


def _truth_values(truth: pd.Series, task: str) -> np.ndarray:
    return truth.to_numpy(dtype=float) if task == "regression" else truth.astype(object).to_numpy()


def _score(outputs: pd.DataFrame, task: str) -> np.ndarray | None:
    """What the plots show: the prediction, or the positive-class probability of a binary model."""
    if task == "regression":
        return outputs[PREDICTION].to_numpy(dtype=float)
    proba = _probabilities(outputs)
    return proba.matrix[:, -1] if proba is not None and len(proba.labels) == 2 else None


def _probabilities(outputs: pd.DataFrame) -> quality.Probabilities | None:
    """The ``proba_<class>`` columns of a classifier's outputs, or None when it has none."""
    columns = [c for c in outputs.columns if str(c).startswith(PROBA_PREFIX)]
    if not columns:
        return None
    labels = [str(c)[len(PROBA_PREFIX) :] for c in columns]
    return quality.Probabilities(labels, outputs[columns].to_numpy(dtype=float))


def _shift(base: pd.DataFrame, cand: pd.DataFrame, task: str, policy: dict[str, Any]) -> list[Finding]:
    """Shift of the predictions (regression) or of each class probability (classifiers)."""
    if task == "regression":
        return shift.distribution_shift(_score(base, task), _score(cand, task), policy)  # type: ignore[arg-type]
    b, c = _probabilities(base), _probabilities(cand)
    if b is None or c is None:
        reason = "no class probabilities on both sides (the model has no predict_proba)"
        return [Finding("prediction shift", "shift", "skip", f"prediction shift: {reason}", "")]
    labels = b.labels[1:] if len(b.labels) == 2 else b.labels  # binary: one probability says it all
    findings = []
    for label in labels:
        for finding in shift.distribution_shift(b.of(label), c.of(label), policy):
            if len(b.labels) > 2:
                finding.name += f" [{label}]"
                finding.message = f"P({label}): {finding.message}"
            findings.append(finding)
    return findings


def _quality(
    truth: pd.Series | None,
    base: pd.DataFrame,
    cand: pd.DataFrame,
    task: str,
    policy: dict[str, Any],
) -> list[Finding]:
    if truth is None:
        return [
            Finding(
                "quality",
                "quality",
                "skip",
                "no labelled rows; give --data with the target column",
                "",
            )
        ]
    if truth.isna().any():
        raise MlgateError(
            f"--target: column {truth.name!r} has {int(truth.isna().sum())} missing "
            "value(s); drop those rows or fill the labels"
        )
    if task == "regression":
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
        truth = pd.Series(numbers, index=truth.index, name=truth.name)
    q = policy["quality"]
    if task == "regression":
        estimates = quality.regression_estimates(
            _truth_values(truth, task),
            _values(base, task),
            _values(cand, task),
            q["resamples"],
            q["seed"],
        )
    else:
        estimates, skipped = quality.classification_estimates(
            _truth_values(truth, task),
            _values(base, task),
            _values(cand, task),
            _probabilities(base),
            _probabilities(cand),
            q["resamples"],
            q["seed"],
        )
        return quality.judge(estimates, len(truth), policy, skipped)
    return quality.judge(estimates, len(truth), policy)


def _plots(base: pd.DataFrame, cand: pd.DataFrame, truth: pd.Series | None, task: str) -> dict[str, Any]:
    """Small, precomputed data for the report's plots (renderers only draw)."""
    b, c = _score(base, task), _score(cand, task)
    if b is None or c is None:
        return {}
    take = np.linspace(0, b.size - 1, min(SCATTER_POINTS, b.size)).astype(int)
    plots: dict[str, Any] = {"scatter": {"baseline": b[take].tolist(), "candidate": c[take].tolist()}}
    if truth is not None and task == "regression":
        y = truth.to_numpy(dtype=float)
        # Range from the sampled rows (cheap), counts from every row (clipped into the end bins).
        lo, hi = np.quantile(np.concatenate([y[take] - b[take], y[take] - c[take]]), [0.005, 0.995])
        edges = np.linspace(lo, hi, 41)
        counts = {}
        for name, predicted in (("baseline", b), ("candidate", c)):
            residual = y - predicted
            np.clip(residual, lo, hi, out=residual)
            counts[name] = np.histogram(residual, edges)[0].tolist()
            del residual
        plots["residuals"] = {"edges": edges.tolist(), **counts}
    return plots
