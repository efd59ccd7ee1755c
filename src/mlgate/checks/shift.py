"""Prediction shift: did the distribution of predictions move, overall and per segment?"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlgate import metrics, stats
from mlgate.evidence.outputs import labels_or_numbers, probabilities, values
from mlgate.policy import Policy, Shift
from mlgate.report import Finding, Status
from mlgate.report.numbers import sig

Array = NDArray[np.float64]


def prediction_shift(base: pd.DataFrame, cand: pd.DataFrame, task: str, rules: Shift) -> list[Finding]:
    """Shift of the predictions (regression) or of each class probability (classifiers)."""
    if task == "regression":
        return distribution_shift(values(base, task), values(cand, task), rules)
    b, c = probabilities(base), probabilities(cand)
    if b is None or c is None:
        reason = "no class probabilities on both sides (the model has no predict_proba)"
        return [
            Finding(
                name="prediction shift", kind="shift", status="skip", message=f"prediction shift: {reason}"
            )
        ]
    labels = b.labels[1:] if len(b.labels) == 2 else b.labels  # binary: one probability says it all
    findings = []
    for label in labels:
        for finding in distribution_shift(b.of(label), c.of(label), rules):
            if len(b.labels) > 2:
                finding = replace(
                    finding, name=f"{finding.name} [{label}]", message=f"P({label}): {finding.message}"
                )
            findings.append(finding)
    return findings


def distribution_shift(base: Array, cand: Array, rules: Shift) -> list[Finding]:
    """KS statistic and PSI of candidate vs baseline predictions (bins from the baseline)."""
    base, cand = stats.sorted_pair(base, cand)  # once for both statistics
    ks, p = stats.ks_statistic(base, cand, presorted=True)
    ks_status: Status = "warn" if ks >= rules.ks_warn else "pass"
    index = stats.psi(base, cand, rules.bins, presorted=True)
    psi_status: Status = "fail" if index >= rules.psi_fail else "warn" if index >= rules.psi_warn else "pass"
    return [
        Finding(
            name="prediction shift KS",
            kind="shift",
            status=ks_status,
            message=f"KS statistic {sig(ks)} (p = {p:.3g}); warn at {rules.ks_warn:g}",
            metric="ks",
            change=ks,
            threshold=rules.ks_warn,
            details={"p_value": p},
        ),
        Finding(
            name="prediction shift PSI",
            kind="shift",
            status=psi_status,
            message=f"PSI {sig(index)} over {rules.bins} baseline bins; warn at "
            f"{rules.psi_warn:g}, fail at {rules.psi_fail:g}",
            metric="psi",
            change=index,
            threshold=rules.psi_fail,
        ),
    ]


def segment_quality(
    segments: pd.Series,
    truth: pd.Series,
    base_outputs: pd.DataFrame,
    cand_outputs: pd.DataFrame,
    task: str,
    policy: Policy,
) -> Finding:
    """Per-segment metric of both versions; warns where a big enough segment got worse."""
    name = str(segments.name)
    margin_key = "rmse" if task == "regression" else "accuracy"
    margin = policy.quality.margins[margin_key]
    y, base, cand = labels_or_numbers(truth, task), values(base_outputs, task), values(cand_outputs, task)
    rows, worse = [], []
    keys = segments.astype(object).where(segments.notna(), "(missing)").to_numpy()
    for key in sorted(set(keys), key=str):
        mask = keys == key
        if task == "regression":
            b, c = metrics.rmse(y[mask], base[mask]), metrics.rmse(y[mask], cand[mask])
            change = c / b - 1 if b > 0 else 0.0
            got_worse = change > margin
        else:
            b, c = metrics.accuracy(y[mask], base[mask]), metrics.accuracy(y[mask], cand[mask])
            change = c - b
            got_worse = change < -margin
        row: dict[str, Any] = {
            "segment": str(key),
            "rows": int(mask.sum()),
            "baseline": b,
            "candidate": c,
            "change": change,
        }
        rows.append(row)
        if got_worse and row["rows"] >= policy.shift.min_segment_rows:
            worse.append(row)
    status: Status = "warn" if worse else "pass"
    message = (
        f"{margin_key} worse beyond the margin in {len(worse)} of {len(rows)} {name} segment(s): "
        + ", ".join(f"{r['segment']} ({r['rows']} rows)" for r in worse[:5])
        if worse
        else f"no {name} segment (of {len(rows)}) got worse beyond the margin"
    )
    return Finding(
        name=f"segments by {name}",
        kind="shift",
        status=status,
        message=message,
        metric=margin_key,
        details={"segments": rows, "note": "point estimates; no test per segment"},
    )
