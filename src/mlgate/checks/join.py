"""The id join: which rows both versions (and the labelled data) share, and how many do not."""

from __future__ import annotations

import pandas as pd

from mlgate.infra.errors import MlgateError
from mlgate.report import Finding

EXAMPLES = 5  # ids named for each side's unmatched rows


def id_join(
    baseline: pd.Index, candidate: pd.Index, data: pd.Index | None, min_join: float, sources: tuple[str, str]
) -> tuple[pd.Index, Finding]:
    """The sorted common ids (restricted to ``data``'s when given) and the join finding.

    A join below ``min_join`` of the larger side is an error, not a finding: the comparison would
    describe other rows than the user meant.
    """
    common = baseline.intersection(candidate, sort=False)
    if data is not None:
        common = common.intersection(data, sort=False)
    if len(common) == 0:
        raise MlgateError(
            f"BASELINE/CANDIDATE: no common ids between {sources[0]} and {sources[1]}"
            f"{' and the data' if data is not None else ''}; compare outputs for the same rows"
        )
    coverage = len(common) / max(len(baseline), len(candidate))
    if coverage < min_join:
        raise MlgateError(
            f"BASELINE/CANDIDATE: only {coverage:.1%} of rows share an id (policy min_join "
            f"{min_join:.0%}); check the id column or lower min_join"
        )
    only_b = [str(i) for i in baseline.difference(common)[:EXAMPLES]]
    only_c = [str(i) for i in candidate.difference(common)[:EXAMPLES]]
    n_only_b, n_only_c = len(baseline) - len(common), len(candidate) - len(common)
    message = f"{len(common):,} rows joined by id ({coverage:.1%})"
    if n_only_b or n_only_c:
        message += (
            f"; {n_only_b} only in baseline{' (e.g. ' + ', '.join(only_b) + ')' if only_b else ''}, "
            f"{n_only_c} only in candidate{' (e.g. ' + ', '.join(only_c) + ')' if only_c else ''}"
        )
    finding = Finding(
        name="id join",
        kind="input",
        status="warn" if n_only_b or n_only_c else "pass",
        message=message,
        metric="coverage",
        change=coverage,
        threshold=min_join,
        details={"only_baseline": n_only_b, "only_candidate": n_only_c},
    )
    return common.sort_values(), finding
