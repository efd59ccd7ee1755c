"""`mlgate check --confirm-budget`: more load runs while latency verdicts stay inconclusive.

The looks are planned when the first A/B load is done and before anything is judged: as many
looks of the first one's size (up to ``sequential.MAX_LOOKS``) as its measured duration fits in the
budget. That number depends on how long the load took, never on how the two sides compare, which
is what keeps the spending function's levels honest (checks/sequential.py, docs/design.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from rich.markup import escape

from mlgate.checks import sequential
from mlgate.compare import measured
from mlgate.evidence import LoadRuns, Measured
from mlgate.evidence.load_runs import read_pair
from mlgate.infra import console
from mlgate.policy import Policy
from mlgate.serving import locust_run as load
from mlgate.serving import server as serve


@dataclass(frozen=True)
class LoadLook:
    """What a further look repeats: the design, its runs and their plan, and the servers' models."""

    design: Callable[..., list[dict[str, Any]]]  # duet_run.duet or locust_run.interleaved
    runs: int
    plan: load.LoadPlan
    models: tuple[Path, Path]  # baseline, candidate
    seconds: float  # how long the first look's load took


def planned_looks(budget: float, look_seconds: float) -> int:
    """The first look and as many more of its duration as the budget holds."""
    extra = int(budget // look_seconds) if look_seconds > 0 else 0
    return 1 + max(0, min(sequential.MAX_LOOKS - 1, extra))


def confirm(
    evidence: Measured, look: LoadLook, budget: float, policy: Policy, work: Path, say: Any
) -> Measured:
    """The load evidence after as many confirming looks as the undecided metrics and the budget call
    for; each look restarts both servers and adds ``look.runs`` runs a side."""
    assert evidence.load is not None
    planned = planned_looks(budget, look.seconds)
    runs: tuple[int, ...] = (len(evidence.load.baseline),)
    evidence = replace(evidence, load_looks=runs, planned_looks=planned)
    if planned == 1:
        say(
            f"confirm: a look takes about {look.seconds:.0f} s here, more than the "
            f"{budget:.0f} s budget: no confirming looks (raise --confirm-budget)"
        )
        return evidence
    started = time.perf_counter()
    for number in range(2, planned + 1):
        latency_only = replace(evidence, asv=None, asv_canary=None)  # the asv verdicts cannot change here
        pending = [f.metric for f in measured(latency_only, policy) if sequential.undecided(f)]
        if not pending:
            say(f"confirm: every latency verdict settled at look {number - 1} of up to {planned}")
            return evidence
        left = budget - (time.perf_counter() - started)
        if left < look.seconds:
            say(
                f"confirm: {left:.0f} s of the budget left, a look takes about {look.seconds:.0f} s: stopping"
            )
            return evidence
        folder = work / "load" / f"ab-look-{number}"
        with console.err.status(f"confirm look {number}/{planned}") as status:
            more = _load_again(look, folder, partial(_show, status, f"confirm look {number}/{planned}"))
        assert evidence.load is not None
        combined = LoadRuns(evidence.load.baseline + more.baseline, evidence.load.candidate + more.candidate)
        runs = (*runs, len(combined.baseline))
        evidence = replace(evidence, load=combined, load_looks=runs)
        say(
            f"confirm look {number} of up to {planned}: {look.runs} more runs a side for "
            f"{escape(', '.join(pending))} ({escape(str(folder))})"
        )
    return evidence


def _show(status: Any, prefix: str, text: str) -> None:
    status.update(f"{prefix}: {text}")


def _load_again(look: LoadLook, folder: Path, progress: Callable[[str], None]) -> LoadRuns:
    base_dir, cand_dir = look.models
    with serve.background(base_dir) as base_url, serve.background(cand_dir) as cand_url:
        look.design(
            load.default_locustfiles(), base_url, cand_url, look.runs, look.plan, folder, progress=progress
        )
    return read_pair(folder / "baseline", folder / "candidate", ("load", "load"))
