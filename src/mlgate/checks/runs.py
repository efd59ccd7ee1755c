"""Timing verdicts where the unit of replication is the run (or asv round), never the request.

Each side gives one value per run (a p95 of that run, a mean time of that round). With runs
interleaved A B A B, run k of each side forms a pair and the change is the mean of the paired log
ratios (drift cancels); otherwise Welch's t on the logs. A metric fails only when it is worse with
confidence after correcting for the number of metrics *and* the estimate is at least the minimum
effect θ; it passes when the interval rules out a change of θ; otherwise it is inconclusive, with the
smallest change this design could detect and the runs that would settle it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

from mlgate.report import Finding, Status

POWER = 0.8  # for the smallest detectable change


@dataclass(frozen=True)
class RunValues:
    """One metric measured once per run on each side."""

    name: str
    kind: str  # "latency", "timing", ...
    metric: str
    unit: str
    baseline: list[float]
    candidate: list[float]
    theta: float  # minimum effect: relative (0.05 = 5%) on "log" scale, absolute on "linear"
    higher_is_better: bool = False
    scale: str = "log"  # "log": change is a ratio; "linear": a difference (error rates)
    paired: bool = True


def judge(values: RunValues, alpha: float, family: int) -> Finding:
    """The ternary verdict of one metric from per-run values."""
    b = np.asarray(values.baseline, dtype=float)
    c = np.asarray(values.candidate, dtype=float)
    base_info = _describe(values, b, c)
    if min(b.size, c.size) < 2:
        return Finding(
            values.name,
            values.kind,
            "skip",
            f"{values.metric}: needs at least 2 runs per side (5 or more recommended), got "
            f"{b.size} and {c.size}",
            values.metric,
            details=base_info,
        )
    if values.scale == "log" and (np.any(b <= 0) or np.any(c <= 0)):
        return Finding(
            values.name,
            values.kind,
            "skip",
            f"{values.metric}: a run has no positive value",
            values.metric,
            details=base_info,
        )
    tb, tc = (np.log(b), np.log(c)) if values.scale == "log" else (b, c)
    sign = -1.0 if values.higher_is_better else 1.0  # "worse" is positive
    if values.paired and b.size == c.size:
        d = sign * (tc - tb)
        estimate, se, df = float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size)), d.size - 1
        design = f"paired over {d.size} interleaved run pairs"
    else:
        estimate = sign * float(tc.mean() - tb.mean())
        vb, vc = tb.var(ddof=1) / tb.size, tc.var(ddof=1) / tc.size
        se = float(math.sqrt(vb + vc))
        df = (
            (vb + vc) ** 2 / ((vb**2 / (tb.size - 1)) + (vc**2 / (tc.size - 1)))
            if se > 0
            else tb.size + tc.size - 2
        )
        design = f"Welch over {tb.size} and {tc.size} runs"
    threshold = math.log1p(values.theta) if values.scale == "log" else values.theta
    t_plain = float(sps.t.ppf(1 - alpha / 2, df))
    t_strict = float(sps.t.ppf(1 - alpha / (2 * family), df))
    low, high = estimate - t_plain * se, estimate + t_plain * se
    strict_low = estimate - t_strict * se
    detectable = (t_plain + float(sps.t.ppf(POWER, df))) * se
    status: Status
    if strict_low > 0 and estimate >= threshold:
        status, verdict = "fail", "regression"
    elif high <= threshold:
        status, verdict = "pass", "no regression" if estimate >= 0 or high >= 0 else "improvement"
    else:
        status = "warn"
        verdict = (
            f"worse, but significant only before correcting for {family} metrics"
            if low > 0 and estimate >= threshold
            else "inconclusive"
        )
    show = _shower(values.scale, values.unit)
    words = _direction(values, estimate)
    message = (
        f"{values.metric} {show(abs(estimate))} {words} ({(1 - alpha) * 100:g}% CI {show(low)} to "
        f"{show(high)}; minimum effect {show(threshold)}): {verdict}; "
        f"smallest detectable change {show(detectable)}"
    )
    details = {
        **base_info,
        "design": design,
        "df": df,
        "se": se,
        "smallest_detectable": _to_change(values.scale, detectable),
        "family_size": family,
    }
    if status == "warn" and se > 0:
        distance = threshold - estimate if estimate < threshold else estimate
        if distance > 0:
            runs = b.size * (t_plain * se / distance) ** 2
            more = max(1, math.ceil(runs - b.size))
            details["more_runs_to_settle"] = more
            message += f"; about {more} more run(s) per side would settle it"
    return Finding(
        name=values.name,
        kind=values.kind,
        status=status,
        message=message,
        metric=values.metric,
        baseline=float(np.median(b)),
        candidate=float(np.median(c)),
        change=_to_change(values.scale, sign * estimate),
        ci=_natural_interval(values.scale, sign, low, high),
        threshold=values.theta,
        details=details,
    )


def _natural_interval(scale: str, sign: float, low: float, high: float) -> tuple[float, float]:
    """The interval as candidate-vs-baseline change (+ = candidate higher), whatever is worse."""
    a, b = _to_change(scale, sign * low), _to_change(scale, sign * high)
    return (min(a, b), max(a, b))


def _describe(values: RunValues, b: np.ndarray, c: np.ndarray) -> dict[str, Any]:
    return {
        "unit": values.unit,
        "baseline_runs": b.tolist(),
        "candidate_runs": c.tolist(),
        "higher_is_better": values.higher_is_better,
        "scale": values.scale,
    }


def _to_change(scale: str, value: float) -> float:
    """A log difference as a relative change (0.05 = 5% higher); linear stays a difference."""
    return math.expm1(value) if scale == "log" else value


def _shower(scale: str, unit: str) -> Any:
    def show(value: float) -> str:
        if scale == "log":
            return f"{math.expm1(value) * 100:.1f}%"
        return f"{value * 100:.2f} pt" if unit == "share" else f"{value:.4g} {unit}"

    return show


def _direction(values: RunValues, worse: float) -> str:
    if worse == 0:
        return "unchanged"
    if values.unit in ("ms", "s", "µs", "seconds") and not values.higher_is_better:
        return "slower" if worse > 0 else "faster"
    return "worse" if worse > 0 else "better"
