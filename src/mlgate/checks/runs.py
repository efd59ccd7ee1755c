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

from mlgate import stats
from mlgate.report import Finding, Status
from mlgate.report.model import (
    AA_D,
    DESIGN_KEY,
    HIGHER_IS_BETTER,
    MORE_OF,
    MORE_RUNS,
    RUNS_BASELINE,
    RUNS_CANDIDATE,
    SCALE,
    TOO_NOISY,
    UNIT,
)
from mlgate.report.numbers import percent, sig
from mlgate.report.summary import TOO_WIDE  # wider than this factor: "too few runs to estimate"

POWER = 0.8  # for the smallest detectable change
TRIM_FROM = 8  # pairs from which the trimmed mean is used (fewer leave too few degrees of freedom)
MIN_HISTORY = 5  # A/A comparisons needed before the calibrated rule replaces the t interval
MAX_HISTORY = 30
LOG_CAP = 700.0  # exp(700) ~ 1e304, below float64's largest
MAX_MORE_RUNS = 100  # beyond this many more runs, a message says so instead of a number


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
    run_noun: str = "run"  # what one more run is to the user: a pytest-benchmark "save"
    # True when the values are blocks of one process's rounds, not runs: more of them would settle
    # nothing, and their A/A history is not that of runs.
    blocks: bool = False

    @property
    def design_key(self) -> str:
        """What must match for an A/A history to apply: metric and runs (or blocks) per side."""
        design = f"{len(self.baseline)}x{len(self.candidate)}" + (" blocks" if self.blocks else "")
        return f"{self.kind}|{self.metric}|{design}"


def judge(values: RunValues, alpha: float, family: int) -> Finding:
    """The ternary verdict of one metric from per-run values."""
    b = np.asarray(values.baseline, dtype=float)
    c = np.asarray(values.candidate, dtype=float)
    base_info = _describe(values, b, c)
    if min(b.size, c.size) < 2:
        return Finding(
            name=values.name,
            kind=values.kind,
            status="skip",
            message=f"{values.metric}: needs at least 2 runs per side (5 or more recommended), got "
            f"{b.size} and {c.size}",
            metric=values.metric,
            details=base_info,
        )
    if values.scale == "log" and (np.any(b <= 0) or np.any(c <= 0)):
        return Finding(
            name=values.name,
            kind=values.kind,
            status="skip",
            message=f"{values.metric}: a run has no positive value",
            metric=values.metric,
            details=base_info,
        )
    tb, tc = (np.log(b), np.log(c)) if values.scale == "log" else (b, c)
    sign = -1.0 if values.higher_is_better else 1.0  # "worse" is positive
    df: float
    if values.paired and b.size == c.size:
        d = sign * (tc - tb)
        if d.size >= TRIM_FROM:
            estimate, se, df = stats.trimmed_mean_t(d)
            design = f"paired over {d.size} run pairs, 20% trimmed (Yuen)"
        else:
            estimate, se, df = stats.mean_t(d)
            design = f"paired over {d.size} run pairs"
    else:
        estimate, se, df = stats.welch(tb, tc)
        estimate *= sign
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
    t_plain = float(stats.t_quantile(1 - alpha / 2, df))
    t_strict = float(stats.t_quantile(1 - alpha / (2 * family), df))
    low, high = estimate - t_plain * se, estimate + t_plain * se
    strict_low = estimate - t_strict * se
    detectable = (t_plain + float(stats.t_quantile(POWER, df))) * se
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
    # An interval wider than a factor of ten says nothing about the size of the change.
    too_wide = values.scale == "log" and high - low > math.log(TOO_WIDE)
    if too_wide:
        message = (
            f"{values.metric}: too few runs to estimate ({confidence(alpha)} CI spans more than a "
            f"factor of {TOO_WIDE:g}; minimum effect {show(threshold)}): {verdict}"
        )
    else:
        message = (
            f"{values.metric} {show(abs(estimate))} {words} ({confidence(alpha)} CI {show(low)} to "
            f"{show(high)}; minimum effect {show(threshold)}): {verdict}; "
            f"smallest detectable change {show(detectable)}"
        )
    details = {
        **base_info,
        "design": design,
        "rule": rule,
        AA_D: raw_d,  # worse-positive log ratio (or difference) before calibration: A/A history keeps it
        DESIGN_KEY: values.design_key,
        "df": df,
        "se": se,
        "smallest_detectable": _to_change(values.scale, detectable),
        "family_size": family,
    }
    if status == "warn" and se > 0 and not calibrated and not values.blocks:
        # Runs that would bring the interval's edge to the minimum effect (or past zero when the
        # change is beyond it); a change within a factor of two of the minimum effect is "close".
        distance = threshold - estimate if estimate < threshold else estimate
        if distance > 0:
            runs = b.size * (t_plain * se / distance) ** 2
            more = max(1, math.ceil(runs - b.size))
            details[MORE_RUNS] = more
            if values.run_noun != "run":
                details[MORE_OF] = values.run_noun
            close = 0 < estimate < 2 * threshold
            if more <= MAX_MORE_RUNS:
                message += f"; about {more} more {values.run_noun}(s) per side would settle it"
            elif close:
                message += (
                    f"; more than {MAX_MORE_RUNS} more {values.run_noun}s per side: "
                    "the change sits close to the minimum effect"
                )
            else:
                message += f"; more than {MAX_MORE_RUNS} more {values.run_noun}s per side would settle it"
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


