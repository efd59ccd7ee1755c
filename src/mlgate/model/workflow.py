"""The train and predict jobs: spec and files in, artifacts and prediction files out."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from mlgate.infra import atomic, threads
from mlgate.infra.errors import MlgateError
from mlgate.model import artifacts
from mlgate.model.predicting import model_input, predict, step_outputs
from mlgate.model.spec import ModelSpec, load_spec, spec_for_artifact, spec_reference
from mlgate.model.tables import SUFFIXES, read_table, write_table

log = logging.getLogger("mlgate")
STEPS_INDEX = "steps.json"
INPUT_STEP = "input"  # position 0: the raw rows as the model receives them


def export_data(spec: ModelSpec, out: Path, fmt: str, force: bool = False) -> tuple[Path, Path]:
    """Write the spec's train and holdout frames as ``out/train.FMT`` and ``out/holdout.FMT``."""
    if f".{fmt}" not in SUFFIXES:
        raise MlgateError(f"--format: {fmt!r} is not csv or parquet; choose one of them")
    paths = (out / f"train.{fmt}", out / f"holdout.{fmt}")
    check_new_files(list(paths), force)
    train, holdout = spec.train_rows(), spec.holdout_rows()
    write_table(train, paths[0])
    write_table(holdout, paths[1])
    return paths


def check_new_files(paths: list[Path], force: bool, flag: str = "--out") -> None:
    """Refuse, before anything is written, outputs that exist (without ``force``), are folders, or
    cannot be created."""
    for path in paths:
        if atomic.check_path(path, flag).is_dir():
            raise MlgateError(f"{flag}: {path} is a folder; choose a file path or move the folder aside")
        if path.exists() and not force:
            raise MlgateError(
                f"{flag}: {path} already exists; choose another path or pass --force to replace it"
            )
        atomic.check_writable(path, flag)


def check_new_folder(path: Path, force: bool, flag: str = "--out") -> None:
    """Refuse, before slow work, an output folder that exists (without ``force``), is a file, or
    cannot be created: the folder twin of ``check_new_files``."""
    if atomic.check_path(path, flag).exists() and not path.is_dir():
        raise MlgateError(f"{flag}: {path} is a file, not a folder; choose a folder path or move the file")
    if path.exists() and not force:
        raise MlgateError(f"{flag}: {path} already exists; choose another path or pass --force to replace it")
    atomic.check_writable(path, flag)


def train_artifact(
    spec_ref: str | None, version: str | None, out: Path, force: bool = False, thread_limit: int | None = 1
) -> str:
    """Train ``version`` (default: the newest) of the spec into ``out``; return a one-line summary."""
    from mlgate.model import training

    check_new_folder(out, force)  # before training, so the refusal does not wait for the fit
    used, _ = spec_reference(spec_ref)
    spec = load_spec(used)
    version = version or spec.versions[-1]
    if version not in spec.versions:
        raise MlgateError(
            f"--version: {spec.name} has no version {version!r}; choose one of {', '.join(spec.versions)}"
        )
    log.debug("loading data of %s", spec.name)
    train, holdout = spec.train_rows(), spec.holdout_rows()
    for column in (spec.target, spec.id_column):
        if column not in holdout.columns:
            raise MlgateError(
                f"holdout data of {spec.name}: no column {column!r}; the spec's load_holdout must return it"
            )
    log.debug("training %s %s on %s rows", spec.name, version, f"{len(train):,}")
    pipeline, timing = training.fit(spec, version, train, thread_limit=thread_limit)
    manifest = training.manifest(spec, version, pipeline, train, holdout, timing, used)
    artifacts.save(out, pipeline, manifest, force=force, trusted_types=spec.trusted_types)
    shown = ", ".join(f"{k} {v:.4g}" for k, v in manifest["metrics"].items())
    return f"trained {spec.name} {version} in {timing['wall_seconds']:.2f} s -> {out} (holdout {shown})"


def predict_file(
    artifact_dir: Path,
    data_file: Path,
    out: Path,
    steps: bool = False,
    spec_ref: str | None = None,
    force: bool = False,
    thread_limit: int | None = 1,
    trust_pickle: bool = False,
) -> str:
    """Predict ``data_file`` with an artifact into ``out`` (and its step outputs with ``steps``)."""
    if out.suffix.lower() not in SUFFIXES:
        raise MlgateError(f"--out: {out} has suffix {out.suffix or '(none)'!r}; use .csv or .parquet")
    steps_dir = steps_folder(out)
    check_new_files([out], force)
    if steps:
        check_new_folder(steps_dir, force)
    spec = spec_for_artifact(spec_ref, artifact_dir)
    artifact = artifacts.load(artifact_dir, spec.trusted_types, trust_pickle=trust_pickle)
    frame = read_table(data_file)
    features = model_input(artifact, frame, f"--data {data_file}")
    with threads.pinned(thread_limit):
        predictions = predict(artifact, features, f"--data {data_file}")
        if steps:
            write_steps(artifact, features, steps_dir, force, f"--data {data_file}")
    write_table(predictions, out)
    extra = (
        f" and {len(artifact.pipeline.steps) - 1} step outputs (and the input) in {steps_dir}"
        if steps
        else ""
    )
    return f"predicted {len(predictions):,} rows with {artifact.version} -> {out}{extra}"


def steps_folder(out: Path) -> Path:
    """Where ``--steps`` puts the step outputs for predictions file ``out``."""
    return out.with_name(out.stem + ".steps")


def write_steps(
    artifact: artifacts.Artifact, features: pd.DataFrame, folder: Path, force: bool, source: str
) -> None:
    """Write each step's output as NN-name.parquet keyed by id, plus an index in steps.json."""
    index: dict[str, Any] = {
        "id_column": artifact.id_column,
        "version": artifact.version,
        "steps": [],
    }
    with atomic.new_directory(folder, force=force, flag="--out") as tmp:
        outputs = [(INPUT_STEP, features), *step_outputs(artifact.pipeline, features, source)]
        for k, (name, output) in enumerate(outputs):
            file_name = f"{k:02d}-{name}.parquet"
            output.reset_index().to_parquet(tmp / file_name, index=False)
            index["steps"].append({"index": k, "name": name, "file": file_name})
        (tmp / STEPS_INDEX).write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
