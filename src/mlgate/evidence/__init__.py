"""Evidence: everything one comparison judges, as typed values.

Each module here owns one file format or source, for reading (and where mlgate writes it, the
names it writes): prediction sides and their steps (``predictions``), a served API's answers
(``served``), load-run folders (``load_runs``), asv result files (``asv_results``),
pytest-benchmark saves (``pytest_benchmark``) and replay folders (``replay``). Commands turn their
flags into an ``Evidence``; ``mlgate.compare.run`` judges it (docs/design.md, the one gate).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the readers import pandas and more; naming their types costs nothing
    import pandas as pd

    from mlgate.evidence.asv_results import CommitResults
    from mlgate.evidence.pytest_benchmark import BenchmarkSave
    from mlgate.evidence.replay import Replay
    from mlgate.model.spec import ModelSpec


@dataclass(frozen=True)
class LoadRuns:
    """Summaries of load runs of both sides (``mlgate load`` folders), in run order."""

    baseline: list[dict[str, Any]]
    candidate: list[dict[str, Any]]


@dataclass(frozen=True)
class AsvPair:
    """asv results of the baseline's and the candidate's commit (or environment run)."""

    baseline: CommitResults
    candidate: CommitResults


@dataclass(frozen=True)
class BenchmarkPair:
    """pytest-benchmark saves of both sides; each save is one pytest process, so one run."""

    baseline: list[BenchmarkSave]
    candidate: list[BenchmarkSave]


@dataclass(frozen=True)
class Served:
    """What a served version answered for the comparison's rows (indexed by id)."""

    role: str  # "baseline" or "candidate": served parity compares it with that side offline
    url: str
    predictions: pd.DataFrame


@dataclass(frozen=True)
class Measured:
    """Timing and latency evidence, each with its optional A/A canary of the same job."""

    asv: AsvPair | None = None
    asv_canary: AsvPair | None = None
    load: LoadRuns | None = None
    load_canary: LoadRuns | None = None
    history: Mapping[str, Sequence[float]] = field(default_factory=dict)  # this machine's A/A history
    left_out: tuple[str, ...] = ()  # evidence steps the user skipped (each is reported as a skip)
    # Confirming looks (checks/sequential.py): runs a side after each look, of the planned looks.
    load_looks: tuple[int, ...] = ()
    planned_looks: int = 1
    benchmarks: BenchmarkPair | None = None  # pytest-benchmark saves (evidence/pytest_benchmark.py)
    replay: Replay | None = None  # recorded traffic replayed to both servers (evidence/replay.py)

    def labels(self) -> tuple[str, str] | None:
        """Names for both sides when no prediction evidence names them: the saves, commits or runs."""
        if self.benchmarks is not None:
            base, cand = (
                side[0].label if len(side) == 1 else f"{side[0].label}..{side[-1].label}"
                for side in (self.benchmarks.baseline, self.benchmarks.candidate)
            )
            return base, cand
        if self.asv is not None:
            return self.asv.baseline.commit[:8], self.asv.candidate.commit[:8]
        if self.replay is not None:
            return self.replay.labels()
        if self.load is not None:
            return "baseline", "candidate"
        return None


@dataclass(frozen=True)
class Evidence:
    """What the user pointed a comparison at: both versions, the rows, and measured evidence."""

    baseline: Path | None  # artifact folder or predictions file; None: measured evidence only
    candidate: Path | None
    spec: ModelSpec | None  # None only when both sides are None (measured evidence only)
    data: Path | None = None  # labelled rows; None: the spec's holdout (artifacts) or none
    target: str | None = None
    id_column: str | None = None
    trust_pickle: bool = False
    served: tuple[Served, ...] = ()
    measured: Measured = Measured()
