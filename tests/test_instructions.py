"""Instruction counts: real callgrind probes of a gradient-boosted model, and their rule in the comparator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlgate.asv_suite import instructions
from mlgate.checks.asv_timing import asv_findings
from mlgate.evidence.asv_results import CommitResults, Measurement
from mlgate.policy import read_policy

SPEC = "model_specs:counted"  # diabetes, HistGradientBoosting; `more_trees` fits 2% more trees
FIT = "bench_instructions.FitInstructions.track_fit_instructions"


def commit(name: str, counts: dict[str, float]) -> CommitResults:
    """asv results of one commit holding instruction tracks with these values."""
    found = {
        key: Measurement(key.split(".", 1)[1], key, "track", "instructions", {}, value)
        for key, value in counts.items()
    }
    return CommitResults(name, "box", "existing-py", Path(f"{name}.json"), found, {})


def judged(base: float, cand: float) -> tuple[str, str]:
    (finding,) = asv_findings(commit("a", {FIT: base}), commit("b", {FIT: cand}), read_policy())
    return finding.status, finding.message


@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        (0.02, "fail", "+2.00% worse (minimum effect 1.00%)"),
        (0.003, "pass", "within"),
        (-0.05, "pass", "better"),
    ],
)
def test_an_instruction_count_change_beyond_the_minimum_effect_is_a_regression(
    change: float, status: str, says: str
) -> None:
    found, message = judged(178_856_911, 178_856_911 * (1 + change))
    assert found == status and says in message, message


def test_without_valgrind_the_counts_are_skipped_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instructions.shutil, "which", lambda tool: None)
    cache = instructions.FitInstructions().setup_cache()
    with pytest.raises(NotImplementedError, match="install Debian's valgrind"):
        instructions.FitInstructions().setup(cache)


@pytest.fixture(scope="module")
def counted_env() -> Iterator[None]:
    missing = instructions.missing_counter()
    if missing:
        pytest.skip(missing)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLGATE_BENCH_SPEC", SPEC)
        instructions.spec.cache_clear()
        instructions.bench_frame.cache_clear()
        yield
    instructions.spec.cache_clear()
    instructions.bench_frame.cache_clear()


def fit_count(version: str, monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setenv("MLGATE_BENCH_VERSION", version)
    return float(instructions.FitInstructions().setup_cache()["counts"]["fit"])


@pytest.mark.slow  # three callgrind processes, about 20 s each
def test_fit_counts_repeat_and_see_two_percent_more_trees(
    counted_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, again, more = (fit_count(v, monkeypatch) for v in ("v1", "v1", "more_trees"))
    assert abs(again / first - 1) < 0.005  # the A/A spread goal
    assert judged(first, again)[0] == "pass"
    status, message = judged(first, more)
    assert status == "fail" and 0.01 < more / first - 1 < 0.03, message


@pytest.mark.slow  # one callgrind process
def test_predict_counts_grow_with_the_rows_and_track_through_asv(counted_env: None) -> None:
    bench = instructions.PredictInstructions()
    cache = bench.setup_cache()
    # The holdout's 142 rows stand in for 10,000 (the suite says so; asv shows it with -v).
    counts = [bench.track_predict_instructions(cache, n) for n in (1, 100, 142)]
    assert 0 < counts[0] < counts[1] < counts[2]
