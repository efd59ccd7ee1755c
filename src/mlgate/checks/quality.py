"""Quality, paired: is the candidate no worse than the baseline on the same holdout rows?

Each metric declares its direction and its margin. A metric fails only when it is worse with
confidence (after correcting for the number of metrics) and its estimate is beyond the margin; it
passes when the interval shows it is no worse than the margin; otherwise the data cannot tell (warn,
with the rows that would settle it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlgate import stats
from mlgate.report import Finding, Status

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Estimate:
    """A paired comparison of one metric: both values and an interval-producing function."""

    metric: str
    higher_is_better: bool
    baseline: float
    candidate: float
    interval: Callable[[float], stats.Interval]  # confidence -> interval of the change
    relative: bool  # change is candidate/baseline - 1 (else candidate - baseline)
    test: str


def regression_estimates(truth: Array, base: Array, cand: Array, resamples: int, seed: int) -> list[Estimate]:
    """RMSE and MAE (relative change) and R² (difference), by paired bootstrap over rows.

    Per-row losses are reduced to bootstrap block sums as soon as they exist, so a million rows
    never hold more than two loss columns at once.
    """

    def ratio(root: bool) -> Callable[[Array, Array], Array]:
        def statistic(sums: Array, _: Array) -> Array:
            value = sums[1] / sums[0]
            return np.asarray((np.sqrt(value) if root else value) - 1.0)

        return statistic

    def r2_difference(sums: Array, counts: Array) -> Array:
        total = sums[3] - sums[2] ** 2 / counts
        return np.asarray((sums[0] - sums[1]) / total)

    sst = float(np.sum((truth - truth.mean()) ** 2))
    se_b, se_c = (truth - base) ** 2, (truth - cand) ** 2
    mse_b, mse_c = float(se_b.mean()), float(se_c.mean())
    rmse = stats.Bootstrap([se_b, se_c], ratio(True), resamples, seed, relative=True)
    r2 = stats.Bootstrap([se_b, se_c, truth, truth**2], r2_difference, resamples, seed)
    del se_b, se_c
    ae_b, ae_c = np.abs(truth - base), np.abs(truth - cand)
    mae = stats.Bootstrap([ae_b, ae_c], ratio(False), resamples, seed, relative=True)
    return [
        Estimate("rmse", False, mse_b**0.5, mse_c**0.5, rmse.interval, True, "paired bootstrap"),
        Estimate(
            "mae", False, float(ae_b.mean()), float(ae_c.mean()), mae.interval, True, "paired bootstrap"
        ),
        Estimate(
            "r2",
            True,
            1 - mse_b * truth.size / sst,
            1 - mse_c * truth.size / sst,
            r2.interval,
            False,
            "paired bootstrap",
        ),
    ]


def classification_estimates(
    truth: NDArray[Any],
    label_b: NDArray[Any],
    label_c: NDArray[Any],
    score_b: Array | None,
    score_c: Array | None,
    resamples: int,
    seed: int,
) -> list[Estimate]:
    """Accuracy (McNemar exact), ROC AUC (DeLong) and log-loss (paired bootstrap) when binary."""
    right_b, right_c = label_b == truth, label_c == truth
    mcnemar = stats.mcnemar_exact(right_b, right_c)
    estimates = [
        Estimate(
            "accuracy",
            True,
            float(right_b.mean()),
            float(right_c.mean()),
            lambda conf: stats.paired_proportion_difference(right_b, right_c, conf),
            False,
            f"McNemar exact (p = {mcnemar[2]:.3g}; {mcnemar[0]} vs {mcnemar[1]} discordant)",
        ),
    ]
    classes = np.unique(truth)
    if score_b is None or score_c is None or classes.size != 2:
        return estimates
    positive = (truth == classes[1]).astype(int)
    estimates.append(auc_estimate(positive, score_b, score_c))
    pb, pc = np.clip(score_b, 1e-15, 1 - 1e-15), np.clip(score_c, 1e-15, 1 - 1e-15)
    ll_b = -(positive * np.log(pb) + (1 - positive) * np.log(1 - pb))
    ll_c = -(positive * np.log(pc) + (1 - positive) * np.log(1 - pc))

    def ratio(sums: Array, _: Array) -> Array:
        return np.asarray(sums[1] / sums[0] - 1.0)

    estimates.append(
        Estimate(
            "log_loss",
            False,
            float(ll_b.mean()),
            float(ll_c.mean()),
            stats.Bootstrap([ll_b, ll_c], ratio, resamples, seed, relative=True).interval,
            True,
            "paired bootstrap",
        )
    )
    return estimates


def auc_estimate(positive: NDArray[np.int_], score_b: Array, score_c: Array) -> Estimate:
    """ROC AUC of both score columns on the same rows (1 = positive class), compared by DeLong."""
    return Estimate(
        "roc_auc",
        True,
        stats.auc(positive, score_b),
        stats.auc(positive, score_c),
        lambda conf: stats.delong(positive, score_b, score_c, conf),
        False,
        "DeLong",
    )


def judge(estimates: list[Estimate], n_rows: int, policy: dict[str, Any]) -> list[Finding]:
    """Turn paired estimates into pass / fail / warn findings, family-wise over the metrics."""
    alpha = float(policy["alpha"])
    family = max(len(estimates), 1)
    margins = policy["quality"]["margins"]
    return [_judge_one(e, n_rows, alpha, family, float(margins[e.metric])) for e in estimates]


def _judge_one(e: Estimate, n: int, alpha: float, family: int, margin: float) -> Finding:
    interval = e.interval(1 - alpha)
    strict = e.interval(1 - alpha / family) if family > 1 else interval
    # "worse" is positive for lower-is-better metrics and negative for higher-is-better ones.
    sign = 1.0 if not e.higher_is_better else -1.0
    worse, worse_lo = sign * interval.estimate, min(sign * strict.low, sign * strict.high)
    worse_hi = max(sign * interval.low, sign * interval.high)
    worse_lo_plain = min(sign * interval.low, sign * interval.high)
    status: Status
    if worse_lo > 0 and worse >= margin:
        status, verdict = "fail", "worse beyond the margin"
    elif worse_hi <= margin:
        status = "pass"
        verdict = "better" if worse_hi < 0 else "no worse than the margin"
    else:
        status = "warn"
        if worse_lo_plain > 0 and worse >= margin:
            verdict = f"worse, but significant only before correcting for {family} metrics"
        else:
            verdict = "inconclusive"
    direction = "worse" if worse > 0 else "better" if worse < 0 else "unchanged"
    level = f"{(1 - alpha) * 100:g}%"
    show = _formatter(e.relative)
    message = (
        f"{e.metric} {show(abs(interval.estimate))} {direction} ({level} CI {show(interval.low)} to "
        f"{show(interval.high)}; margin {show(margin)}): {verdict}"
    )
    details: dict[str, Any] = {
        "test": e.test,
        "rows": n,
        "relative": e.relative,
        "higher_is_better": e.higher_is_better,
        "family_size": family,
    }
    if status == "warn":
        distance = margin - worse if worse < margin else worse
        needed = stats.rows_to_settle(n, interval.se, distance, 1 - alpha)
        if needed is not None:
            details["rows_to_settle"] = needed
            message += f"; about {needed:,} rows would settle it"
    return Finding(
        name=f"quality {e.metric}",
        kind="quality",
        status=status,
        message=message,
        metric=e.metric,
        baseline=e.baseline,
        candidate=e.candidate,
        change=interval.estimate,
        ci=(interval.low, interval.high),
        threshold=margin if not e.higher_is_better else -margin,
        details=details,
    )


def _formatter(relative: bool) -> Callable[[float], str]:
    """Percent for relative changes, metric units otherwise; tiny values keep two digits."""

    def show(value: float) -> str:
        shown = value * 100 if relative else value
        unit = "%" if relative else ""
        if shown == 0 or abs(shown) >= (0.1 if relative else 0.001):
            return f"{shown:.1f}{unit}" if relative else f"{shown:.4f}"
        return f"{shown:.2g}{unit}"

    return show
