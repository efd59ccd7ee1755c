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
import pandas as pd
from numpy.typing import NDArray

from mlgate import metrics, stats
from mlgate.evidence.outputs import Probabilities, labels_or_numbers, probabilities, values
from mlgate.policy import Policy
from mlgate.report import Finding, Status
from mlgate.report.model import HIGHER_IS_BETTER, MORE_ROWS, RELATIVE
from mlgate.report.numbers import percent, sig

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

    One resampling serves all three (the same rows in every resample, drawn once).
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
    ae_b, ae_c = np.abs(truth - base), np.abs(truth - cand)
    draws = stats.resample([se_b, se_c, truth, truth**2, ae_b, ae_c], resamples, seed)
    rmse = stats.Bootstrap(draws.take([0, 1]), ratio(True), relative=True)
    r2 = stats.Bootstrap(draws.take([0, 1, 2, 3]), r2_difference)
    mae = stats.Bootstrap(draws.take([4, 5]), ratio(False), relative=True)
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


MAX_F1_CLASSES = 50  # macro-F1 bootstraps three count columns per class and side


def classification_estimates(
    truth: NDArray[Any],
    label_b: NDArray[Any],
    label_c: NDArray[Any],
    proba_b: Probabilities | None,
    proba_c: Probabilities | None,
    resamples: int,
    seed: int,
) -> tuple[list[Estimate], dict[str, str]]:
    """Binary or multiclass: accuracy (McNemar exact) and macro-F1 from the labels; log-loss and
    Brier score (paired bootstrap) from the probabilities, ROC AUC (DeLong) when binary.

    Returns the estimates and, for every metric that does not apply, the reason.
    """
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
    skipped: dict[str, str] = {}
    classes = np.unique(np.concatenate([truth, label_b, label_c]).astype(str))
    if classes.size <= MAX_F1_CLASSES:
        estimates.append(
            _macro_f1(truth.astype(str), label_b.astype(str), label_c.astype(str), classes, resamples, seed)
        )
    else:
        skipped["macro_f1"] = f"{classes.size} classes; macro-F1 is bootstrapped up to {MAX_F1_CLASSES}"
    if proba_b is None or proba_c is None:
        reason = "no class probabilities on both sides (the model has no predict_proba)"
        return estimates, {**skipped, "roc_auc": reason, "log_loss": reason, "brier": reason}
    seen, counts = np.unique(truth, return_counts=True)
    if seen.size == 2 and counts.min() >= 2:
        positive = (truth == seen[1]).astype(int)
        estimates.append(auc_estimate(positive, proba_b.of(seen[1]), proba_c.of(seen[1])))
    elif seen.size == 2:  # DeLong's variance needs two rows of each class
        skipped["roc_auc"] = (
            f"the labels hold {counts.min()} row(s) of one class; it needs at least 2 of each"
        )
    else:
        skipped["roc_auc"] = f"binary classifiers only; the labels hold {seen.size} classes"
    losses = [_log_loss_rows(truth, p) for p in (proba_b, proba_c)]
    briers = [_brier_rows(truth, p) for p in (proba_b, proba_c)]
    draws = stats.resample(losses + briers, resamples, seed)  # one resampling for both
    for name, (b, c), rows in (("log_loss", losses, [0, 1]), ("brier", briers, [2, 3])):
        estimates.append(
            Estimate(
                name,
                False,
                float(b.mean()),
                float(c.mean()),
                stats.Bootstrap(draws.take(rows), _mean_ratio, relative=True).interval,
                True,
                "paired bootstrap",
            )
        )
    return estimates, skipped


def _mean_ratio(sums: Array, _: Array) -> Array:
    return np.asarray(sums[1] / sums[0] - 1.0)


def _log_loss_rows(truth: NDArray[Any], proba: Probabilities) -> Array:
    """Per row: minus the log of the probability given to the true class."""
    p_true = np.zeros(truth.size)
    for label in np.unique(truth):
        rows = truth == label
        p_true[rows] = proba.of(label)[rows]
    return metrics.log_loss_rows(p_true)


def _brier_rows(truth: NDArray[Any], proba: Probabilities) -> Array:
    """Per row: the squared distance of the probability vector from the true class's one-hot vector."""
    total = np.zeros(truth.size)
    for label in set(proba.labels) | {str(t) for t in np.unique(truth)}:
        hit = (truth.astype(str) == label).astype(float)
        total += (proba.of(label) - hit) ** 2
    return total


def _macro_f1(
    truth: NDArray[Any],
    label_b: NDArray[Any],
    label_c: NDArray[Any],
    classes: NDArray[Any],
    resamples: int,
    seed: int,
) -> Estimate:
    """Macro-F1 difference (candidate - baseline), bootstrapping each class's TP, FP and FN counts."""
    columns: list[Array] = []
    for labels in (label_b, label_c):
        for label in classes:
            truly, said = truth == label, labels == label
            columns += [
                (truly & said).astype(float),
                (~truly & said).astype(float),
                (truly & ~said).astype(float),
            ]
    k = classes.size

    def macro(sums: Array) -> Array:
        tp, fp, fn = sums[0::3], sums[1::3], sums[2::3]
        denominator = 2 * tp + fp + fn
        f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
        return np.asarray(f1.mean(axis=0))

    def difference(sums: Array, _: Array) -> Array:
        return np.asarray(macro(sums[3 * k :]) - macro(sums[: 3 * k]))

    totals = np.array([[column.sum()] for column in columns])
    boot = stats.Bootstrap(stats.resample(columns, resamples, seed), difference)
    return Estimate(
        "macro_f1",
        True,
        float(macro(totals[: 3 * k])[0]),
        float(macro(totals[3 * k :])[0]),
        boot.interval,
        False,
        "paired bootstrap",
    )


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


