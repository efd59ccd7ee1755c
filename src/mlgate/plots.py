"""The small data the report's pictures need, computed from the evidence (report/figures.py draws it).

What the findings already hold (changes, intervals, each run's value) is drawn from them; this is
the rest: a sample of both versions' predictions and their residual histograms, the asv batch-size
curve of each version, latency percentiles per version, and where each change falls in this
machine's A/A history.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mlgate import stats
from mlgate.checks.asv_timing import curve_rounds, fit_rounds
from mlgate.evidence import Measured, outputs
from mlgate.evidence.asv_results import CommitResults
from mlgate.evidence.outputs import PREDICTION, PROBA_PREFIX, looks_like_classification
from mlgate.evidence.replay import Replay
from mlgate.report import Finding
from mlgate.report.model import SCALE

SCATTER_POINTS = 2000
PROFILE = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99, "p99.9": 0.999}  # drawn per version


def prediction_plots(
    base: pd.DataFrame, cand: pd.DataFrame, truth: pd.Series | None, task: str
) -> dict[str, Any]:
    """Up to 2,000 evenly spaced (baseline, candidate) predictions; regression residual histograms."""
    b, c = outputs.score(base, task), outputs.score(cand, task)
    if b is None or c is None:
        return {}
    take = np.linspace(0, b.size - 1, min(SCATTER_POINTS, b.size)).astype(int)
    plots: dict[str, Any] = {"scatter": {"baseline": b[take].tolist(), "candidate": c[take].tolist()}}
    if truth is not None and task == "regression":
        y = truth.to_numpy(dtype=float)
        # Range from the sampled rows (cheap), counts from every row (clipped into the end bins).
        lo, hi = np.quantile(np.concatenate([y[take] - b[take], y[take] - c[take]]), [0.005, 0.995])
        counts, edges = {}, np.linspace(lo, hi, 41)
        for name, predicted in (("baseline", b), ("candidate", c)):
            residual = y - predicted
            np.clip(residual, lo, hi, out=residual)
            # numpy's equal-width path (no sort); it widens a range of zero width itself
            found, edges = np.histogram(residual, bins=40, range=(lo, hi))
            counts[name] = found.tolist()
            del residual
        plots["residuals"] = {"edges": edges.tolist(), **counts}
    return plots


def measured_plots(evidence: Measured, findings: list[Finding]) -> dict[str, Any]:
    """The batch-size curve of each version, latency percentiles per version, and A/A history."""
    plots: dict[str, Any] = {}
    if evidence.asv is not None:
        curves = {
            "baseline": batch_curve(evidence.asv.baseline),
            "candidate": batch_curve(evidence.asv.candidate),
        }
        if all(curves.values()):
            plots["batch_curve"] = curves
    if evidence.load is not None:
        plots["latency_profile"] = {
            "baseline": percentile_profile(evidence.load.baseline),
            "candidate": percentile_profile(evidence.load.candidate),
        }
    if evidence.replay is not None:
        plots.update(replay_plots(evidence.replay))
    spread = []
    for finding in findings:
        sample = finding.aa_sample()
        history = list(evidence.history.get(sample[0], ())) if sample else []
        # One log-ratio axis: differences (the error rate) have no place on it.
        ratio = finding.details.get(SCALE) == "log"
        if sample and ratio and len(history) >= 2 and not finding.kind.endswith("canary"):
            spread.append({"name": finding.name, "d": sample[1], "history": history})
    if spread:
        plots["aa"] = spread
    return plots


def batch_curve(results: CommitResults) -> dict[str, Any] | None:
    """Each round's milliseconds per call at each batch size, and the line ``a + b x rows`` with the
    medians of the per-round fits."""
    curve = curve_rounds(results)
    fits = fit_rounds(*curve) if curve is not None else None
    if curve is None or fits is None:
        return None
    rows, times = curve
    return {
        "rows": rows.tolist(),
        "rounds_ms": (times * 1000).tolist(),
        "overhead_ms": float(np.median(fits[0])),
        "per_row_us": float(np.median(fits[1])),
    }


def percentile_profile(runs: list[dict[str, Any]]) -> dict[str, dict[str, list[float | None]]]:
    """Per endpoint and percentile, [centre, low, high] in ms over the runs.

    The run is the unit: the geometric mean of the runs' values with its 95% t interval; a single
    run gives its own value and quantile interval (None where it has none). A percentile is left out
    where a run holds fewer requests than it needs (``stats.quantile_needs``)."""
    endpoints = sorted({n for r in runs for n in r["endpoints"] if n != "all"})
    profile: dict[str, dict[str, list[float | None]]] = {}
    for endpoint in endpoints:
        cells = [r["endpoints"].get(endpoint, {}) for r in runs]
        shown: dict[str, list[float | None]] = {}
        for name, q in PROFILE.items():
            needs = stats.quantile_needs(q)
            values = [c.get("latency", {}).get(name) for c in cells]
            thin = any(c.get("requests", 0) < needs for c in cells)
            if thin or any(v is None or v.get("ms", 0) <= 0 for v in values):
                continue
            if len(values) >= 2:
                mean, se, df = stats.mean_t(np.log([float(v["ms"]) for v in values]))
                half = stats.t_quantile(0.975, df) * se
                shown[name] = [math.exp(mean), math.exp(mean - half), math.exp(mean + half)]
            elif values:
                ci = values[0].get("ci95") or [None, None]
                shown[name] = [float(values[0]["ms"]), ci[0], ci[1]]
        if shown:
            profile[endpoint] = shown
    return profile


def replay_plots(replay: Replay) -> dict[str, Any]:
    """Up to 2,000 evenly spaced records' answers of both versions (a number, or the probability of
    the baseline's label) and requests' latencies (log10 ms)."""
    plots: dict[str, Any] = {}
    pairs = replay.pairs
    base, cand = replay.outputs["baseline"], replay.outputs["candidate"]
    if not base.empty:
        if looks_like_classification(base):
            # How sure each version is of the baseline's label (labels only: nothing to draw).
            x, y = np.full(len(base), np.nan), np.full(len(base), np.nan)
            labels = base[PREDICTION].astype(str).to_numpy()
            for column in base.columns:
                if str(column).startswith(PROBA_PREFIX) and column in cand.columns:
                    rows = labels == str(column)[len(PROBA_PREFIX) :]
                    x[rows] = base[column].to_numpy(dtype=float)[rows]
                    y[rows] = cand[column].to_numpy(dtype=float)[rows]
        else:
            x, y = base[PREDICTION].to_numpy(dtype=float), cand[PREDICTION].to_numpy(dtype=float)
        kept = [(float(a), float(b)) for a, b in zip(x, y, strict=True) if np.isfinite(a) and np.isfinite(b)]
        if kept:
            take = np.linspace(0, len(kept) - 1, min(SCATTER_POINTS, len(kept))).astype(int)
            plots["replay_answers"] = {
                "baseline": [kept[t][0] for t in take],
                "candidate": [kept[t][1] for t in take],
            }
    answered = pairs[(pairs["baseline_status"] == 200) & (pairs["candidate_status"] == 200)]
    if len(answered):
        take = np.linspace(0, len(answered) - 1, min(SCATTER_POINTS, len(answered))).astype(int)
        plots["replay_latency"] = {
            side: np.log10(answered[f"{side}_latency_us"].to_numpy(float)[take] / 1000).round(4).tolist()
            for side in ("baseline", "candidate")
        }
    return plots
