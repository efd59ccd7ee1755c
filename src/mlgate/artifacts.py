"""A model version on disk: ``model.skops`` and ``manifest.json``, loaded from trusted types."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklearn.pipeline import Pipeline

from mlgate import atomic
from mlgate.errors import MlgateError

MODEL_FILE = "model.skops"
MANIFEST_FILE = "manifest.json"
PICKLE_FILES = ("model.pkl", "model.pickle", "model.joblib")


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
    with atomic.new_directory(out, force=force) as tmp:
        (tmp / MODEL_FILE).write_bytes(model)
        (tmp / MANIFEST_FILE).write_text(
            json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )


def read_manifest(folder: Path, flag: str = "ARTIFACT") -> dict[str, Any]:
    """Read and sanity-check ``manifest.json`` of an artifact folder."""
    if not folder.is_dir():
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
    except (OSError, json.JSONDecodeError) as exc:
        raise MlgateError(f"{flag}: {path} is not valid JSON ({exc}); retrain the model") from exc
    for key in ("name", "version", "id_column", "input_schema"):
        if key not in manifest:
            raise MlgateError(f"{flag}: {path} has no {key!r}; retrain with this mlgate version")
    return dict(manifest)


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

    try:
        untrusted = sio.get_untrusted_types(file=model_path)
    except Exception as exc:
        raise MlgateError(
            f"{flag}: {model_path} is not a readable skops file ({exc}); retrain or copy it again"
        ) from exc
    refused = sorted(set(untrusted) - set(trusted_types))
    if refused:
        raise MlgateError(
            f"{flag}: {model_path} contains untrusted type(s): {', '.join(refused)}; "
            "add them to the spec's trusted_types only if you trust their source"
        )
    pipeline = sio.load(model_path, trusted=sorted(set(untrusted)))
    if not isinstance(pipeline, Pipeline):
        raise MlgateError(
            f"{flag}: {model_path} holds a {type(pipeline).__name__}, not a "
            "scikit-learn Pipeline; save the whole pipeline"
        )
    return Artifact(folder, pipeline, manifest)


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

    pipeline = joblib.load(found[0])
    if not isinstance(pipeline, Pipeline):
        raise MlgateError(
            f"{flag}: {found[0]} holds a {type(pipeline).__name__}, not a "
            "scikit-learn Pipeline; save the whole pipeline"
        )
    return pipeline
