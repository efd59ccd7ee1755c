"""Evidence: everything one comparison judges, as typed values.

Each module here owns one file format or source, for reading (and where mlgate writes it, the
names it writes): prediction sides and their steps (``predictions``), a served API's answers
(``served``), load-run folders (``load_runs``) and asv result files (``asv_results``). Commands turn
their flags into an ``Evidence``; ``mlgate.compare.run`` judges it (docs/design.md, the one gate).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the readers import pandas and more; naming their types costs nothing
    import pandas as pd

    from mlgate.evidence.asv_results import CommitResults
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


@dataclass(frozen=True)
class Evidence:
    """What the user pointed a comparison at: both versions, the rows, and measured evidence."""

    baseline: Path  # artifact folder or predictions file
    candidate: Path
    spec: ModelSpec
    data: Path | None = None  # labelled rows; None: the spec's holdout (artifacts) or none
    target: str | None = None
    id_column: str | None = None
    trust_pickle: bool = False
    served: tuple[Served, ...] = ()
    measured: Measured = Measured()
