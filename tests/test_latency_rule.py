"""Latency verdicts from run summaries: thin runs cannot fail a tail percentile they cannot measure."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlgate.checks.latency import latency_findings
from mlgate.policy import DEFAULT


def _runs(p99: list[float], requests: int) -> list[dict[str, Any]]:
    """Run summaries shaped like `mlgate load`'s: one endpoint, steady p50/p95, the given p99s."""
    return [
        {
            "endpoints": {
                "/predict": {
                    "requests": requests,
                    "latency": {"p50": {"ms": 4.0}, "p95": {"ms": 6.0}, "p99": {"ms": value}},
                },
                "all": {"requests": requests, "rate_per_s": 200.0, "error_rate": 0.0},
            }
        }
        for value in p99
    ]


def _p99(requests: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    base = list(7.0 * np.exp(rng.normal(0, 0.02, 8)))
    cand = [b * 1.2 for b in base]  # a clear +20% in every pair
    findings = latency_findings(_runs(base, requests), _runs(cand, requests), DEFAULT)
    return next(f for f in findings if f.name == "latency /predict p99").to_dict()


def test_a_p99_from_runs_of_a_few_hundred_requests_cannot_fail() -> None:
    thin = _p99(requests=222)
    assert thin["status"] == "warn" and thin["details"]["too_thin"] is True
    assert thin["message"].startswith("too few requests per run to judge p99 (at least 500 needed)")


def test_a_p99_from_runs_long_enough_to_hold_it_still_fails() -> None:
    enough = _p99(requests=600)
    assert enough["status"] == "fail" and "too_thin" not in enough["details"]
    assert "2,000+ recommended" in enough["message"]  # thinner than recommended is still said
