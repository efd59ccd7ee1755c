"""`mlgate load --duet`: both servers in one locust run, each body to both, summarised per side.

A duet run (see mlgate.locust.duet) leaves one samples folder in out/duet/run-NN; it is cut to the
measured window once, keeping whole pairs, then written as two ordinary run summaries
(out/baseline/run-NN, out/candidate/run-NN) that every reader of load runs understands, each with a
``duet`` block: per endpoint, the pairs and the quantiles of their log ratios log(candidate/baseline).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlgate.infra import atomic
from mlgate.serving.locust_run import (
    SUMMARY,
    LoadPlan,
    describe,
    finish_summary,
    generator,
    paired_runs,
    run_locust,
    trim,
)

SIDES = ("baseline", "candidate")


def duet(
    locustfiles: Path,
    baseline: str,
    candidate: str,
    runs: int,
    plan: LoadPlan,
    out: Path,
    progress: Any = None,
) -> list[dict[str, Any]]:
    """``runs`` duet runs into out/duet/run-NN, each summarised per side as out/<side>/run-NN."""

    def one_run(k: int) -> list[dict[str, Any]]:
        if progress:
            progress(f"duet run {k}/{runs} ({baseline} and {candidate})")
        return duet_once(locustfiles, baseline, candidate, plan, out, k)

    index = {"design": "duet", "baseline": baseline, "candidate": candidate}
    return paired_runs(out, runs, index, one_run)


def duet_once(
    locustfiles: Path, baseline: str, candidate: str, plan: LoadPlan, out: Path, k: int
) -> list[dict[str, Any]]:
    """One duet run: the raw run, then one summary per side from the same window of whole pairs."""
    name = f"run-{k:02d}"
    with atomic.new_directory(out / "duet" / name, force=False, replaceable=False) as tmp:
        run = run_locust(locustfiles, baseline, plan, tmp, candidate=candidate)
    window, seconds = trim(run.samples, plan)
    window = whole_pairs(window)
    pairs = pair_ratios(window)
    cost = generator(run, plan.processes)
    summaries = []
    for side, host in zip(SIDES, (baseline, candidate), strict=True):
        mine = run.samples[run.samples["side"] == side]
        summary = describe(mine, window[window["side"] == side], seconds, plan, cost)
        finish_summary(summary, run, plan, host, side)
        summary["duet"] = {"run": str(out / "duet" / name), "endpoints": pairs}
        atomic.write_text(out / side / name / SUMMARY, json.dumps(summary, indent=2) + "\n")
        summaries.append(summary)
    return summaries


def whole_pairs(window: pd.DataFrame) -> pd.DataFrame:
    """The window's samples whose pair has both sides inside it (a pair cut at an edge says nothing)."""
    sides = window.groupby("pair")["side"].nunique()
    return window[window["pair"].isin(sides.index[sides == len(SIDES)])]


def pair_ratios(window: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per endpoint and overall: pairs where both answered, quantiles of log(candidate/baseline) latency,
    and how often the candidate went first (about half, or the coin is broken)."""
    ok = window[window["ok"] == 1]
    wide = ok.pivot_table(
        index=["name", "pair"], columns="side", values=["latency_us", "start"], aggfunc="first"
    )
    wide = wide.dropna()
    out: dict[str, dict[str, Any]] = {}
    groups = [*((str(n), g) for n, g in wide.groupby(level="name")), ("all", wide)]
    for name, group in groups:
        latency = group["latency_us"]
        ratios = np.log(latency["candidate"].to_numpy(float) / latency["baseline"].to_numpy(float))
        if not ratios.size:
            continue
        first = group["start"]["candidate"] < group["start"]["baseline"]
        out[name] = {
            "pairs": int(ratios.size),
            "median_log_ratio": float(np.median(ratios)),
            "p10_log_ratio": float(np.quantile(ratios, 0.10)),
            "p90_log_ratio": float(np.quantile(ratios, 0.90)),
            "baseline_median_ms": float(np.median(latency["baseline"])) / 1000.0,
            "candidate_first_share": float(first.mean()),
        }
    return out
