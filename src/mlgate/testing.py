"""Assertions for a model repository's own tests: each fails with the report's own words.

Used with the pytest plugin's fixtures (``mlgate_compare``, ``mlgate_baseline``, ...; see
mlgate/pytest_plugin.py) or on their own: every helper takes a ``Report`` from ``mlgate.compare.run``
or artifact folders. What each judged is recorded for the plugin's terminal summary and JUnit
properties (``gates``), so a CI log lists every gate and its verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.report.model import HIGHER_IS_BETTER, RELATIVE, Finding, Report

if TYPE_CHECKING:
    import pandas as pd

    from mlgate.model.spec import ModelSpec

__all__ = [
    "assert_feature_steps_equal",
    "assert_no_regression",
    "assert_quality_not_worse",
    "assert_same_predictions",
]
SHOWN = 8  # findings listed in a failure message; the report has the rest


@dataclass(frozen=True)
class Gate:
    """One assertion's outcome, as the terminal summary and JUnit properties show it."""

    name: str
    verdict: str  # "pass", "fail" or "inconclusive"
    detail: str


gates: list[Gate] = []  # what the assertions of the running test judged; the plugin empties it


def assert_no_regression(report: Report, *, strict: bool = False) -> None:
    """Fail when the report finds a regression, naming each failing check with its interval.

    ``strict`` also fails inconclusive checks: the evidence did not rule out the minimum effect."""
    __tracebackhide__ = True  # pytest shows the test's line and this message, not the helper's code
    failing = [f for f in report.checks if f.status == "fail" or (strict and _open(f))]
    verdict = "fail" if failing else ("inconclusive" if any(_open(f) for f in report.checks) else "pass")
    _record("no regression", verdict, _headline(report))
    if failing:
        raise AssertionError(_listing(report, failing, strict))


def assert_quality_not_worse(
    report: Report, metric: str = "rmse", margin: float | None = None, *, strict: bool = False
) -> None:
    """Fail when ``metric`` got worse beyond ``margin`` with confidence (the report's own interval).

    ``margin`` is a fraction of the baseline for relative metrics (RMSE, MAE: 0.01 is 1%) and in
    the metric's units otherwise (R², accuracy); None keeps the policy's. ``strict`` also fails when
    the interval does not rule out the margin (inconclusive). A new margin is judged on the report's
    interval for this one metric, without the report's correction for the number of metrics."""
    __tracebackhide__ = True
    finding = _quality(report, metric)
    if margin is not None:
        finding = _rejudged(finding, margin, float(report.meta.get("policy", {}).get("alpha", 0.01)))
    verdict = {"fail": "fail", "pass": "pass"}.get(finding.status, "inconclusive")
    _record(f"quality {metric} not worse", verdict, finding.message)
    if finding.status == "fail" or (strict and finding.status != "pass"):
        what = "worse beyond the margin" if finding.status == "fail" else "not shown to be within the margin"
        raise AssertionError(
            f"mlgate: {report.candidate} vs {report.baseline}: quality {metric} {what}\n  {finding.message}"
        )


def assert_same_predictions(
    a: Any,
    b: Any,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    data: pd.DataFrame | Path | str | None = None,
    spec: ModelSpec | str | None = None,
) -> None:
    """Fail when two versions predict differently beyond ``|a - b| <= atol * scale + rtol * |b|``.

    ``a`` and ``b`` are artifact folders (predicted here on ``data``, default the spec's holdout),
    prediction files, or predictions themselves (a frame, series or array, in the same row order).
    Tolerances default to the policy's parity tolerances; classifiers also compare labels."""
    __tracebackhide__ = True
    from mlgate.checks.parity import prediction_parity

    try:
        base, cand, task = _outputs(a, b, data, spec)
    except AssertionError as exc:  # not the same rows: a failed gate too
        _record("same predictions", "fail", str(exc).removeprefix("mlgate: "))
        raise
    findings = prediction_parity(base, cand, task, _parity(rtol, atol))
    differing = [f for f in findings if f.status != "pass"]
    _record("same predictions", "fail" if differing else "pass", "; ".join(f.message for f in findings))
    if differing:
        raise AssertionError(
            "mlgate: predictions differ\n" + "\n".join(f"  {f.name}: {f.message}" for f in differing)
        )


def assert_feature_steps_equal(
    a: Path | str,
    b: Path | str,
    data: pd.DataFrame | Path | str | None = None,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    spec: ModelSpec | str | None = None,
) -> None:
    """Fail when any pipeline step's output differs between two artifacts on the same raw rows,
    naming the first differing step, its columns and rows, as ``mlgate compare`` does."""
    __tracebackhide__ = True
    from mlgate.checks.parity import step_parity

    sides = _sides(Path(a), Path(b), data, spec)
    assert sides[0].steps is not None and sides[1].steps is not None  # artifacts always have steps
    finding = step_parity(sides[0].steps, sides[1].steps, _parity(rtol, atol))
    differs = finding.details.get("first_difference") is not None
    _record("feature steps equal", "fail" if differs else "pass", finding.message)
    if differs:
        rows = [r for r in finding.details["steps"] if r["status"] != "same"]
        listed = "\n".join(
            f"  step {r['position']} {r['step']!r}: {r['status']}"
            + (f", {r['rows']} row(s)" if r["rows"] else "")
            + (f", columns {', '.join(c['column'] for c in r['columns'][:5])}" if r["columns"] else "")
            for r in rows[:SHOWN]
        )
        raise AssertionError(f"mlgate: feature parity: {finding.message}\n{listed}")


def _open(finding: Finding) -> bool:
    return finding.status == "warn" and not finding.kind.endswith("canary")


