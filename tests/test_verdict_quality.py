"""A fast, seeded subset of the comparator's own benchmark: it fails if a target slips.

The full run (`python tools/verdict_bench.py synthetic`) writes docs/verdict-quality.md; here a few
hundred trials of the cells that carry the targets check that false alarms stay low and power high
(a target counts as missed only when the 95% Wilson interval excludes it).
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

import duet_bench
import instructions_bench
import verdict_bench as vb

pytestmark = pytest.mark.slow  # thousands of simulated designs


def rates(
    design: vb.Design, profile: str, effect: float, trials: int, tail: bool = False
) -> tuple[float, float]:
    rng = np.random.default_rng(2026)
    if design.quantile is None:
        results = [vb._timing_trial(design, profile, effect, rng) for _ in range(trials)]
    else:
        results = [vb._latency_trial(design, profile, effect, rng, tail) for _ in range(trials)]
    _, _, low, high = vb.rate(results, "mlgate")
    return low, high


def test_timing_false_alarms_stay_below_half_a_percent() -> None:
    for key in ("inference", "training", "p95"):
        low, _ = rates(vb.DESIGNS[key], "noisy", 0.0, 3000)
        assert low <= 0.005, key


def test_inference_plus_ten_percent_is_caught_in_noise() -> None:
    _, high = rates(vb.DESIGNS["inference"], "noisy", 0.10, 150)
    assert high >= 0.99


def test_latency_p95_plus_ten_percent_is_caught_with_ten_minutes_of_load() -> None:
    for tail in (False, True):
        _, high = rates(vb.LONGER["p95"], "noisy", 0.10, 100, tail)
        assert high >= 0.90, tail


def test_training_plus_five_percent_with_sixty_repeats() -> None:
    _, high = rates(vb.LONGER["training"], "noisy", 0.05, 100)
    assert high >= 0.90


def test_asv_default_misses_what_mlgate_catches() -> None:
    rng = np.random.default_rng(1)
    results = [vb._timing_trial(vb.DESIGNS["inference"], "noisy", 0.10, rng) for _ in range(100)]
    assert vb.rate(results, "mlgate")[0] > vb.rate(results, "asv default")[0]


def test_duet_replay_keeps_false_alarms_low_and_beats_interleaved_on_p95() -> None:
    """Sessions of 10 runs drawn from the committed recording of real duet and interleaved load."""
    rows = duet_bench.replay(draws=300, sessions=(10,), seed=2026)
    cell = {(r["design"], r["metric"], r["change"]): r for r in rows}
    assert all(r["ci"][0] <= 0.005 for r in rows if r["change"] == "A/A")
    assert cell["duet", "paired median", "+10%"]["ci"][1] >= 0.95
    for change in ("+10%", "+10% tail-only"):
        assert cell["duet", "p95", change]["rate"] > cell["interleaved", "p95", change]["rate"], change


def test_instruction_replay_has_no_false_alarm_and_catches_two_percent_more_trees() -> None:
    """The committed callgrind recording (8 processes a version) through the comparator's rule."""
    trials = json.loads(instructions_bench.OUT.read_text())["trials"]
    for version in ("v1", "more_trees"):
        for first, second in itertools.pairwise(trials):
            for region, count in first[version].items():
                assert not instructions_bench.flagged(region, count, second[version][region]), region
    assert all(instructions_bench.flagged("fit", t["v1"]["fit"], t["more_trees"]["fit"]) for t in trials)


def test_confirming_looks_keep_alpha_and_nearly_the_power_of_all_runs_at_once() -> None:
    """Sessions of real duet runs judged with up to 3 looks (checks/sequential.py)."""
    rows = duet_bench.confirm(draws=300, seed=2026)
    cell = {(r["design"], r["metric"], r["change"]): r for r in rows}
    assert all(r["ci"][0] <= 0.01 for r in rows if r["change"] == "A/A")
    looked, once = cell["confirming looks", "p95", "+10%"], cell["all runs at once", "p95", "+10%"]
    assert looked["rate"] > cell["one look", "p95", "+10%"]["rate"] + 0.3
    assert looked["ci"][1] >= once["rate"], (looked, once)
