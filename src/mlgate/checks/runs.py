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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import stats as sps

from mlgate.report import Finding, Status

POWER = 0.8  # for the smallest detectable change
TRIM_FROM = 8  # pairs from which the trimmed mean is used (fewer leave too few degrees of freedom)
MIN_HISTORY = 5  # A/A comparisons needed before the calibrated rule replaces the t interval
MAX_HISTORY = 30


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
    # A/A history: earlier old-vs-old estimates of this metric with the same design on this machine.
    history: tuple[float, ...] = ()

    @property
    def design_key(self) -> str:
        """What must match for an A/A history to apply: metric and runs per side."""
        return f"{self.kind}|{self.metric}|{len(self.baseline)}x{len(self.candidate)}"


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
        if d.size >= TRIM_FROM:
            estimate, se, df = trimmed_mean_t(d)
            design = f"paired over {d.size} interleaved run pairs, 20% trimmed (Yuen)"
        else:
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
    rule = f"run-clustered t ({design})"
    raw_d = estimate
    calibrated = len(values.history) >= MIN_HISTORY
    if calibrated:
        # Prediction-interval rule: how far an old-vs-old comparison of this design strays here.
        aa = np.asarray(values.history, dtype=float)
        h = aa.size
        estimate -= float(aa.mean())
        se, df = float(aa.std(ddof=1) * math.sqrt(1 + 1 / h)), h - 1
        rule = f"A/A-calibrated prediction interval (H = {h} earlier A/A comparisons)"
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
        "rule": rule,
        "d": raw_d,  # worse-positive log ratio (or difference) before calibration: A/A history keeps it
        "design_key": values.design_key,
        "df": df,
        "se": se,
        "smallest_detectable": _to_change(values.scale, detectable),
        "family_size": family,
    }
    if status == "warn" and se > 0 and not calibrated:
        distance = threshold - estimate if estimate < threshold else estimate
        if distance > 0:
            runs = b.size * (t_plain * se / distance) ** 2
            more = max(1, math.ceil(runs - b.size))
            details["more_runs_to_settle"] = more
            message += (
                f"; about {more} more run(s) per side would settle it"
                if more <= 100
                else "; more than 100 more runs per side: the change sits close to the minimum effect"
            )
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


def trimmed_mean_t(d: np.ndarray, trim: float = 0.2) -> tuple[float, float, int]:
    """Yuen's trimmed mean with its winsorised standard error and degrees of freedom.

    One run hit by a neighbour's burst of work moves a mean and inflates its spread; trimming the
    20% most extreme paired differences at each end keeps such runs from deciding the verdict.
    """
    n = d.size
    g = math.floor(trim * n)
    ordered = np.sort(d)
    kept = ordered[g : n - g]
    winsorised = np.clip(d, ordered[g], ordered[n - g - 1])
    h = kept.size
    se = float(np.std(winsorised, ddof=1) / ((h / n) * math.sqrt(n)))
    return float(kept.mean()), se, h - 2  # one fewer than Yuen: his test runs slightly liberal at small h


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


def judge_all(
    metrics: list[RunValues], alpha: float, history: Mapping[str, Sequence[float]] | None = None
) -> list[Finding]:
    """Judge a family of metrics together, each with its own A/A history when there is one."""
    history = history or {}
    return [
        judge(
            replace(m, history=tuple(history.get(m.design_key, ()))[-MAX_HISTORY:]),
            alpha,
            max(len(metrics), 1),
        )
        for m in metrics
    ]


def apply_canary(findings: list[Finding], canary: list[Finding]) -> list[Finding]:
    """When an A/A canary of the same job trips, its kind of verdict cannot fail: too noisy to judge."""
    tripped = [c for c in canary if c.status == "fail"]
    for c in canary:
        c.name, c.kind = f"canary {c.name}", f"{c.kind} canary"
        if c.status == "fail":
            c.status = "warn"
            c.message = f"A/A canary tripped: {c.message}"
    if not tripped:
        return findings + canary
    kinds = {c.kind.removesuffix(" canary") for c in tripped}
    for f in findings:
        if f.kind in kinds and f.status == "fail":
            f.status = "warn"
            f.message = (
                f"too noisy to judge (the A/A canary of this job changed by up to "
                f"{max(abs(c.change or 0) for c in tripped):.1%}): {f.message}; rerun on a quieter "
                "machine, with more runs, or record A/A history with `mlgate calibrate`"
            )
            f.details["too_noisy"] = True
    return findings + canary
