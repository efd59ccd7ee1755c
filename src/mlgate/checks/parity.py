"""Parity: do both versions give the same outputs, step by step and at the end?

One tolerance rule, stated once: ``|a - b| <= atol * scale + rtol * |b|`` (b is the baseline, scale
the baseline column's mean absolute value), with per-column overrides from the policy. Parity
failing means "outputs changed"; whether that is bad is the quality and shift checks' call, unless
the policy says parity is required.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlgate.policy import Parity
from mlgate.report import Finding, Status
from mlgate.report.model import FIRST_DIFFERENCE, STEPS

WORST = 5


@dataclass
class ColumnDiff:
    """How one column differs between baseline and candidate."""

    column: str
    rows: int
    max_abs: float | None
    max_rel: float | None
    worst_ids: list[Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "rows": self.rows,
            "max_abs": self.max_abs,
            "max_rel": self.max_rel,
            "worst_ids": self.worst_ids,
        }


@dataclass
class FrameDiff:
    """Differences between two frames on the same ids (column order does not matter)."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    dtype_changes: list[str] = field(default_factory=list)
    columns: list[ColumnDiff] = field(default_factory=list)
    exact: bool = True
    reordered: bool = False  # same columns in another order: not a difference, but a model may care

    @property
    def differs(self) -> bool:
        return bool(self.added or self.removed or self.columns)

    def rows(self) -> int:
        return max((c.rows for c in self.columns), default=0)


def tolerance(rules: Parity, column: str) -> tuple[float, float]:
    """(rtol, atol factor) for ``column``: the policy's per-column override, else its default."""
    override = rules.columns.get(column, {})
    return float(override.get("rtol", rules.rtol)), float(override.get("atol", rules.atol))


def compare_frames(base: pd.DataFrame, cand: pd.DataFrame, rules: Parity) -> FrameDiff:
    """Compare two frames indexed by the same ids, column by column, under the tolerance rule."""
    diff = FrameDiff()
    diff.added = [str(c) for c in cand.columns if c not in base.columns]
    diff.removed = [str(c) for c in base.columns if c not in cand.columns]
    diff.exact = not (diff.added or diff.removed)
    for column in [c for c in base.columns if c in cand.columns]:
        a, b = cand[column], base[column]
        if str(a.dtype) != str(b.dtype):
            diff.dtype_changes.append(f"{column}: {b.dtype} -> {a.dtype}")
        numeric = pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b)
        found = _numeric_diff(str(column), b, a, rules) if numeric else _exact_diff(column, b, a)
        if found is None:
            continue
        exact_only, column_diff = found
        diff.exact = diff.exact and exact_only
        if column_diff is not None:
            diff.columns.append(column_diff)
    diff.exact = diff.exact and not diff.dtype_changes
    common = [c for c in base.columns if c in cand.columns]
    diff.reordered = common != [c for c in cand.columns if c in base.columns]
    return diff


