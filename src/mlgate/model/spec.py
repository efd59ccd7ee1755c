"""How mlgate finds a model: its data, its pipeline builder, its name and versions."""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd

from mlgate.infra.errors import MlgateError, first_line

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

Task = Literal["regression", "classification"]
TASKS: tuple[Task, ...] = ("regression", "classification")
DEFAULT_SPEC = "mlgate.reference:spec"
log = logging.getLogger("mlgate")


@dataclass(frozen=True)
class ModelSpec:
    """Everything mlgate needs to train, load and judge one model.

    ``build(version)`` returns an unfitted scikit-learn Pipeline whose last step is the estimator;
    ``load_train()`` and ``load_holdout()`` return frames holding ``id_column``, the features and
    ``target``. ``trusted_types`` lists, by full dotted name, the types beyond skops' defaults that
    the pipeline may contain: loading refuses anything else. ``make_rows(n, seed)``, when given,
    generates ``n`` labelled rows, so the asv suite can measure batches and training larger than the
    data files hold.
    """

    name: str
    task: Task
    target: str
    id_column: str
    versions: tuple[str, ...]
    build: Callable[[str], Pipeline]
    load_train: Callable[[], pd.DataFrame]
    load_holdout: Callable[[], pd.DataFrame]
    trusted_types: tuple[str, ...] = field(default=())
    seed: int = 0
    make_rows: Callable[[int, int], pd.DataFrame] | None = None

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's input columns of ``frame``: everything but the id and the target."""
        return frame.drop(columns=[c for c in (self.id_column, self.target) if c in frame])

    def train_rows(self) -> pd.DataFrame:
        """``load_train()``; its failure, or anything but a frame, is one line naming the spec."""
        return _frame(self, "load_train", self.load_train)

    def holdout_rows(self) -> pd.DataFrame:
        """``load_holdout()``, checked like ``train_rows``."""
        return _frame(self, "load_holdout", self.load_holdout)

    def pipeline(self, version: str) -> Pipeline:
        """``build(version)``; its failure, or anything but a Pipeline, is one line naming the spec."""
        from sklearn.pipeline import Pipeline

        built = _user_call(self, "build", lambda: self.build(version))
        if not isinstance(built, Pipeline):
            raise MlgateError(
                f"spec {self.name!r}: build({version!r}) returned a {type(built).__name__}, not a "
                "scikit-learn Pipeline; return the whole pipeline, estimator last"
            )
        return built


def _user_call(spec: ModelSpec, what: str, call: Callable[[], object]) -> object:
    """Run a spec's own code: whatever it raises becomes one line that names the spec and the function."""
    try:
        return call()
    except MlgateError:
        raise
    except Exception as exc:  # the spec's code can fail any way; the user needs which and where
        raise MlgateError(
            f"spec {spec.name!r}: {what} failed ({type(exc).__name__}: {first_line(exc)}); "
            f"fix the spec's {what}"
        ) from exc


def _frame(spec: ModelSpec, what: str, call: Callable[[], object]) -> pd.DataFrame:
    frame = _user_call(spec, what, call)
    if not isinstance(frame, pd.DataFrame):
        raise MlgateError(
            f"spec {spec.name!r}: {what}() returned a {type(frame).__name__}, not a pandas DataFrame; "
            "return the rows as a DataFrame"
        )
    return frame


def spec_reference(reference: str | None = None, project_dir: Path | None = None) -> tuple[str, str]:
    """The ``module:object`` to use and where it was named: ``--spec``, else ``[tool.mlgate] model``
    in pyproject, else the embedded default."""
    if reference is not None:
        return reference, "--spec"
    return _spec_from_pyproject(project_dir or Path.cwd())


def named_spec(reference: str | None = None, project_dir: Path | None = None) -> str | None:
    """``--spec``, else ``[tool.mlgate] model``; None when only the embedded default would apply."""
    named, where = spec_reference(reference, project_dir)
    return None if reference is None and where == "--spec" else named


def spec_for_artifact(reference: str | None, artifact_dir: Path) -> ModelSpec:
    """The spec an artifact is read with: ``--spec`` when given (one line if the artifact was trained
    with another), else the one its manifest records when that imports, else the project's."""
    recorded = _recorded_spec(artifact_dir)
    if reference is not None:
        if recorded and recorded != reference:
            log.warning(
                "%s was trained with spec %s; reading it with --spec %s as asked",
                artifact_dir,
                recorded,
                reference,
            )
        return load_spec(reference)
    if recorded:
        try:
            return load_spec(recorded)
        except MlgateError as exc:
            log.warning(
                "%s: its spec %s does not import here (%s); using the project's", artifact_dir, recorded, exc
            )
    return load_spec()


