"""A model version on disk: ``model.skops`` and ``manifest.json``, loaded from trusted types."""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.infra import atomic
from mlgate.infra.errors import MlgateError, first_line
from mlgate.model.spec import TASKS

if TYPE_CHECKING:  # scikit-learn is imported where a model is loaded, not by every command
    from sklearn.pipeline import Pipeline

MODEL_FILE = "model.skops"
MANIFEST_FILE = "manifest.json"
PICKLE_FILES = ("model.pkl", "model.pickle", "model.joblib")
# How much a model file may unpack to, checked from the zip directory before skops reads a byte of it.
# mlgate writes skops files uncompressed (unpacked/file size 1.0); skops files deflated at level 9
# measured 30x for the reference pipelines and 3-7x for forests, boosting and linear models. 100x
# keeps three times that margin, while a zip bomb (a 290 KB file unpacking to 256 MB is 900x) is
# refused. Small files may always unpack to the floor.
MAX_UNPACK_RATIO = 100
MIN_UNPACK_LIMIT = 16 * 2**20
SCHEMA_KINDS = ("integer", "number", "string")


@dataclass(frozen=True)
class Artifact:
    """A loaded model version: the fitted pipeline and what was recorded when it was trained."""

    path: Path
    pipeline: Pipeline
    manifest: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", "?"))

    @property
    def schema(self) -> list[dict[str, Any]]:
        return list(self.manifest["input_schema"])

    @property
    def id_column(self) -> str:
        return str(self.manifest["id_column"])


def save(
    out: Path,
    pipeline: Pipeline,
    manifest: dict[str, Any],
    force: bool = False,
    trusted_types: tuple[str, ...] | None = None,
) -> None:
    """Write the artifact folder atomically; an existing folder needs ``force``.

    With ``trusted_types``, a pipeline holding any other non-default type is refused before anything
    is written: found at training time, not when the artifact is first loaded.
    """
    import skops.io as sio

    model = sio.dumps(pipeline)
    if trusted_types is not None:
        missing = sorted(set(sio.get_untrusted_types(data=model)) - set(trusted_types))
        if missing:
            listed = ", ".join(f'"{name}"' for name in missing)
            raise MlgateError(
                f"--spec: the trained pipeline holds type(s) the spec does not trust; add them to its "
                f"trusted_types if you trust their source: {listed}"
            )
    with atomic.new_directory(out, force=force, keep=f"the artifact in {out}") as tmp:
        (tmp / MODEL_FILE).write_bytes(model)
        (tmp / MANIFEST_FILE).write_text(
            json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )


def read_manifest(folder: Path, flag: str = "ARTIFACT") -> dict[str, Any]:
    """Read and sanity-check ``manifest.json`` of an artifact folder."""
    if not atomic.check_path(folder, flag).is_dir():
        raise MlgateError(
            f"{flag}: {folder} is not an artifact folder; give the folder `mlgate train --out` wrote"
        )
    path = folder / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MlgateError(
            f"{flag}: {path} is missing; train the model with `mlgate train` to make an artifact"
        ) from exc
    except (OSError, ValueError, RecursionError) as exc:
        raise MlgateError(f"{flag}: {path} is not valid JSON ({exc}); retrain the model") from exc
    if not isinstance(manifest, dict):
        raise MlgateError(
            f"{flag}: {path} holds {_json_kind(manifest)}, not a JSON object; retrain the model"
        )
    for key in ("name", "version", "id_column", "input_schema"):
        if key not in manifest:
            raise MlgateError(f"{flag}: {path} has no {key!r}; retrain with this mlgate version")
    for key in ("name", "version", "id_column"):
        if not isinstance(manifest[key], str) or not manifest[key]:
            raise MlgateError(f"{flag}: {path}: {key!r} must be a non-empty string; retrain the model")
    if manifest.get("task") is not None and manifest["task"] not in TASKS:
        raise MlgateError(f"{flag}: {path}: 'task' must be one of {', '.join(TASKS)}; retrain the model")
    schema = manifest["input_schema"]
    if not isinstance(schema, list) or not all(_is_column(column) for column in schema):
        raise MlgateError(
            f"{flag}: {path}: 'input_schema' must be a list of {{name, kind, nullable}} with kind one of "
            f"{', '.join(SCHEMA_KINDS)}; retrain the model"
        )
    return dict(manifest)


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    return {list: "a list", str: "a string", bool: "a boolean"}.get(type(value), "a number")


