"""Thresholds and tolerances: defaults, then ``[tool.mlgate.policy]``, then ``--policy FILE``.

Every key is validated: an unknown key or a value of the wrong kind is an error naming the key.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from mlgate.errors import MlgateError

# Margins: how much worse a metric may get before it counts. "relative" margins are fractions of the
# baseline value (RMSE +1%), "absolute" ones are in the metric's own units (AUC -0.005).
DEFAULTS: dict[str, Any] = {
    "alpha": 0.01,
    "min_join": 0.95,
    "parity": {
        "required": False,
        "rtol": 1e-7,
        "atol": 1e-9,  # times the baseline's scale (mean |value|) of each column
        "max_flip_rate": 0.0,
        "columns": {},
    },
    "quality": {
        "resamples": 2000,
        "seed": 0,
        "margins": {
            "rmse": 0.01,
            "mae": 0.01,
            "r2": 0.005,
            "accuracy": 0.005,
            "roc_auc": 0.005,
            "log_loss": 0.01,
            "brier": 0.01,
            "macro_f1": 0.005,
        },
    },
    # Minimum effects θ: a timing change smaller than this is never a regression (docs/design.md).
    "latency": {"p50": 0.05, "p95": 0.05, "p99": 0.10, "throughput": 0.05, "error_rate": 0.005},
    "timing": {"time": 0.05, "training": 0.025, "memory": 0.05, "size": 0.10, "track": 0.01},
    "shift": {
        "bins": 10,
        "psi_warn": 0.1,
        "psi_fail": 0.25,
        "ks_warn": 0.1,
        "segment": "",
        "min_segment_rows": 30,
    },
}
RELATIVE_MARGINS = frozenset({"rmse", "mae", "log_loss", "brier"})
_COLUMN_KEYS = {"rtol", "atol"}


def load_policy(policy_file: Path | None = None, project_dir: Path | None = None) -> dict[str, Any]:
    """The effective policy: defaults overridden by pyproject, then by ``policy_file``."""
    policy = copy.deepcopy(DEFAULTS)
    pyproject = (project_dir or Path.cwd()) / "pyproject.toml"
    if pyproject.is_file():
        table = _read_toml(pyproject, "pyproject.toml").get("tool", {}).get("mlgate", {})
        if "policy" in table:
            _merge(policy, table["policy"], f"{pyproject} [tool.mlgate.policy]", "")
    if policy_file is not None:
        if not policy_file.is_file():
            raise MlgateError(f"--policy: file {policy_file} does not exist; check the path")
        _merge(policy, _read_toml(policy_file, "--policy"), f"--policy {policy_file}", "")
    return policy


def _read_toml(path: Path, flag: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MlgateError(f"{flag}: cannot read {path} as TOML ({exc}); fix the file") from exc


def _merge(into: dict[str, Any], new: dict[str, Any], source: str, prefix: str) -> None:
    for key, value in new.items():
        dotted = f"{prefix}{key}"
        if prefix == "parity.columns.":
            _check_column(value, source, dotted)
            into[key] = dict(value)
            continue
        if key not in into:
            known = ", ".join(sorted(into))
            raise MlgateError(f"{source}: unknown key {dotted!r}; known keys here: {known}")
        default = into[key]
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise MlgateError(f"{source}: {dotted!r} must be a table; write [{dotted}]")
            _merge(default, value, source, f"{dotted}.")
            continue
        into[key] = _checked(default, value, source, dotted)


def _checked(default: Any, value: Any, source: str, dotted: str) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise MlgateError(f"{source}: {dotted!r} must be true or false, got {value!r}")
        return value
    if isinstance(default, int) and not isinstance(default, bool):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise MlgateError(f"{source}: {dotted!r} must be a whole number >= 0, got {value!r}")
        return value
    if isinstance(default, float):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise MlgateError(f"{source}: {dotted!r} must be a number >= 0, got {value!r}")
        if dotted in ("alpha", "min_join") and not 0 < value < 1 + (dotted == "min_join"):
            raise MlgateError(f"{source}: {dotted!r} must be between 0 and 1, got {value!r}")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise MlgateError(f"{source}: {dotted!r} must be a string, got {value!r}")
        return value
    raise MlgateError(f"{source}: {dotted!r} cannot be set")  # pragma: no cover - no such default


def _check_column(value: Any, source: str, dotted: str) -> None:
    if not isinstance(value, dict) or not set(value) <= _COLUMN_KEYS:
        raise MlgateError(
            f"{source}: {dotted!r} must be a table with rtol and/or atol, e.g. {dotted} = {{rtol = 1e-6}}"
        )
    for key, number in value.items():
        _checked(1.0, number, source, f"{dotted}.{key}")
