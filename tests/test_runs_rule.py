"""The run-level timing rule: ternary verdicts, the A/A-calibrated rule, and the noise canary."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mlgate import calibration
from mlgate.checks.runs import MIN_HISTORY, RunValues, apply_canary, confidence, judge, judge_all
from mlgate.infra.errors import MlgateError


def values(
    effect: float, noise: float = 0.01, runs: int = 8, seed: int = 0, history: tuple[float, ...] = ()
) -> RunValues:
    rng = np.random.default_rng(seed)
    drift = np.linspace(0, 0.05, runs)  # the machine slows down during the session; pairs cancel it
    base = 30 * np.exp(drift + rng.normal(0, noise, runs))
    cand = 30 * np.exp(drift + effect + rng.normal(0, noise, runs))
    return RunValues(
        "latency p95", "latency", "p95", "ms", base.tolist(), cand.tolist(), 0.05, history=history
    )


def test_clear_regression_fails_and_says_slower() -> None:
    finding = judge(values(np.log(1.20)), 0.01, 1)
    assert finding.status == "fail" and "slower" in finding.message
    assert finding.change == pytest.approx(0.20, abs=0.03)
    assert finding.details["rule"].startswith("run-clustered t (paired")


def test_small_change_passes_and_large_noise_is_inconclusive() -> None:
    assert judge(values(0.0), 0.01, 1).status == "pass"
    noisy = judge(values(0.04, noise=0.15, runs=4), 0.01, 1)
    assert noisy.status == "warn" and "inconclusive" in noisy.message
    assert noisy.details["more_runs_to_settle"] >= 1 and "smallest detectable change" in noisy.message


def test_below_the_minimum_effect_never_fails() -> None:
    finding = judge(values(np.log(1.03), noise=0.001, runs=20), 0.01, 1)
    assert finding.status == "pass"  # statistically clear, practically irrelevant


def test_higher_is_better_and_linear_scale() -> None:
    throughput = RunValues(
        "throughput",
        "latency",
        "requests/s",
        "req/s",
        [100.0] * 4 + [101.0],
        [80.0, 81, 79, 80, 80],
        0.05,
        higher_is_better=True,
    )
    assert judge(throughput, 0.01, 1).status == "fail"
    errors = RunValues(
        "error rate",
        "latency",
        "error rate",
        "share",
        [0.0, 0.001, 0.0, 0.0, 0.001],
        [0.0, 0.0, 0.001, 0.0, 0.0],
        0.005,
        scale="linear",
    )
    assert judge(errors, 0.01, 1).status == "pass"


def test_too_few_runs_is_skipped() -> None:
    assert judge(RunValues("x", "latency", "p50", "ms", [1.0], [1.0, 2.0], 0.05), 0.01, 1).status == "skip"


def test_calibrated_rule_uses_the_aa_history() -> None:
    quiet_history = tuple(np.random.default_rng(3).normal(0, 0.005, 20))
    calibrated = judge(values(np.log(1.10), history=quiet_history), 0.01, 1)
    assert calibrated.status == "fail" and calibrated.details["rule"].startswith("A/A-calibrated")
    # A machine whose A/A comparisons stray by 30%: a 10% change cannot be told from noise.
    wild = tuple(np.random.default_rng(4).normal(0, 0.3, 20))
    assert judge(values(np.log(1.10), history=wild), 0.01, 1).status == "warn"
    short = judge(values(np.log(1.10), history=quiet_history[: MIN_HISTORY - 1]), 0.01, 1)
    assert short.details["rule"].startswith("run-clustered")


def test_family_correction_turns_a_marginal_fail_into_a_warning() -> None:
    marginal = values(np.log(1.07), noise=0.02, runs=6, seed=11)
    alone, among_many = judge(marginal, 0.01, 1), judge(marginal, 0.01, 200)
    assert alone.status == "fail" and among_many.status == "warn"
    assert "significant only before correcting for 200 metrics" in among_many.message


def test_a_tripped_canary_makes_failures_too_noisy_to_judge() -> None:
    real = judge_all([values(np.log(1.2))], 0.01)
    canary = judge_all([values(np.log(1.2), seed=5)], 0.01)  # the A/A pair itself "regressed"
    result = apply_canary(real, canary)
    assert result[0].status == "warn" and result[0].message.startswith("too noisy to judge")
    assert result[1].name.startswith("canary ") and "A/A canary tripped" in result[1].message
    assert real[0].status == "fail" and not canary[0].name.startswith("canary ")  # inputs left as they were
    calm = apply_canary(judge_all([values(np.log(1.2))], 0.01), judge_all([values(0.0, seed=6)], 0.01))
    assert calm[0].status == "fail"


def test_history_is_recorded_rolling_and_applied(tmp_path: Path) -> None:
    for seed in range(35):
        calibration.record(judge_all([values(0.0, seed=seed)], 0.01), tmp_path, machine="box")
    history = calibration.read_history(tmp_path, machine="box")
    ((key, entries),) = history.items()
    assert key == "latency|p95|8x8" and len(entries) == 30
    finding = judge_all([values(np.log(1.1))], 0.01, history)[0]
    assert finding.details["rule"].startswith("A/A-calibrated prediction interval (H = 30")
    assert json.loads((tmp_path / "box.json").read_text())["machine"] == "box"


def test_broken_history_and_empty_evidence_are_errors(tmp_path: Path) -> None:
    (tmp_path / "box.json").write_text("{")
    with pytest.raises(MlgateError, match="not an A/A history"):
        calibration.read_history(tmp_path, machine="box")
    with pytest.raises(MlgateError, match="no judged metric"):
        calibration.record([], tmp_path, machine="other")


def test_an_interval_wider_than_tenfold_is_too_few_runs_to_estimate() -> None:
    """Two short runs a side (the issue's "99% CI -100% to 5730762694%"): no numbers, a way out."""
    wide = judge(values(np.log(2.0), noise=0.5, runs=2, seed=3), 0.01, 1)
    assert wide.status == "warn" and "too few runs to estimate" in wide.message
    assert "5730762694" not in wide.message and "more than 100 more runs per side" in wide.message
    assert wide.details["more_runs_to_settle"] > 100


def test_a_change_beyond_twice_the_minimum_effect_is_never_close_to_it() -> None:
    doubled = judge(values(np.log(2.02), noise=0.4, runs=3, seed=1), 0.01, 1)
    assert doubled.status == "warn" and doubled.change is not None and doubled.change > 0.1
    assert "close to the minimum effect" not in doubled.message


def test_numbers_in_messages_have_at_most_three_significant_digits() -> None:
    import re

    finding = judge(values(np.log(1.1234), noise=0.02), 0.01, 1)
    for number in re.findall(r"\d[\d,]*\.?\d*", finding.message.split("(")[1]):
        digits = number.replace(",", "").replace(".", "").lstrip("0")
        assert len(digits.rstrip("0")) <= 3, (number, finding.message)


def test_a_tiny_alpha_on_two_runs_gives_a_finite_verdict() -> None:
    """The first of several confirming looks judges two runs at alpha ~1e-5: no overflow."""
    finding = judge(RunValues("p99", "latency", "p99", "ms", [5.0, 9.0], [6.0, 4.0], 0.1), 8e-6, 5)
    assert finding.status == "warn" and math.isfinite(finding.details["smallest_detectable"])
    assert "too few runs to estimate" in finding.message


def test_the_interval_level_never_reads_100_percent() -> None:
    assert [confidence(a) for a in (0.01, 0.05, 0.000269, 2.6e-7)] == ["99%", "95%", "99.97%", "99.99997%"]
