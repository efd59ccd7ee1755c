"""Train one version of a spec and describe it: what went in, how long it took, how good it is."""

from __future__ import annotations

import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from mlgate.infra import threads
from mlgate.infra.errors import MlgateError, first_line
from mlgate.metrics import classification_metrics, regression_metrics
from mlgate.model.spec import ModelSpec
from mlgate.model.tables import fingerprint, infer_schema

RECORDED_PACKAGES = (
    "mlgate",
    "numpy",
    "pandas",
    "scikit-learn",
    "feature-engine",
    "skops",
    "scipy",
    "threadpoolctl",
)


def fit(
    spec: ModelSpec, version: str, train: pd.DataFrame, thread_limit: int | None = 1
) -> tuple[Pipeline, dict[str, Any]]:
    """Fit ``spec.build(version)`` on ``train``; return it with timings and thread settings."""
    if version not in spec.versions:
        raise MlgateError(
            f"--version: {spec.name} has no version {version!r}; choose one of {', '.join(spec.versions)}"
        )
    for column in (spec.target, spec.id_column):
        if column not in train.columns:
            raise MlgateError(
                f"training data of {spec.name}: no column {column!r}; the spec's loader must return it"
            )
    pipeline = spec.pipeline(version)
    features = spec.features(train)
    with threads.pinned(thread_limit) as thread_settings:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        try:
            pipeline.fit(features, train[spec.target])
        except (ValueError, TypeError, KeyError) as exc:
            reason = first_line(exc)
            raise MlgateError(
                f"--version {version}: the pipeline of {spec.name} failed to fit ({reason}); "
                "fix the spec's build function or its data"
            ) from exc
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return pipeline, {"wall_seconds": wall, "cpu_seconds": cpu, "threads": thread_settings}


def evaluate(spec: ModelSpec, pipeline: Pipeline, holdout: pd.DataFrame) -> dict[str, float]:
    """The spec's task metrics of a fitted pipeline on the holdout rows."""
    features = spec.features(holdout)
    truth = holdout[spec.target].to_numpy()
    try:
        if spec.task == "regression":
            return regression_metrics(truth.astype(float), pipeline.predict(features).astype(float))
        scores = None
        if hasattr(pipeline[-1], "predict_proba") and len(pipeline[-1].classes_) == 2:
            scores = pipeline.predict_proba(features)[:, 1]
        return classification_metrics(truth, pipeline.predict(features), scores)
    except (ValueError, TypeError, KeyError) as exc:
        reason = first_line(exc)
        raise MlgateError(
            f"holdout data of {spec.name}: the fitted pipeline cannot score it ({reason}); "
            "make load_holdout return the same columns as load_train"
        ) from exc


def manifest(
    spec: ModelSpec,
    version: str,
    pipeline: Pipeline,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    timing: dict[str, Any],
    spec_ref: str,
) -> dict[str, Any]:
    """Everything needed later to tell what this artifact is and how it was made."""
    features = spec.features(train)
    return {
        "name": spec.name,
        "version": version,
        "spec": spec_ref,
        "task": spec.task,
        "target": spec.target,
        "id_column": spec.id_column,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(Path.cwd()),
        "data": {
            "train": {"rows": len(train), "fingerprint": fingerprint(train)},
            "holdout": {"rows": len(holdout), "fingerprint": fingerprint(holdout)},
        },
        "input_schema": infer_schema(features),
        "steps": [name for name, _ in pipeline.steps],
        "params": _plain_params(pipeline),
        "training": {"wall_seconds": timing["wall_seconds"], "cpu_seconds": timing["cpu_seconds"]},
        "threads": timing["threads"],
        "metrics": evaluate(spec, pipeline, holdout),
        "environment": environment(),
    }


def environment() -> dict[str, Any]:
    """Python, platform and the versions of the packages that decide the numbers."""
    packages: dict[str, str | None] = {}
    for name in RECORDED_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": packages,
    }


def git_commit(where: Path) -> str | None:
    """The commit checked out at ``where`` (with ``+dirty`` for local changes), or None."""
    try:
        head = _git(where, "rev-parse", "HEAD")
        dirty = _git(where, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def _git(where: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=where, capture_output=True, text=True, timeout=10, check=True
    ).stdout.strip()


def _plain_params(pipeline: Pipeline) -> dict[str, Any]:
    """The pipeline's parameters that are plain JSON values (estimators are named by steps)."""
    plain: dict[str, Any] = {}
    for key, value in sorted(pipeline.get_params(deep=True).items()):
        if value is None or isinstance(value, (bool, int, float, str)):
            plain[key] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(v, (int, float, str)) for v in value):
            plain[key] = list(value)
        elif isinstance(value, np.generic):
            plain[key] = value.item()
        elif callable(value) and hasattr(value, "__name__"):
            plain[key] = f"{getattr(value, '__module__', '')}.{value.__name__}".lstrip(".")
    return plain