def _is_column(column: object) -> bool:
    return (
        isinstance(column, dict)
        and isinstance(column.get("name"), str)
        and column.get("kind") in SCHEMA_KINDS
        and isinstance(column.get("nullable", False), bool)
    )


def load(
    folder: Path,
    trusted_types: tuple[str, ...] | list[str],
    trust_pickle: bool = False,
    flag: str = "ARTIFACT",
) -> Artifact:
    """Load an artifact, refusing any type outside skops' defaults and ``trusted_types``.

    The file is audited before anything is constructed. Pickle files load only with
    ``trust_pickle``, because unpickling can run arbitrary code.
    """
    manifest = read_manifest(folder, flag)
    model_path = folder / MODEL_FILE
    if not model_path.is_file():
        return Artifact(folder, _load_pickle(folder, trust_pickle, flag), manifest)
    import skops.io as sio

    check_zip(model_path, flag)
    try:
        untrusted = sio.get_untrusted_types(file=model_path)
    except Exception as exc:  # skops raises many types for a malformed file
        raise _unreadable(model_path, exc, flag) from exc
    refused = sorted(set(untrusted) - set(trusted_types))
    if refused:
        raise MlgateError(
            f"{flag}: {model_path} contains untrusted type(s): {', '.join(refused)}; "
            "add them to the spec's trusted_types only if you trust their source"
        )
    try:
        pipeline = sio.load(model_path, trusted=sorted(set(untrusted)))
    except Exception as exc:  # as above: any failure to read the file is one line
        raise _unreadable(model_path, exc, flag) from exc
    from sklearn.pipeline import Pipeline

    if not isinstance(pipeline, Pipeline):
        raise MlgateError(
            f"{flag}: {model_path} holds a {type(pipeline).__name__}, not a "
            "scikit-learn Pipeline; save the whole pipeline"
        )
    return Artifact(folder, pipeline, manifest)


def check_zip(path: Path, flag: str = "ARTIFACT") -> None:
    """Refuse a model file whose zip directory is unsafe: member names that leave the archive, or
    members that unpack to far more than the file holds (a zip bomb). Nothing is decompressed here."""
    size = path.stat().st_size
    limit = max(MIN_UNPACK_LIMIT, MAX_UNPACK_RATIO * size)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise _unreadable(path, exc, flag) from exc
    total = 0
    for member in members:
        name = member.filename
        parts = name.split("/")
        if name.startswith("/") or "\\" in name or ".." in parts or re.match(r"[A-Za-z]:", name):
            raise MlgateError(
                f"{flag}: {path} holds a member named {name!r} that points outside the archive; "
                "refusing it, retrain or copy the model from its source again"
            )
        total += member.file_size
        if total > limit:
            raise MlgateError(
                f"{flag}: {path} unpacks to more than {limit:,} bytes ({MAX_UNPACK_RATIO}x its "
                f"{size:,}-byte size, at least {MIN_UNPACK_LIMIT // 2**20} MiB); refusing a possible "
                "zip bomb, retrain or save the model uncompressed"
            )


def _unreadable(path: Path, exc: BaseException, flag: str) -> MlgateError:
    return MlgateError(
        f"{flag}: {path} is not a readable model file ({first_line(exc)}); retrain or copy it again"
    )


def _load_pickle(folder: Path, trust_pickle: bool, flag: str) -> Pipeline:
    found = [folder / name for name in PICKLE_FILES if (folder / name).is_file()]
    if not found:
        raise MlgateError(
            f"{flag}: {folder} has no {MODEL_FILE}; train the model with `mlgate train` to make one"
        )
    if not trust_pickle:
        raise MlgateError(
            f"{flag}: {found[0]} is a pickle, which can run arbitrary code when "
            "loaded; convert it to skops, or pass --trust-pickle if you trust it"
        )
    import joblib

    try:
        pipeline = joblib.load(found[0])
    except Exception as exc:  # unpickling a damaged file can raise anything
        raise _unreadable(found[0], exc, flag) from exc
    from sklearn.pipeline import Pipeline

    if not isinstance(pipeline, Pipeline):
        raise MlgateError(
            f"{flag}: {found[0]} holds a {type(pipeline).__name__}, not a "
            "scikit-learn Pipeline; save the whole pipeline"
        )
    return pipeline