def beyond_tolerance(
    b: NDArray[np.float64], a: NDArray[np.float64], column: str, rules: Parity
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """|a - b| per row (0 where equal, both missing or the same infinity; inf for NaN on one side)
    and where it breaks the tolerance rule of ``column``."""
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    rtol, atol = tolerance(rules, column)
    finite_b = b[np.isfinite(b)]
    scale = float(np.mean(np.abs(finite_b))) if finite_b.size else 1.0
    with np.errstate(invalid="ignore"):  # inf - inf; such rows are equal and zeroed next
        absdiff = np.abs(a - b)
    absdiff[same] = 0.0
    absdiff[np.isnan(absdiff)] = np.inf
    return absdiff, absdiff > atol * scale + rtol * np.abs(np.nan_to_num(b))


def _numeric_diff(
    column: str, base: pd.Series, cand: pd.Series, rules: Parity
) -> tuple[bool, ColumnDiff | None] | None:
    b = base.to_numpy(dtype=float, na_value=np.nan)
    absdiff, beyond = beyond_tolerance(b, cand.to_numpy(dtype=float, na_value=np.nan), column, rules)
    if not absdiff.any():
        return None
    if not beyond.any():
        return False, None
    worse, b_beyond = absdiff[beyond], b[beyond]
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(b_beyond != 0, worse / np.abs(b_beyond), np.where(worse > 0, np.inf, 0.0))
    ids = base.index.to_numpy()[beyond][_largest(worse, WORST)]
    return False, ColumnDiff(
        column,
        int(beyond.sum()),
        _finite_or_none(float(np.max(worse))),
        _finite_or_none(float(np.max(rel))),
        [_plain(i) for i in ids],
    )


def _largest(values: NDArray[np.float64], k: int) -> NDArray[np.intp]:
    """Positions of the ``k`` largest values, largest first, ties in order of position.

    The same as a stable descending sort cut at ``k``, without sorting a million rows for five.
    """
    if values.size > k:
        threshold = np.partition(values, values.size - k)[values.size - k]
        candidates = np.flatnonzero(values >= threshold)
    else:
        candidates = np.arange(values.size)
    return candidates[np.argsort(-values[candidates], kind="stable")][:k]


def _exact_diff(column: Any, base: pd.Series, cand: pd.Series) -> tuple[bool, ColumnDiff | None] | None:
    b, a = base.astype(object), cand.astype(object)
    same = (a == b) | (a.isna() & b.isna())
    if bool(same.all()):
        return None
    differing = base.index.to_numpy()[~same.to_numpy()]
    return False, ColumnDiff(
        str(column), int((~same).sum()), None, None, [_plain(i) for i in differing[:WORST]]
    )


def _finite_or_none(value: float) -> float | None:
    return value if np.isfinite(value) else None


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def step_parity(
    base_steps: list[tuple[str, pd.DataFrame]],
    cand_steps: list[tuple[str, pd.DataFrame]],
    rules: Parity,
) -> Finding:
    """Compare the output after every step; name the first step where the versions part."""
    names_b = [n for n, _ in base_steps]
    names_c = [n for n, _ in cand_steps]
    matcher = difflib.SequenceMatcher(a=names_b, b=names_c, autojunk=False)
    rows: list[dict[str, Any]] = []
    first: dict[str, Any] | None = None
    last_b: pd.DataFrame | None = None
    last_c: pd.DataFrame | None = None
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        pairs: list[tuple[str, str, int | None, int | None]] = []
        if tag == "equal":
            pairs = [
                (names_b[i], "same step", i, j) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
        else:
            pairs = [(names_b[i], "removed step", i, None) for i in range(i1, i2)]
            pairs += [(names_c[j], "added step", None, j) for j in range(j1, j2)]
        for name, change, i, j in pairs:
            if i is not None:
                last_b = base_steps[i][1]
            if j is not None:
                last_c = cand_steps[j][1]
            row = _step_row(len(rows) + 1, name, change, last_b, last_c, rules)
            if row["status"] != "same" and first is None:
                first = row
            elif first is not None and row["status"] != "same":
                row["status"] = "downstream"
            rows.append(row)
    return _step_finding(rows, first, rules)


def _step_row(
    position: int,
    name: str,
    change: str,
    base: pd.DataFrame | None,
    cand: pd.DataFrame | None,
    rules: Parity,
) -> dict[str, Any]:
    row: dict[str, Any] = {"position": position, "step": name, "change": change}
    if base is None or cand is None:
        row.update(status="differs", columns=[], added=[], removed=[], dtype_changes=[], rows=0)
        return row
    diff = compare_frames(base, cand, rules)
    row.update(
        status="differs" if diff.differs else "same",
        columns=[c.to_dict() for c in diff.columns],
        added=diff.added,
        removed=diff.removed,
        dtype_changes=diff.dtype_changes,
        rows=diff.rows(),
    )
    notes = (["within tolerance"] if not diff.differs and not diff.exact else []) + (
        ["column order differs"] if diff.reordered else []
    )
    if notes:
        row["note"] = ", ".join(notes)
    return row


def _step_finding(rows: list[dict[str, Any]], first: dict[str, Any] | None, rules: Parity) -> Finding:
    details: dict[str, Any] = {STEPS: rows}
    if first is None:
        reordered = [r["step"] for r in rows if "column order" in r.get("note", "")]
        note = f" (column order differs from step {reordered[0]!r} on)" if reordered else ""
        return Finding(
            name="feature parity",
            kind="parity",
            status="pass",
            message=f"every step gives the same output{note}",
            metric="steps",
            details=details,
        )
    status: Status = "fail" if rules.required else "warn"
    what = []
    if first["added"]:
        what.append(f"adds column(s) {', '.join(first['added'][:5])}")
    if first["removed"]:
        what.append(f"removes column(s) {', '.join(first['removed'][:5])}")
    if first["columns"]:
        worst = first["columns"][0]
        cols = ", ".join(c["column"] for c in first["columns"][:5])
        what.append(
            f"changes {cols} in {first['rows']} row(s) (e.g. id(s) {', '.join(map(str, worst['worst_ids']))})"
        )
    if first["change"] != "same step":
        what.insert(0, first["change"])
    details[FIRST_DIFFERENCE] = first["step"]
    message = (
        f"outputs change first at step {first['position']} {first['step']!r}: {'; '.join(what) or 'differs'}"
    )
    return Finding(
        name="feature parity", kind="parity", status=status, message=message, metric="steps", details=details
    )


def prediction_parity(base: pd.DataFrame, cand: pd.DataFrame, task: str, rules: Parity) -> list[Finding]:
    """Exact, then tolerance, then (classifiers) decision parity of the final outputs."""
    required = rules.required
    changed: Status = "fail" if required else "warn"
    findings = []
    diff = compare_frames(
        base[["prediction"]] if task == "regression" else _scores(base),
        cand[["prediction"]] if task == "regression" else _scores(cand),
        rules,
    )
    n = len(base)
    if task == "classification":
        flips = base["prediction"].astype(object).to_numpy() != cand["prediction"].astype(object).to_numpy()
        rate = float(np.mean(flips))
        ok = rate <= rules.max_flip_rate
        ids = [_plain(i) for i in base.index.to_numpy()[flips][:WORST]]
        findings.append(
            Finding(
                name="decision parity",
                kind="parity",
                status="pass" if ok else changed,
                message="no predicted label changed"
                if not flips.any()
                else f"{int(flips.sum())} of {n} labels changed ({rate:.2%}); e.g. id(s) "
                + ", ".join(map(str, ids)),
                metric="flip_rate",
                baseline=0.0,
                candidate=rate,
                change=rate,
                threshold=rules.max_flip_rate,
                details={"flipped": int(flips.sum()), "ids": ids},
            )
        )
    findings.insert(0, _value_parity_finding(diff, n, changed))
    return findings


def _scores(frame: pd.DataFrame) -> pd.DataFrame:
    scores = [c for c in frame.columns if str(c).startswith("proba_")]
    return frame[scores] if scores else frame[["prediction"]]


def _value_parity_finding(diff: FrameDiff, n: int, changed: Status) -> Finding:
    details = {"columns": [c.to_dict() for c in diff.columns], "rows": n}
    if not diff.differs:
        how = "are bit-identical" if diff.exact else "agree within tolerance (not bit-identical)"
        return Finding(
            name="prediction parity",
            kind="parity",
            status="pass",
            message=f"all {n} predictions {how}",
            metric="rows beyond tolerance",
            baseline=0,
            candidate=0,
            change=0,
            details=details,
        )
    worst = max(diff.columns, key=lambda c: c.rows)
    share = worst.rows / n
    rel = f", max relative difference {worst.max_rel:.3g}" if worst.max_rel is not None else ""
    message = (
        f"outputs changed: {worst.rows} of {n} rows ({share:.1%}) beyond tolerance{rel}; "
        f"worst id(s) {', '.join(map(str, worst.worst_ids))}"
    )
    return Finding(
        name="prediction parity",
        kind="parity",
        status=changed,
        message=message,
        metric="rows beyond tolerance",
        baseline=0,
        candidate=worst.rows,
        change=share,
        details=details,
    )
