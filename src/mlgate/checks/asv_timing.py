"""Verdicts from asv results: timings over rounds, memory, size and quality tracks, with directions.

asv treats every number as lower-is-better and judges with a ratio and a rank test on a handful of
samples. Here each benchmark declares its direction, timings are judged over rounds (separate
processes) with a minimum effect, and the batch-size curve is split into per-call overhead and
per-row cost so a regression in either is named as such.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mlgate import stats
from mlgate.checks.runs import RunValues, demote_across_machines, judge_all
from mlgate.evidence.asv_results import CommitResults, Measurement, check_same_design
from mlgate.policy import Policy
from mlgate.report import Finding, Status
from mlgate.report.model import HIGHER_IS_BETTER, RELATIVE, UNIT
from mlgate.report.numbers import percent, sig

# asv has no notion of direction; ours, by the benchmark's name.
# Every track of mlgate.asv_suite is in one of these two (a test checks it): asv itself treats every
# number as lower-is-better.
SHARES = ("holdout_r2", "holdout_accuracy", "holdout_macro_f1", "same_predictions")  # changes in points
HIGHER_IS_BETTER_TRACKS = ("rows_per_second", *SHARES)
INSTRUCTIONS = ("predict_instructions", "fit_instructions")  # callgrind counts (asv_suite.instructions)
LOWER_IS_BETTER_TRACKS = ("model_bytes", "holdout_rmse", "holdout_mae", "holdout_log_loss", *INSTRUCTIONS)
# Tracks computed on fixed data: no noise, so a change is a change (no test needed). Instruction
# counts wobble by about 0.2% between processes, far inside their minimum effect.
DETERMINISTIC = ("model_bytes", "holdout_rmse", "holdout_mae", "holdout_log_loss", *SHARES, *INSTRUCTIONS)
CURVE = "time_predict"  # the batch-size curve: time = a + b * rows


def asv_findings(
    base: CommitResults,
    cand: CommitResults,
    policy: Policy,
    history: Mapping[str, Sequence[float]] | None = None,
) -> list[Finding]:
    """Every benchmark of the two commits compared, plus overhead and per-row cost."""
    check_same_design(base, cand)
    findings: list[Finding] = []
    same_machine = base.machine == cand.machine and _hardware(base) == _hardware(cand)
    if not same_machine:
        findings.append(
            Finding(
                name="asv machine",
                kind="timing",
                status="warn",
                message=f"baseline measured on {base.machine}, candidate on {cand.machine}: timings "
                "are not comparable across machines, so no timing can fail",
                metric="machine",
            )
        )
    timed: list[RunValues] = []
    for name in sorted(set(base.measurements) | set(cand.measurements)):
        b, c = base.measurements.get(name), cand.measurements.get(name)
        if b is None or c is None:
            side = "baseline" if c is None else "candidate"
            findings.append(_unjudged(name, "warn", f"measured on the {side} only"))
            continue
        if b.skipped and c.skipped:
            findings.append(_unjudged(name, "skip", "does not apply to this model (asv: n/a)"))
            continue
        if b.result is None or c.result is None:
            which = " and ".join(s for s, m in (("baseline", b), ("candidate", c)) if m.result is None)
            findings.append(_unjudged(name, "error", f"failed on the {which}"))
            continue
        if b.kind in ("time", "peakmem") and min(len(b.rounds), len(c.rounds)) >= 2:
            timed.append(_timed(b, c, policy))
        else:
            findings.append(_single_values(b, c, policy))
    timed += _curve(base, cand, policy)
    alpha = policy.alpha
    judged = judge_all(timed, alpha, history)
    if not same_machine:
        demote_across_machines(judged)
    return findings + judged


def _unjudged(name: str, status: Status, why: str) -> Finding:
    """A benchmark that could not be compared, and why."""
    return Finding(name=f"asv {name}", kind="timing", status=status, message=f"{name}: {why}", metric=name)


def _hardware(results: CommitResults) -> tuple[Any, ...]:
    info = results.machine_info
    return info.get("cpu"), info.get("num_cpu"), info.get("ram"), info.get("arch")


def _theta(measurement: Measurement, policy: Policy) -> float:
    timing = policy.timing
    if measurement.kind == "peakmem":
        return timing.memory
    if "Training" in measurement.benchmark or "fit" in measurement.benchmark:
        return timing.training
    return timing.time


def _timed(b: Measurement, c: Measurement, policy: Policy) -> RunValues:
    unit = "s" if b.kind == "time" else "bytes"
    return RunValues(f"asv {b.name}", "timing", b.name, unit, b.rounds, c.rounds, _theta(b, policy))


def _single_values(b: Measurement, c: Measurement, policy: Policy) -> Finding:
    """Tracks and single-sample results: compare the two values against the minimum effect."""
    assert b.result is not None and c.result is not None
    higher = b.benchmark.endswith(HIGHER_IS_BETTER_TRACKS)
    deterministic = b.benchmark.endswith(DETERMINISTIC)
    absolute = b.benchmark.endswith(SHARES)
    theta = _track_theta(b.benchmark, policy)
    change = c.result - b.result if absolute or b.result == 0 else c.result / b.result - 1
    worse = -change if higher else change
    status: Status
    if b.benchmark.endswith("same_predictions"):
        status = "pass" if c.result >= 1.0 else "warn"
        message = f"{b.name}: {c.result:.1%} of rows predicted exactly like the baseline artifact" + (
            "" if status == "pass" else " (outputs changed; the quality checks judge that)"
        )
    elif worse > theta and deterministic:
        status, message = (
            "fail",
            f"{b.name}: {_shown(change, absolute)} worse "
            f"(minimum effect {_shown(theta, absolute, sign=False)})",
        )
    elif worse > theta:
        status = "warn"
        message = (
            f"{b.name}: {_shown(change, absolute)} worse, one value per side so no test; "
            "judge by the timed benchmarks"
        )
    else:
        status = "pass"
        message = (
            f"{b.name}: {_shown(change, absolute)} ({'better' if worse < 0 else 'within the minimum effect'})"
        )
    return Finding(
        name=f"asv {b.name}",
        kind="timing",
        status=status,
        message=message,
        metric=b.name,
        baseline=b.result,
        candidate=c.result,
        change=change,
        threshold=theta,
        details={
            UNIT: b.unit,
            HIGHER_IS_BETTER: higher,
            "deterministic": deterministic,
            RELATIVE: not (absolute or b.result == 0),
        },
    )


def _track_theta(benchmark: str, policy: Policy) -> float:
    if "bytes" in benchmark:
        return policy.timing.size
    return policy.timing.instructions if benchmark.endswith(INSTRUCTIONS) else policy.timing.track


def _shown(change: float, absolute: bool, sign: bool = True) -> str:
    return sig(change, sign=sign) if absolute else percent(change, sign=sign)


def _curve(base: CommitResults, cand: CommitResults, policy: Policy) -> list[RunValues]:
    """Per-call overhead (ms) and per-row cost (µs) per round, from the batch-size curve."""
    curves = [curve_rounds(results) for results in (base, cand)]
    fits = [fit_rounds(*c) if c is not None else None for c in curves]
    if any(f is None for f in fits):
        return []
    (a_b, b_b), (a_c, b_c) = fits  # type: ignore[misc]
    theta = policy.timing.time
    return [
        RunValues("asv per-call overhead", "timing", "per-call overhead (a)", "ms", a_b, a_c, theta),
        RunValues("asv per-row cost", "timing", "per-row cost (b)", "µs", b_b, b_c, theta),
    ]


def curve_rounds(results: CommitResults) -> tuple[np.ndarray, np.ndarray] | None:
    """Batch sizes and the per-round seconds of a predict call at each (rounds x sizes)."""
    curve = sorted(
        (float(m.params.get("rows", "nan")), m.rounds)
        for m in results.measurements.values()
        if m.benchmark.endswith(CURVE) and m.rounds and m.result is not None
    )
    if len(curve) < 3 or len({len(r) for _, r in curve}) != 1:
        return None
    return np.array([r for r, _ in curve]), np.array([r for _, r in curve]).T


def fit_rounds(rows: np.ndarray, times: np.ndarray) -> tuple[list[float], list[float]] | None:
    """Per round, the per-call overhead a (ms) and per-row cost b (µs) of ``time = a + b x rows``."""
    overhead, per_row = [], []
    for seconds in times:
        a, b = stats.relative_line_fit(rows, seconds)
        overhead.append(a * 1000)
        per_row.append(b * 1e6)
    if min(overhead) <= 0 or min(per_row) <= 0:
        return None
    return overhead, per_row