def quality_findings(
    truth: pd.Series | None, base: pd.DataFrame, cand: pd.DataFrame, task: str, policy: Policy
) -> list[Finding]:
    """Every quality metric of the task, paired on the same labelled rows (outputs aligned to them)."""
    if truth is None:
        reason = "no labelled rows; give --data with the target column"
        return [Finding(name="quality", kind="quality", status="skip", message=reason)]
    y = labels_or_numbers(truth, task)
    q = policy.quality
    if task == "regression":
        estimates = regression_estimates(y, values(base, task), values(cand, task), q.resamples, q.seed)
        return judge(estimates, len(truth), policy)
    estimates, skipped = classification_estimates(
        y,
        values(base, task),
        values(cand, task),
        probabilities(base),
        probabilities(cand),
        q.resamples,
        q.seed,
    )
    return judge(estimates, len(truth), policy, skipped)


def judge(
    estimates: list[Estimate], n_rows: int, policy: Policy, skipped: dict[str, str] | None = None
) -> list[Finding]:
    """Turn paired estimates into pass / fail / warn findings, family-wise over the metrics; every
    metric that does not apply is listed as skipped, with the reason."""
    alpha = policy.alpha
    family = max(len(estimates), 1)
    margins = policy.quality.margins
    findings = [_judge_one(e, n_rows, alpha, family, float(margins[e.metric])) for e in estimates]
    for metric, reason in (skipped or {}).items():
        findings.append(
            Finding(
                name=f"quality {metric}",
                kind="quality",
                status="skip",
                message=f"{metric}: {reason}",
                metric=metric,
            )
        )
    return findings


def _judge_one(e: Estimate, n: int, alpha: float, family: int, margin: float) -> Finding:
    interval = e.interval(1 - alpha)
    strict = e.interval(1 - alpha / family) if family > 1 else interval
    ci = (interval.low, interval.high)
    status, verdict = at_margin(e.higher_is_better, interval.estimate, ci, (strict.low, strict.high), margin)
    if status == "warn" and at_margin(e.higher_is_better, interval.estimate, ci, None, margin)[0] == "fail":
        verdict = f"worse, but significant only before correcting for {family} metrics"
    message = margin_message(
        e.metric,
        (e.baseline, e.candidate),
        interval.estimate,
        ci,
        higher_is_better=e.higher_is_better,
        relative=e.relative,
        alpha=alpha,
        margin=margin,
        verdict=verdict,
    )
    worse = (1.0 if not e.higher_is_better else -1.0) * interval.estimate
    details: dict[str, Any] = {
        "test": e.test,
        "rows": n,
        RELATIVE: e.relative,
        HIGHER_IS_BETTER: e.higher_is_better,
        "family_size": family,
    }
    if status == "warn":
        distance = margin - worse if worse < margin else worse
        needed = stats.rows_to_settle(n, interval.se, distance, 1 - alpha)
        if needed is not None:
            details[MORE_ROWS] = needed
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


def at_margin(
    higher_is_better: bool,
    change: float,
    ci: tuple[float, float],
    strict_ci: tuple[float, float] | None,
    margin: float,
) -> tuple[Status, str]:
    """The ternary rule against a margin: fail when worse with confidence (on ``strict_ci``, the
    family-wise interval, when given) and by at least the margin; pass when ``ci`` shows it is no
    worse than the margin; else inconclusive. "Worse" is positive, whatever the metric's direction."""
    sign = 1.0 if not higher_is_better else -1.0
    worse = sign * change
    worse_lo = min(sign * v for v in (strict_ci or ci))
    worse_hi = max(sign * v for v in ci)
    if worse_lo > 0 and worse >= margin:
        return "fail", "worse beyond the margin"
    if worse_hi <= margin:
        return "pass", "better" if worse_hi < 0 else "no worse than the margin"
    return "warn", "inconclusive"


def margin_message(
    metric: str,
    values: tuple[float, float],
    change: float,
    ci: tuple[float, float],
    *,
    higher_is_better: bool,
    relative: bool,
    alpha: float,
    margin: float,
    verdict: str,
) -> str:
    """``rmse 29,400 -> 29,300, 0.422% better (99% CI -1.42% to 0.581%; margin 1.00%): verdict``:
    ``values`` are the baseline's and the candidate's, ``change`` and ``ci`` relative or in units."""
    worse = (1.0 if not higher_is_better else -1.0) * change
    direction = "worse" if worse > 0 else "better" if worse < 0 else "unchanged"
    show = _formatter(relative)
    return (
        f"{metric} {sig(values[0])} -> {sig(values[1])}, {show(abs(change))} {direction} "
        f"({(1 - alpha) * 100:g}% CI {show(ci[0])} to {show(ci[1])}; margin {show(margin)}): {verdict}"
    )


def _formatter(relative: bool) -> Callable[[float], str]:
    """Percent for relative changes, metric units otherwise; three significant digits."""

    def show(value: float) -> str:
        return percent(value) if relative else sig(value)

    return show
