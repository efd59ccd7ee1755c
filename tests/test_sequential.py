"""Confirming looks: the levels of the looks, the verdict kept from the first decisive look, and, on
simulated run-level latencies, false alarms still at most alpha and more changes caught."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlgate import stats
from mlgate.checks import sequential
from mlgate.commands import confirm
from mlgate.compare import measured
from mlgate.evidence import LoadRuns, Measured
from mlgate.infra.durations import parse_duration
from mlgate.infra.errors import MlgateError
from mlgate.policy import DEFAULT
from mlgate.report import Finding
from mlgate.serving import duet_run
from mlgate.serving.locust_run import LoadPlan

RUNS = 5  # runs a side in a look, as the quick plan
LOOKS = 4


@pytest.mark.parametrize("looks", [1, 2, 3, 4])
def test_the_looks_spend_alpha_and_no_more(looks: int) -> None:
    levels = sequential.look_alphas([RUNS * k for k in range(1, looks + 1)], RUNS * looks, 0.01)
    assert all(level > 0 for level in levels)
    assert sum(levels) == pytest.approx(0.01, rel=1e-12) and sum(levels) <= 0.01 + 1e-15
    if looks == 1:
        assert levels == [0.01]  # without confirming looks, the rule is what it always was


def test_a_metric_keeps_the_verdict_of_the_first_look_that_decides_it() -> None:
    def finding(name: str, status: Any) -> Finding:
        return Finding(name=name, kind="latency", status=status, message=name, details={"design": "paired"})

    looks = [
        [finding("p50", "pass"), finding("p95", "warn")],
        [finding("p50", "warn"), finding("p95", "fail")],
    ]
    kept = {f.name: f for f in sequential.first_decisive(looks, [5, 10], [0.006, 0.004], 2)}
    assert kept["p50"].status == "pass" and kept["p50"].details["look"] == 1
    assert kept["p95"].status == "fail" and "look 2 of up to 2: 10 runs a side" in kept["p95"].message


def _runs(values: np.ndarray) -> list[dict[str, Any]]:
    """Run summaries shaped like `mlgate load`'s, one endpoint, from per-run p50/p95/p99 in ms."""
    return [
        {
            "endpoints": {
                "/predict": {
                    "requests": 2000,
                    "latency": {q: {"ms": float(v)} for q, v in zip(("p50", "p95", "p99"), row, strict=True)},
                },
                "all": {"requests": 2000, "rate_per_s": 200.0, "error_rate": 0.0},
            }
        }
        for row in values
    ]


def _session(rng: np.random.Generator, change: float, looks: int) -> Measured:
    """Every look's runs of one check: a drift both sides of a pair share, and noise of their own
    (a run-level spread of about 9%, as on a busy 2-core machine in docs/verdict-quality.md)."""
    n = RUNS * LOOKS
    typical = np.array([4.0, 6.0, 9.0])
    drift = rng.normal(0, 0.08, (n, 1))
    base = typical * np.exp(drift + rng.normal(0, 0.06, (n, 3)))
    cand = typical * (1 + change) * np.exp(drift + rng.normal(0, 0.06, (n, 3)))
    taken = RUNS * looks
    return Measured(
        load=LoadRuns(_runs(base[:taken]), _runs(cand[:taken])),
        load_looks=tuple(RUNS * k for k in range(1, looks + 1)),
        planned_looks=looks,
    )


def _failed(session: Measured, metric: str) -> bool:
    return any(f.status == "fail" for f in measured(session, DEFAULT) if f.metric.endswith(metric))


@pytest.mark.slow  # a few thousand simulated verdicts
def test_simulated_looks_keep_false_alarms_within_alpha_and_catch_more() -> None:
    rng = np.random.default_rng(2026)
    trials = 400
    alarms = sum(_failed(_session(rng, 0.0, LOOKS), "") for _ in range(trials))
    assert stats.wilson(alarms, trials)[0] <= DEFAULT.alpha, alarms
    single = sum(_failed(_session(rng, 0.10, 1), "p95") for _ in range(trials))
    looked = sum(_failed(_session(rng, 0.10, LOOKS), "p95") for _ in range(trials))
    assert looked > single + trials * 0.2, (single, looked)


def test_durations_and_planned_looks() -> None:
    assert [parse_duration(t, "--x") for t in ("120", "120s", "2m", "0", "1m30s")] == [120, 120, 120, 0, 90]
    for bad in ("abc", "-5", "5x", "nan"):
        with pytest.raises(MlgateError, match=r"--x: .* is not a duration"):
            parse_duration(bad, "--x")
    assert confirm.planned_looks(0, 100) == 1
    assert confirm.planned_looks(250, 100) == 3
    assert confirm.planned_looks(10_000, 100) == sequential.MAX_LOOKS


def test_one_planned_look_judges_as_without_confirming() -> None:
    rng = np.random.default_rng(1)
    session = _session(rng, 0.05, 1)
    plain = replace(session, load_looks=(), planned_looks=1)
    assert [f.to_dict() for f in measured(session, DEFAULT)] == [
        f.to_dict() for f in measured(plain, DEFAULT)
    ]


@pytest.mark.slow  # real servers and real locust
def test_confirming_looks_on_real_servers_add_runs_and_say_which_look_decided(
    fast_models: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two duet runs a look of one model against itself: a tail percentile over two runs cannot be
    decided, so the loop takes every planned look; each verdict names the look that decided it, and
    no look of the A/A finds a regression."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).parent), *sys.path]))
    plan = LoadPlan(
        users=2,
        spawn_rate=2,
        run_seconds=180,
        requests=150,
        warmup_seconds=0.1,
        cooldown_seconds=0,
        data_file=fast_models["holdout"],
    )
    models = (fast_models["v1"], fast_models["v1"])
    # A look said to take 1000 s against a budget of 2500 s: three looks planned, time never the limit.
    look = confirm.LoadLook(duet_run.duet, 2, plan, models, seconds=1000)
    first = confirm._load_again(look, tmp_path / "ab", lambda text: None)
    said: list[str] = []
    evidence = confirm.confirm(Measured(load=first), look, 2500, DEFAULT, tmp_path, said.append)
    assert evidence.load_looks == (2, 4, 6) and evidence.planned_looks == 3, said
    assert len(evidence.load.baseline) == len(evidence.load.candidate) == 6
    assert (tmp_path / "load" / "ab-look-3" / "load.json").is_file()
    findings = {f.metric: f for f in measured(evidence, DEFAULT)}
    # Which metric stays open to the last look depends on the machine (a busy one made p99 of four
    # duet runs decidable once); that some did is why the loop took all three.
    looked = [f for f in findings.values() if "look" in f.details]
    assert max(f.details["look"] for f in looked) == 3
    for finding in looked:
        k = finding.details["look"]
        if "design" in finding.details:
            assert f"look {k} of up to 3: {2 * k} runs a side" in finding.message
    assert not [f.message for f in findings.values() if f.status == "fail"]