def _headline(report: Report) -> str:
    from mlgate.report.text import headline

    return headline(report)


def _listing(report: Report, failing: list[Finding], strict: bool) -> str:
    what = "REGRESSION" if any(f.status == "fail" for f in failing) else "inconclusive (strict)"
    lines = [f"mlgate: {report.candidate} vs {report.baseline}: {what}"]
    lines += [f"  {f.name}: {f.message}" for f in failing[:SHOWN]]
    if len(failing) > SHOWN:
        lines.append(f"  ... and {len(failing) - SHOWN} more; the report lists every check")
    where = report.meta.get("report_folder")
    if where:
        lines.append(f"  report: {where}/report.html")
    return "\n".join(lines)


def _quality(report: Report, metric: str) -> Finding:
    found = [f for f in report.checks if f.kind == "quality" and f.metric == metric]
    if not found:
        known = sorted({f.metric for f in report.checks if f.kind == "quality" and f.metric})
        raise AssertionError(
            f"mlgate: the report has no quality metric {metric!r}; it has {', '.join(known) or 'none'} "
            "(labels are needed: compare artifacts, or give data with the target)"
        )
    return found[0]


def _rejudged(finding: Finding, margin: float, alpha: float) -> Finding:
    """The finding judged at another margin on its own interval, by the quality check's own rule."""
    from mlgate.checks.quality import at_margin, margin_message

    if finding.change is None or finding.ci is None:
        return finding  # skipped or unjudgeable: nothing to rejudge
    higher = bool(finding.details.get(HIGHER_IS_BETTER))
    status, verdict = at_margin(higher, finding.change, finding.ci, None, margin)
    message = margin_message(
        finding.metric,
        (finding.baseline or 0, finding.candidate or 0),
        finding.change,
        finding.ci,
        higher_is_better=higher,
        relative=bool(finding.details.get(RELATIVE)),
        alpha=alpha,
        margin=margin,
        verdict=verdict,
    )
    return replace(finding, status=status, message=message, threshold=margin)


def _parity(rtol: float | None, atol: float | None) -> Any:
    """The policy's parity rules with the tolerances asked for, differences required to fail."""
    from mlgate.policy import read_policy

    rules = replace(read_policy().parity, required=True)
    if rtol is None and atol is None:
        return rules  # the policy's own tolerances, per-column overrides included
    # Tolerances asked for here apply to every column: the policy's per-column overrides would not.
    return replace(
        rules,
        rtol=rules.rtol if rtol is None else rtol,
        atol=rules.atol if atol is None else atol,
        columns={},
    )


def _outputs(a: Any, b: Any, data: Any, spec: Any) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Both sides' outputs on the same rows, and the task."""
    from mlgate.evidence.outputs import looks_like_classification

    if isinstance(a, str | Path) and isinstance(b, str | Path):
        from mlgate.evidence.predictions import task_of

        base, cand = _sides(Path(a), Path(b), data, spec)
        only_a = base.outputs.index.difference(cand.outputs.index)
        only_b = cand.outputs.index.difference(base.outputs.index)
        if len(only_a) or len(only_b):
            raise AssertionError(
                f"mlgate: the ids differ: {len(only_a)} only in a (first {list(only_a[:3])}), "
                f"{len(only_b)} only in b (first {list(only_b[:3])}); predict both on the same rows"
            )
        task = task_of(base, cand, _spec(spec, Path(a)))
        return base.outputs, cand.outputs.loc[base.outputs.index], task
    frames = [_frame(x, name) for x, name in ((a, "a"), (b, "b"))]
    if len(frames[0]) != len(frames[1]):
        raise AssertionError(
            f"mlgate: a has {len(frames[0])} predictions and b {len(frames[1])}; give the same rows"
        )
    frames[1] = frames[1].set_axis(frames[0].index)  # a copy: the caller's frame keeps its index
    task = "classification" if any(looks_like_classification(f) for f in frames) else "regression"
    return frames[0], frames[1], task


def _frame(values: Any, name: str) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    if isinstance(values, pd.DataFrame):
        if "prediction" not in values.columns:
            if values.shape[1] != 1:
                raise AssertionError(f"mlgate: {name} has no 'prediction' column; name it so")
            return values.set_axis(["prediction"], axis=1)
        return values
    if isinstance(values, pd.Series):
        return values.to_frame("prediction")
    array = np.asarray(values)
    if array.ndim != 1:
        raise AssertionError(f"mlgate: {name} has shape {array.shape}; give one prediction per row")
    return pd.DataFrame({"prediction": array})


def _sides(a: Path, b: Path, data: Any, spec: Any) -> tuple[Any, Any]:
    """Both artifacts (or prediction files) read as ``mlgate compare`` reads them."""
    import pandas as pd

    from mlgate.evidence.predictions import read_side
    from mlgate.model.tables import read_table

    resolved = _spec(spec, a)
    if data is None:
        rows, source = resolved.holdout_rows(), f"the holdout of {resolved.name}"
    elif isinstance(data, pd.DataFrame):
        rows, source = data, "the data given"
    else:
        rows, source = read_table(Path(data), "data"), str(data)
    return (
        read_side(a, "a", resolved, rows, source),
        read_side(b, "b", resolved, rows, source),
    )


def _spec(spec: Any, artifact: Path) -> ModelSpec:
    from mlgate.model.spec import ModelSpec, spec_for_artifact

    return spec if isinstance(spec, ModelSpec) else spec_for_artifact(spec, artifact)


def _record(name: str, verdict: str, detail: str) -> None:
    gates.append(Gate(name, verdict, detail))
