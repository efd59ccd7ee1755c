"""The plans of `mlgate check`: how much evidence it gathers (light: usage errors need only this)."""

from __future__ import annotations

from dataclasses import dataclass

SKIPPABLE = ("asv", "load")
LOAD_DESIGNS = ("duet", "interleaved")


@dataclass(frozen=True)
class Plan:
    """How much evidence a check gathers (docs/design.md, sample plans)."""

    name: str
    asv_bench: str  # asv --bench regex ({quality}: the task's quality classes); "" runs the whole suite
    load_runs: int  # load runs per side
    load_seconds: float  # measured load of both designs (A/B and the A/A canary), start-ups aside
    skip: frozenset[str] = frozenset()  # evidence steps left out (SKIPPABLE), each listed as a skip
    # Both servers run here, so by default at once, each body to both (docs/design.md, duet load).
    load_design: str = "duet"
    # Extra load time for confirming looks at inconclusive latency verdicts (0: none).
    confirm_seconds: float = 0.0


PLANS = {
    # Short but honest: inference and model benchmarks with three rounds (the quality tracks of the
    # model's task; same-predictions is the compare's own parity), predict instruction counts (a
    # verdict a busy machine cannot blur), five load runs a side within ~3 min.
    "quick": Plan("quick", "Inference.time_predict|PredictInstructions|ModelSize|{quality}", 5, 200),
    # The full suite and sample plans, ten load runs a side within ~20 min: decisive p95 verdicts.
    "full": Plan("full", "", 10, 1200),
}