def _recorded_spec(artifact_dir: Path) -> str | None:
    try:
        manifest = json.loads((artifact_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None  # not an artifact folder (a prediction file), or unreadable: the loader says why
    recorded = manifest.get("spec") if isinstance(manifest, dict) else None
    return recorded if isinstance(recorded, str) and recorded else None


def load_spec(reference: str | None = None, project_dir: Path | None = None) -> ModelSpec:
    """Resolve ``module:object``, else ``[tool.mlgate] model`` in pyproject, else the default."""
    reference, flag = spec_reference(reference, project_dir)
    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise MlgateError(f"{flag}: {reference!r} is not MODULE:OBJECT; write it like {DEFAULT_SPEC!r}")
    importable(project_dir or Path.cwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise MlgateError(
            f"{flag}: cannot import module {module_name!r} ({exc}); install it or fix the name"
        ) from exc
    except Exception as exc:  # user code failing at import: one line naming --spec
        raise MlgateError(
            f"{flag}: importing module {module_name!r} failed ({type(exc).__name__}: {first_line(exc)}); "
            "fix the module"
        ) from exc
    obj = getattr(module, attr, None)
    if obj is None:
        raise MlgateError(
            f"{flag}: module {module_name!r} has no {attr!r}; name an existing ModelSpec object"
        )
    if callable(obj) and not isinstance(obj, ModelSpec):
        obj = _call_factory(obj, reference, flag)
    if not isinstance(obj, ModelSpec):
        raise MlgateError(
            f"{flag}: {reference!r} is a {type(obj).__name__}, not a "
            "mlgate.ModelSpec; return or define a ModelSpec there"
        )
    _check_fields(obj, reference, flag)
    return obj


def _check_fields(spec: ModelSpec, reference: str, flag: str) -> None:
    """The fields everything else relies on, checked once where the spec is found."""
    problem = None
    if spec.task not in TASKS:
        problem = f"task is {spec.task!r}; use 'regression' or 'classification'"
    elif not spec.versions or not all(isinstance(v, str) and v for v in spec.versions):
        problem = "versions must name at least one version, as strings"
    elif not all(isinstance(getattr(spec, f), str) for f in ("name", "target", "id_column")):
        problem = "name, target and id_column must be strings"
    if problem:
        raise MlgateError(f"{flag}: {reference!r}: {problem}")


def _call_factory(factory: Callable[..., object], reference: str, flag: str) -> object:
    """A spec may be a function returning one; anything else callable (json:loads) is named, not run blind."""
    try:
        inspect.signature(factory).bind()
    except TypeError as exc:
        raise MlgateError(
            f"{flag}: {reference!r} is a {type(factory).__name__} that needs arguments ({exc}), not a "
            "mlgate.ModelSpec; name a ModelSpec or a function that takes none and returns one"
        ) from exc
    except ValueError:
        pass  # no signature to read (some builtins): calling it tells
    try:
        return factory()
    except Exception as exc:  # user code: any failure is one line naming --spec
        reason = first_line(exc)
        raise MlgateError(
            f"{flag}: calling {reference!r} failed ({type(exc).__name__}: {reason}); "
            "fix it so it returns a mlgate.ModelSpec"
        ) from exc


def importable(project_dir: Path) -> None:
    """A spec in the user's repository imports without installing it, as `python -m` would find it
    (the project folder, and its ``src/`` in a src layout)."""
    for folder in (project_dir / "src", project_dir):
        if folder.is_dir() and str(folder.resolve()) not in sys.path:
            sys.path.insert(0, str(folder.resolve()))


def _spec_from_pyproject(project_dir: Path) -> tuple[str, str]:
    path = project_dir / "pyproject.toml"
    if not path.is_file():
        return DEFAULT_SPEC, "--spec"
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # ValueError: TOML and UTF-8 decoding
        raise MlgateError(f"{path}: cannot read it as TOML ({exc}); fix the file") from exc
    tool = config.get("tool", {})
    table = tool.get("mlgate", {}) if isinstance(tool, dict) else {}
    model = table.get("model") if isinstance(table, dict) else None
    if model is None:  # nothing named: the embedded default, as without a pyproject
        return DEFAULT_SPEC, "--spec"
    if not isinstance(model, str):
        raise MlgateError(f"{path}: [tool.mlgate] model must be a string like {DEFAULT_SPEC!r}")
    return model, f"{path} [tool.mlgate] model"