def confidence(alpha: float) -> str:
    """The interval's level with as many decimals as it takes not to read 100%: 99%, 99.97%, 99.99997%."""
    decimals = max(0, math.ceil(-math.log10(alpha * 100))) if 0 < alpha < 0.01 else 0
    return f"{(1 - alpha) * 100:.{decimals}f}%"


def _natural_interval(scale: str, sign: float, low: float, high: float) -> tuple[float, float]:
    """The interval as candidate-vs-baseline change (+ = candidate higher), whatever is worse."""
    a, b = _to_change(scale, sign * low), _to_change(scale, sign * high)
    return (min(a, b), max(a, b))


def _describe(values: RunValues, b: np.ndarray, c: np.ndarray) -> dict[str, Any]:
    return {
        UNIT: values.unit,
        RUNS_BASELINE: b.tolist(),
        RUNS_CANDIDATE: c.tolist(),
        HIGHER_IS_BETTER: values.higher_is_better,
        SCALE: values.scale,
    }


def _to_change(scale: str, value: float) -> float:
    """A log difference as a relative change (0.05 = 5% higher); linear stays a difference."""
    # A very small alpha on two runs (a first confirming look) gives a log interval in the thousands:
    # capped so the change stays a (huge) finite number rather than an overflow.
    return math.expm1(min(value, LOG_CAP)) if scale == "log" else value


def _shower(scale: str, unit: str) -> Any:
    def show(value: float) -> str:
        if scale == "log":
            return percent(_to_change(scale, value))
        return f"{sig(value * 100)} pt" if unit == "share" else f"{sig(value)} {unit}"

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


def demote_across_machines(findings: list[Finding]) -> None:
    """Timings from two machines are not comparable: a would-be regression becomes a warning."""
    for finding in findings:
        if finding.status == "fail":
            finding.status, finding.message = "warn", finding.message + " (different machines)"


def apply_canary(findings: list[Finding], canary: list[Finding]) -> list[Finding]:
    """The findings, then the A/A canary's (renamed "canary ..."). When the canary trips (an A/A
    change judged a regression), its kind of verdict cannot fail: too noisy to judge. New findings
    are returned; the inputs are left as they were."""
    tripped = [c for c in canary if c.status == "fail"]
    renamed = [
        replace(
            c,
            name=f"canary {c.name}",
            kind=f"{c.kind} canary",
            status="warn" if c.status == "fail" else c.status,
            message=f"A/A canary tripped: {c.message}" if c.status == "fail" else c.message,
        )
        for c in canary
    ]
    kinds = {c.kind for c in tripped}
    spread = max((abs(c.change or 0) for c in tripped), default=0.0)
    judged = [
        replace(
            f,
            status="warn",
            message=f"too noisy to judge (the A/A canary of this job changed by up to {spread:.1%}): "
            f"{f.message}; rerun on a quieter machine, with more runs, or record A/A history with "
            "`mlgate calibrate`",
            details={**f.details, TOO_NOISY: True},
        )
        if f.kind in kinds and f.status == "fail"
        else f
        for f in findings
    ]
    return judged + renamed
