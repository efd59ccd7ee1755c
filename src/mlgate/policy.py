"""Thresholds and tolerances: defaults, then ``[tool.mlgate.policy]``, then ``--policy FILE``.

Every key is validated when read: an unknown key, a value of the wrong kind or outside its range
(``RANGES``) is an error naming the key.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.infra.atomic import check_path
from mlgate.infra.errors import MlgateError

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
    "timing": {
        "time": 0.05,
        "training": 0.025,
        "memory": 0.05,
        "size": 0.10,
        "track": 0.01,
        "instructions": 0.01,
    },
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
INF = math.inf


@dataclass(frozen=True)
class Range:
    """Allowed values of a number: ``low`` (included unless ``open_low``) to ``high``, and why."""

    low: float
    high: float = INF
    open_low: bool = False
    why: str = ""

    def holds(self, value: float) -> bool:
        above = value > self.low if self.open_low else value >= self.low
        return math.isfinite(value) and above and value <= self.high

    def describe(self, noun: str) -> str:
        if self.high == INF:
            return f"{noun} {'>' if self.open_low else '>='} {self.low:g}"
        if self.open_low:
            return f"{noun} above {self.low:g} and at most {self.high:g}"
        return f"{noun} from {self.low:g} to {self.high:g}"


# Every number is checked against its range when the policy is read, so a bad value names its key
# before any work starts. Keys not listed (margins, tolerances, minimum effects) are finite and >= 0.
RANGES: dict[str, Range] = {
    "alpha": Range(0, 0.5, open_low=True, why="a false-alarm rate; 0 could never decide"),
    "min_join": Range(0, 1, open_low=True, why="a share of rows"),
    "parity.max_flip_rate": Range(0, 1, why="a share of rows"),
    # Below 100 draws the tails of a 99% interval are single resamples and its width is noise; at
    # 100,000 one bootstrap of 100,000 rows already takes 6 s here (2000 take 0.05 s on 1,459 rows),
    # times every metric, for no visible gain.
    "quality.resamples": Range(100, 100_000, why="bootstrap draws"),
    # One bin cannot show a shift; PSI's usual thresholds assume tens of rows per bin, not thousands
    # of bins.
    "shift.bins": Range(2, 1000, why="PSI bins"),
    "shift.ks_warn": Range(0, 1, why="the KS statistic lies in [0, 1]"),
    "shift.min_segment_rows": Range(1, why="rows"),
    "latency.error_rate": Range(0, 1, why="a share of requests"),
}
ANY_NUMBER = Range(0)


@dataclass(frozen=True)
class Parity:
    """When two outputs count as the same: tolerances, per-column overrides, decision flips."""

    required: bool  # differences fail (True) or only warn (False)
    rtol: float
    atol: float  # times the baseline's scale (mean |value|) of each column
    max_flip_rate: float
    columns: Mapping[str, Mapping[str, float]]  # column -> {rtol, atol}


@dataclass(frozen=True)
class Quality:
    """Bootstrap draws and seed, and each metric's margin (``RELATIVE_MARGINS`` are fractions)."""

    resamples: int
    seed: int
    margins: Mapping[str, float]


@dataclass(frozen=True)
class Latency:
    """Minimum effects of the load metrics: relative, except ``error_rate`` (a share)."""

    p50: float
    p95: float
    p99: float
    throughput: float
    error_rate: float


@dataclass(frozen=True)
class Timing:
    """Minimum effects of the asv measurements (relative; ``track`` in points of a share)."""

    time: float
    training: float
    memory: float
    size: float
    track: float
    instructions: float  # callgrind counts: 5x the A/A spread measured here (docs/verdict-quality.md)


@dataclass(frozen=True)
class Shift:
    """PSI bins and thresholds, the KS warning level and the optional segment column."""

    bins: int
    psi_warn: float
    psi_fail: float
    ks_warn: float
    segment: str
    min_segment_rows: int


@dataclass(frozen=True)
class Policy:
    """The effective policy, read once by the command and handed down to every check."""

    alpha: float
    min_join: float
    parity: Parity
    quality: Quality
    latency: Latency
    timing: Timing
    shift: Shift

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Policy:
        """A policy from a table shaped like ``DEFAULTS`` (already validated)."""
        sections = {
            "parity": Parity,
            "quality": Quality,
            "latency": Latency,
            "timing": Timing,
            "shift": Shift,
        }
        return cls(
            alpha=float(values["alpha"]),
            min_join=float(values["min_join"]),
            **{name: kind(**copy.deepcopy(values[name])) for name, kind in sections.items()},
        )

    def to_dict(self) -> dict[str, Any]:
        """The policy as the report records it (the same shape as ``DEFAULTS``)."""
        return dataclasses.asdict(self)


def read_policy(policy_file: Path | None = None, project_dir: Path | None = None) -> Policy:
    """The effective policy: defaults overridden by pyproject, then by ``policy_file``."""
    policy = copy.deepcopy(DEFAULTS)
    pyproject = (project_dir or Path.cwd()) / "pyproject.toml"
    if pyproject.is_file():
        tool = _read_toml(pyproject, "pyproject.toml").get("tool", {})
        table = tool.get("mlgate", {}) if isinstance(tool, dict) else {}
        if isinstance(table, dict) and "policy" in table:
            source = f"{pyproject} [tool.mlgate.policy]"
            if not isinstance(table["policy"], dict):
                raise MlgateError(f"{source}: must be a table; write [tool.mlgate.policy]")
            _merge(policy, table["policy"], source, "")
            _check_order(policy, source)
    if policy_file is not None:
        if check_path(policy_file, "--policy").is_dir():
            raise MlgateError(f"--policy: {policy_file} is a folder; give a TOML file")
        if not policy_file.is_file():
            raise MlgateError(f"--policy: file {policy_file} does not exist; check the path")
        source = f"--policy {policy_file}"
        _merge(policy, _read_toml(policy_file, "--policy"), source, "")
        _check_order(policy, source)
    return Policy.from_dict(policy)


def _check_order(policy: dict[str, Any], source: str) -> None:
    shift = policy["shift"]
    if shift["psi_warn"] > shift["psi_fail"]:
        raise MlgateError(
            f"{source}: 'shift.psi_warn' ({shift['psi_warn']:g}) is above 'shift.psi_fail' "
            f"({shift['psi_fail']:g}); set psi_warn <= psi_fail"
        )


def _read_toml(path: Path, flag: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
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
    allowed = RANGES.get(dotted, ANY_NUMBER)
    why = f" ({allowed.why})" if allowed.why else ""
    if isinstance(default, int) and not isinstance(default, bool):
        if not isinstance(value, int) or isinstance(value, bool) or not allowed.holds(value):
            raise MlgateError(
                f"{source}: {dotted!r} must be {allowed.describe('a whole number')}{why}, got {value!r}"
            )
        return value
    if isinstance(default, float):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not allowed.holds(value):
            raise MlgateError(
                f"{source}: {dotted!r} must be {allowed.describe('a finite number')}{why}, got {value!r}"
            )
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


DEFAULT = Policy.from_dict(DEFAULTS)  # the defaults, for callers without a policy file
