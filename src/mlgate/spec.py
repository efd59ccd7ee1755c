"""How mlgate finds a model: its data, its pipeline builder, its name and versions."""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd

from mlgate.errors import MlgateError

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

Task = Literal["regression", "classification"]
DEFAULT_SPEC = "mlgate.reference:spec"


@dataclass(frozen=True)
class ModelSpec:
    """Everything mlgate needs to train, load and judge one model.

    ``build(version)`` returns an unfitted scikit-learn Pipeline whose last step is the estimator;
    ``load_train()`` and ``load_holdout()`` return frames holding ``id_column``, the features and
    ``target``. ``trusted_types`` lists, by full dotted name, the types beyond skops' defaults that
    the pipeline may contain: loading refuses anything else.
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

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's input columns of ``frame``: everything but the id and the target."""
        return frame.drop(columns=[c for c in (self.id_column, self.target) if c in frame])


def load_spec(reference: str | None = None, project_dir: Path | None = None) -> ModelSpec:
    """Resolve ``module:object``, else ``[tool.mlgate] model`` in pyproject, else the default."""
    flag = "--spec"
    if reference is None:
        reference, flag = _spec_from_pyproject(project_dir or Path.cwd())
    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise MlgateError(f"{flag}: {reference!r} is not MODULE:OBJECT; write it like {DEFAULT_SPEC!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise MlgateError(
            f"{flag}: cannot import module {module_name!r} ({exc}); install it or fix the name"
        ) from exc
    obj = getattr(module, attr, None)
    if obj is None:
        raise MlgateError(
            f"{flag}: module {module_name!r} has no {attr!r}; name an existing ModelSpec object"
        )
    if callable(obj) and not isinstance(obj, ModelSpec):
        obj = obj()
    if not isinstance(obj, ModelSpec):
        raise MlgateError(
            f"{flag}: {reference!r} is a {type(obj).__name__}, not a "
            "mlgate.ModelSpec; return or define a ModelSpec there"
        )
    return obj


def _spec_from_pyproject(project_dir: Path) -> tuple[str, str]:
    path = project_dir / "pyproject.toml"
    if not path.is_file():
        return DEFAULT_SPEC, "--spec"
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MlgateError(f"{path}: cannot read it as TOML ({exc}); fix the file") from exc
    model = config.get("tool", {}).get("mlgate", {}).get("model", DEFAULT_SPEC)
    if not isinstance(model, str):
        raise MlgateError(f"{path}: [tool.mlgate] model must be a string like {DEFAULT_SPEC!r}")
    return model, f"{path} [tool.mlgate] model"
