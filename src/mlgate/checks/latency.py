"""Latency verdicts: p50/p95/p99 per endpoint, throughput and error rate, judged over whole runs."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from mlgate import stats
from mlgate.checks.runs import RunValues, judge_all
from mlgate.policy import Policy
from mlgate.report import Finding
from mlgate.report.model import RECOMMENDED_REQUESTS, THIN_RUNS

# Requests a run needs for a tail percentile to mean something (docs/design.md, sample plans).
MIN_REQUESTS = {"p50": 100, "p95": 1000, "p99": 2000}
QUANTILE = {"p50": 0.50, "p95": 0.95, "p99": 0.99}


def latency_findings(
    base: list[dict[str, Any]],
    cand: list[dict[str, Any]],
    policy: Policy,
    history: Mapping[str, Sequence[float]] | None = None,
) -> list[Finding]:
    """Compare two sets of load runs; runs are paired by order when both sides have as many."""
    theta = policy.latency
    endpoints = sorted(set.intersection(*({n for n in r["endpoints"] if n != "all"} for r in base + cand)))
    metrics: list[RunValues] = []
    for endpoint in endpoints:
        for q in ("p50", "p95", "p99"):
            b = [_quantile(r, endpoint, q) for r in base]
            c = [_quantile(r, endpoint, q) for r in cand]
            if any(v is None for v in b + c):
                continue
            metrics.append(
                RunValues(
                    f"latency {endpoint} {q}",
                    "latency",
                    f"{endpoint} {q}",
                    "ms",
                    [float(v) for v in b if v is not None],
                    [float(v) for v in c if v is not None],
                    getattr(theta, q),
                )
            )
    if len(base) == len(cand) and all("duet" in r for r in base + cand):
        metrics += _paired_medians(endpoints, cand, theta.p50)
    metrics.append(
        RunValues(
            "throughput",
            "latency",
            "requests/s",
            "req/s",
            [r["endpoints"]["all"]["rate_per_s"] for r in base],
            [r["endpoints"]["all"]["rate_per_s"] for r in cand],
            theta.throughput,
            higher_is_better=True,
        )
    )
    metrics.append(
        RunValues(
            "error rate",
            "latency",
            "error rate",
            "share",
            [r["endpoints"]["all"]["error_rate"] for r in base],
            [r["endpoints"]["all"]["error_rate"] for r in cand],
            theta.error_rate,
            scale="linear",
        )
    )
    findings = [_thin_runs(f, base + cand) for f in judge_all(metrics, policy.alpha, history)]
    partial = next((r["_partial"] for r in base + cand if "_partial" in r), None)
    if partial:
        findings.insert(0, _partial_design(partial))
    return findings


def _paired_medians(endpoints: list[str], cand: list[dict[str, Any]], theta: float) -> list[RunValues]:
    """Duet runs: per run, the median log ratio of the request pairs (both sides answered the same body
    at the same moment). Written as the baseline's median and that median times the pairs' median
    ratio, so the paired log ratio the rule takes per run is exactly the pairs' median log ratio."""
    metrics = []
    for endpoint in endpoints:
        pairs = [c["duet"]["endpoints"].get(endpoint) for c in cand]
        if any(p is None for p in pairs):
            continue
        b = [float(p["baseline_median_ms"]) for p in pairs]
        c = [m * math.exp(float(p["median_log_ratio"])) for m, p in zip(b, pairs, strict=True)]
        name = f"{endpoint} paired median"
        metrics.append(RunValues(f"latency {name}", "latency", name, "ms", b, c, theta))
    return metrics


def _partial_design(design: dict[str, Any]) -> Finding:
    done, planned = design.get("runs_per_side"), design.get("planned_runs_per_side")
    return Finding(
        name="load design",
        kind="latency",
        status="warn",
        message=f"partial load: interrupted after {done} of {planned} runs a side; the latency verdicts "
        "below rest on those whole pairs only",
        details={"partial": True, "runs_per_side": done, "planned_runs_per_side": planned},
    )


def _quantile(run: dict[str, Any], endpoint: str, q: str) -> float | None:
    value = run["endpoints"].get(endpoint, {}).get("latency", {}).get(q)
    return None if value is None else float(value["ms"])


def _thin_runs(finding: Finding, runs: list[dict[str, Any]]) -> Finding:
    """Say when runs hold fewer requests than a percentile's verdict wants; below what the percentile
    needs at all (``stats.quantile_needs``: five requests beyond it), it cannot fail: a run's p99 of
    200 requests is its second-slowest request, and two such runs of one server differ by 20%."""
    parts = finding.metric.rsplit(" ", 1)
    if len(parts) != 2 or parts[1] not in MIN_REQUESTS:
        return finding
    fewest = min(r["endpoints"][parts[0]]["requests"] for r in runs)
    if fewest >= MIN_REQUESTS[parts[1]]:
        return finding
    needs = stats.quantile_needs(QUANTILE[parts[1]])
    details = {**finding.details, THIN_RUNS: fewest, RECOMMENDED_REQUESTS: MIN_REQUESTS[parts[1]]}
    message = (
        f"{finding.message} (runs hold as few as {fewest} requests; {MIN_REQUESTS[parts[1]]:,}+ recommended)"
    )
    if fewest < needs and finding.status == "fail":
        message = f"too few requests per run to judge {parts[1]} (at least {needs:,} needed): {message}"
        return replace(finding, status="warn", message=message, details={**details, "too_thin": True})
    return replace(finding, message=message, details=details)
