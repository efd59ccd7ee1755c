"""Verdicts from pytest-benchmark saves: each benchmark judged by the run-clustered rule (checks/runs.py).

pytest-benchmark's own ``--benchmark-compare-fail=median:5%`` fails on any point difference past a
percentage, whatever the noise. Here a benchmark fails only when it is slower with confidence
*and* by at least the timing minimum effect, as asv timings do.

The value of a save (or block) is the lower quartile of its rounds, not the median: on a shared
machine other processes only ever add time, and they often slow long stretches of a process's
rounds; the lower quartile stays the code's own cost while up to three quarters of the rounds are
hit, and unlike the minimum it does not follow one lucky burst (measured in docs/design.md). The
unit of replication:

- several saves a side (separate pytest processes): one value per save; with as many saves a side,
  save k of each side forms a pair in the order they were made (old, new, old, new cancels drift);
- one save a side: its rounds, in the order they ran, cut into ``BLOCKS`` contiguous blocks. That
  measures only the noise inside one process, and one process can run far slower than the next, so
  this design gives an estimate but no pass or fail, until this machine's A/A history for it (``mlgate
  calibrate --pytest-benchmark-*``) says how far two processes stray.

A save without ``--benchmark-save-data`` keeps no rounds: its benchmarks get a point comparison,
marked inconclusive, never a pass or a fail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from mlgate.checks.runs import MIN_HISTORY, RunValues, demote_across_machines, judge_all
from mlgate.evidence import BenchmarkPair
from mlgate.evidence.pytest_benchmark import SAVE_DATA, BenchmarkSave
from mlgate.policy import Policy
from mlgate.report import Finding
from mlgate.report.model import (
    DESIGN_KEY,
    HIGHER_IS_BETTER,
    MORE_OF,
    MORE_RUNS,
    RELATIVE,
    RUNS_BASELINE,
    UNIT,
)
from mlgate.report.numbers import percent, sig

BLOCKS = 10  # blocks of rounds per side when each side is one process
FAST_TAIL = 0.25  # the quantile of rounds that stands for a save or a block
PREFIX = "pytest-benchmark"


def benchmark_findings(
    pair: BenchmarkPair, policy: Policy, history: Mapping[str, Sequence[float]] | None = None
) -> list[Finding]:
    """Every benchmark of either side: judged, compared by point, or reported as one-sided."""
    base, cand = pair.baseline, pair.candidate
    names = sorted({n for save in (*base, *cand) for n in save.benchmarks})
    findings: list[Finding] = []
    timed: list[RunValues] = []
    for name in names:
        b_saves = [s for s in base if name in s.benchmarks]
        c_saves = [s for s in cand if name in s.benchmarks]
        if not b_saves or not c_saves:
            side = "baseline" if b_saves else "candidate"
            findings.append(_unjudged(name, f"measured on the {side} only (a renamed or new benchmark?)"))
        elif any(not s.benchmarks[name].rounds for s in (*b_saves, *c_saves)):
            findings.append(_point(name, b_saves, c_saves))
        else:
            timed.append(_runs(name, b_saves, c_saves, policy.timing.time))
    judged = judge_all(timed, policy.alpha, history)
    for values, finding in zip(timed, judged, strict=True):
        finding.details["value"] = f"the {FAST_TAIL:.0%} quantile of the rounds of each save (or block)"
        if values.blocks:  # one save on a side: judged by blocks of its rounds
            _one_process_a_side(finding, history or {})
    machines = {s.machine for s in (*base, *cand)}
    if len(machines) > 1:
        findings.append(
            Finding(
                name=f"{PREFIX} machine",
                kind="timing",
                status="warn",
                message="the saves come from different machines: timings are not comparable across "
                "machines, so no pytest-benchmark timing can fail",
                metric="machine",
            )
        )
        demote_across_machines(judged)
    return findings + judged


def _runs(name: str, b_saves: list[BenchmarkSave], c_saves: list[BenchmarkSave], theta: float) -> RunValues:
    runs = min(len(b_saves), len(c_saves)) >= 2
    if runs:
        b, c = ([_fast_tail(s.benchmarks[name].rounds) for s in saves] for saves in (b_saves, c_saves))
    else:
        b, c = (_blocks([x for s in ss for x in s.benchmarks[name].rounds]) for ss in (b_saves, c_saves))
    paired = len(b_saves) == len(c_saves) >= 2
    return RunValues(
        f"{PREFIX} {name}", "timing", name, "s", b, c, theta, paired=paired, run_noun="save", blocks=not runs
    )


def _fast_tail(rounds: Sequence[float] | np.ndarray) -> float:
    return float(np.quantile(rounds, FAST_TAIL))


def _blocks(rounds: list[float]) -> list[float]:
    """The fast tail of each of up to ``BLOCKS`` contiguous, nearly equal blocks of the rounds."""
    count = min(BLOCKS, len(rounds))
    return [_fast_tail(block) for block in np.array_split(np.asarray(rounds), count)] if count else []


def _one_process_a_side(finding: Finding, history: Mapping[str, Sequence[float]]) -> None:
    """Blocks of one process a side: an estimate, but a verdict only once A/A history calibrates it."""
    key = finding.details.get(DESIGN_KEY)
    blocks = len(finding.details.get(RUNS_BASELINE, []))
    if key is not None and len(history.get(str(key), ())) >= MIN_HISTORY:
        return
    finding.details["replication"] = (
        "blocks of rounds of one process a side: process-to-process variation is not measured"
    )
    if finding.status in ("pass", "fail"):
        finding.status = "warn"
    finding.details[MORE_RUNS], finding.details[MORE_OF] = 2, "save"  # three saves a side, at least
    finding.message += (
        f"; one save on a side (rounds in {blocks} blocks) cannot tell the change from "
        "process-to-process noise, so this is no verdict: save 3 or more times a side (old, new, "
        "old, new), or record A/A saves with mlgate calibrate"
    )


def _point(name: str, b_saves: list[BenchmarkSave], c_saves: list[BenchmarkSave]) -> Finding:
    b = float(np.median([s.benchmarks[name].median for s in b_saves]))
    c = float(np.median([s.benchmarks[name].median for s in c_saves]))
    change = c / b - 1 if b > 0 else float("nan")
    return Finding(
        name=f"{PREFIX} {name}",
        kind="timing",
        status="warn",
        message=f"median {sig(b * 1e3)} -> {sig(c * 1e3)} ms ({percent(change)}), a point "
        f"comparison only: inconclusive; save with {SAVE_DATA} so every round is kept",
        metric=name,
        baseline=b,
        candidate=c,
        change=change,
        details={UNIT: "s", HIGHER_IS_BETTER: False, RELATIVE: True, "point_only": True},
    )


def _unjudged(name: str, why: str) -> Finding:
    return Finding(name=f"{PREFIX} {name}", kind="timing", status="warn", message=why, metric=name)
