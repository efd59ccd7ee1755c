"""Prediction shift: did the distribution of predictions move, overall and per segment?"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlgate import stats
from mlgate.report import Finding, Status

Array = NDArray[np.float64]


def distribution_shift(base: Array, cand: Array, policy: dict[str, Any]) -> list[Finding]:
    """KS statistic and PSI of candidate vs baseline predictions (bins from the baseline)."""
    shift = policy["shift"]
    ks, p = stats.ks_statistic(base, cand)
    ks_status: Status = "warn" if ks >= shift["ks_warn"] else "pass"
    index = stats.psi(base, cand, int(shift["bins"]))
    psi_status: Status = (
        "fail" if index >= shift["psi_fail"] else "warn" if index >= shift["psi_warn"] else "pass"
    )
    return [
        Finding(
            "prediction shift KS",
            "shift",
            ks_status,
            f"KS statistic {ks:.3f} (p = {p:.3g}); warn at {shift['ks_warn']:g}",
            "ks",
            None,
            None,
            ks,
            threshold=float(shift["ks_warn"]),
            details={"p_value": p},
        ),
        Finding(
            "prediction shift PSI",
            "shift",
            psi_status,
            f"PSI {index:.3f} over {int(shift['bins'])} baseline bins; warn at "
            f"{shift['psi_warn']:g}, fail at {shift['psi_fail']:g}",
            "psi",
            None,
            None,
            index,
            threshold=float(shift["psi_fail"]),
        ),
    ]


def segment_quality(
    segments: pd.Series, truth: Array, base: Array, cand: Array, task: str, policy: dict[str, Any]
) -> Finding:
    """Per-segment metric of both versions; warns where a big enough segment got worse."""
    name = str(segments.name)
    margin_key = "rmse" if task == "regression" else "accuracy"
    margin = float(policy["quality"]["margins"][margin_key])
    rows, worse = [], []
    keys = segments.astype(object).where(segments.notna(), "(missing)").to_numpy()
    for key in sorted(set(keys), key=str):
        mask = keys == key
        if task == "regression":
            b = float(np.sqrt(np.mean((truth[mask] - base[mask]) ** 2)))
            c = float(np.sqrt(np.mean((truth[mask] - cand[mask]) ** 2)))
            change = c / b - 1 if b > 0 else 0.0
            got_worse = change > margin
        else:
            b = float(np.mean(truth[mask] == base[mask]))
            c = float(np.mean(truth[mask] == cand[mask]))
            change = c - b
            got_worse = change < -margin
        row = {
            "segment": str(key),
            "rows": int(mask.sum()),
            "baseline": b,
            "candidate": c,
            "change": change,
        }
        rows.append(row)
        if got_worse and row["rows"] >= policy["shift"]["min_segment_rows"]:
            worse.append(row)
    status: Status = "warn" if worse else "pass"
    message = (
        f"{margin_key} worse beyond the margin in {len(worse)} of {len(rows)} {name} segment(s): "
        + ", ".join(f"{r['segment']} ({r['rows']} rows)" for r in worse[:5])
        if worse
        else f"no {name} segment (of {len(rows)}) got worse beyond the margin"
    )
    return Finding(
        f"segments by {name}",
        "shift",
        status,
        message,
        margin_key,
        details={"segments": rows, "note": "point estimates; no test per segment"},
    )
