"""The shape of a prediction API: where requests go, how records go in, where predictions come out.

`mlgate serve` is one shape (the default); a team's staging API is often another, so the locust
users and `mlgate parity` read it from ``[tool.mlgate.api]`` in the project's pyproject.toml:

    [tool.mlgate.api]
    path = "/v1/predictions/regression"   # POST here
    records = ""                          # the body is the JSON list of records itself
    predictions = "predictions"           # the answer's list of predictions (dotted path)
    probabilities = ""                    # the answer's {label: [...]} of class probabilities, if any
    hook = "my_project.api:shape"         # anything else: an object with body() and predictions()
"""

from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.infra.errors import MlgateError

KEYS = ("path", "records", "predictions", "probabilities", "hook")


@dataclass(frozen=True)
class ApiShape:
    """How records are sent and predictions read; defaults are `mlgate serve`'s."""

    path: str = "/predict"
    records: str = "records"  # the body's key holding the records; "" sends the bare list
    predictions: str = "predictions"
    probabilities: str = "probabilities"
    hook: Any = None  # an object with body(records) and predictions(answer), when the above do not fit

    def body(self, records: list[dict[str, Any]]) -> Any:
        """The JSON-ready request body for ``records``."""
        if self.hook is not None:
            return self.hook.body(records)
        return {self.records: records} if self.records else records

    def read_predictions(self, answer: Any) -> list[Any] | None:
        """The predictions in an answer, or None when it holds no list there."""
        found = self.hook.predictions(answer) if self.hook is not None else _dig(answer, self.predictions)
        return found if isinstance(found, list) else None

    def read_probabilities(self, answer: Any) -> dict[str, list[Any]]:
        """Class probabilities by label, when the API sends them."""
        if self.hook is not None:
            found = getattr(self.hook, "probabilities", lambda _: None)(answer)
        else:
            found = _dig(answer, self.probabilities) if self.probabilities else None
        return {str(k): v for k, v in found.items()} if isinstance(found, dict) else {}


def _dig(answer: Any, path: str) -> Any:
    for key in path.split(".") if path else []:
        if not isinstance(answer, dict):
            return None
        answer = answer.get(key)
    return answer


def read_api(project_dir: Path | None = None) -> ApiShape:
    """``[tool.mlgate.api]`` of the project's pyproject.toml, else `mlgate serve`'s shape."""
    path = (project_dir or Path.cwd()) / "pyproject.toml"
    if not path.is_file():
        return ApiShape()
    where = f"{path} [tool.mlgate.api]"
    try:
        table = (
            tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("mlgate", {}).get("api", {})
        )
    except (OSError, ValueError, RecursionError, AttributeError) as exc:  # AttributeError: tool = 5
        raise MlgateError(f"{path}: cannot read it as TOML ({exc}); fix the file") from exc
    if not isinstance(table, dict):
        raise MlgateError(f"{where}: must be a table; write [tool.mlgate.api]")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise MlgateError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(KEYS)}")
    for key, value in table.items():
        if not isinstance(value, str):
            raise MlgateError(f"{where}: {key} must be a string, not {type(value).__name__}")
    if not str(table.get("path", "/")).startswith("/"):
        raise MlgateError(f"{where}: path {table['path']!r} must start with '/', like '/predict'")
    hook = _hook(table["hook"], where, path.parent) if table.get("hook") else None
    return ApiShape(**{k: v for k, v in table.items() if k != "hook"}, hook=hook)


def _hook(reference: str, where: str, project_dir: Path) -> Any:
    from mlgate.model.spec import importable

    importable(project_dir)
    module_name, _, attr = reference.partition(":")
    try:
        hook = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise MlgateError(
            f"{where}: hook {reference!r} does not import ({exc}); write it as MODULE:OBJECT"
        ) from exc
    if not (callable(getattr(hook, "body", None)) and callable(getattr(hook, "predictions", None))):
        raise MlgateError(f"{where}: hook {reference!r} needs body(records) and predictions(answer) methods")
    return hook
