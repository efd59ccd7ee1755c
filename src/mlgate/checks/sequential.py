"""Confirming looks: more load runs for the latency metrics a check left inconclusive, with the
chance of a wrong verdict still at most alpha (docs/design.md, confirming looks).

The design is fixed before the first look is judged: up to K looks of equal size (the first look's
runs each), K from the confirm budget. Look k is judged at level alpha_k = A(t_k) - A(t_(k-1)),
from Lan and DeMets' O'Brien-Fleming-type spending function A(t) = 2 - 2 Phi(z_(1-alpha/2) / sqrt t),
where t_k is the runs so far over the K looks' runs. As the alpha_k add up to alpha, Bonferroni's
inequality over the looks bounds by alpha the chance that some look fails an unchanged metric (or
passes one worse by the minimum effect), however the looks correlate: conservative, and it needs
no joint normal boundary that a t statistic on 5-20 runs would not honour. The early looks get
little of alpha, so the last look keeps nearly the power of all its runs judged at once. A metric
keeps the verdict of the first look that decides it; stopping before look K (budget spent, or
nothing left to settle) only lowers the error.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import replace
from statistics import NormalDist

from mlgate.report import Finding

MAX_LOOKS = 4  # the first look and up to three confirming ones


def spent(fraction: float, alpha: float) -> float:
    """The error spent by information fraction ``fraction`` (O'Brien-Fleming-type spending)."""
    if fraction <= 0:
        return 0.0
    normal = NormalDist()
    return 2 * (1 - normal.cdf(normal.inv_cdf(1 - alpha / 2) / math.sqrt(min(fraction, 1.0))))


def look_alphas(runs: Sequence[int], planned_runs: int, alpha: float) -> list[float]:
    """The level of each look, given the runs a side at each look (cumulative) and the plan's total."""
    if planned_runs <= runs[0]:  # one look: the whole alpha, as without confirming looks
        return [alpha]
    fractions = [0.0, *(n / planned_runs for n in runs)]
    return [spent(b, alpha) - spent(a, alpha) for a, b in itertools.pairwise(fractions)]


def undecided(finding: Finding) -> bool:
    """A run-level latency verdict more runs could settle: inconclusive, or significant only before
    the correction for the number of metrics. Thin runs and tripped canaries need other fixes."""
    return (
        finding.kind == "latency"
        and finding.status == "warn"
        and "design" in finding.details
        and not finding.details.get("too_thin")
        and not finding.details.get("too_noisy")
    )


def first_decisive(
    looks: Sequence[list[Finding]], runs: Sequence[int], alphas: Sequence[float], planned_looks: int
) -> list[Finding]:
    """Each metric's verdict from the first look that decides it (else the last look's), in the last
    look's order, its message saying which look and at what level."""
    chosen: dict[str, Finding] = {}
    for index, findings in enumerate(looks):
        for finding in findings:
            if finding.name in chosen and not undecided(chosen[finding.name]):
                continue
            where = (
                f"look {index + 1} of up to {planned_looks}: {runs[index]} runs a side, "
                f"alpha {alphas[index]:.2g}"
            )
            chosen[finding.name] = replace(
                finding,
                message=f"{finding.message} ({where})" if "design" in finding.details else finding.message,
                details={
                    **finding.details,
                    "look": index + 1,
                    "planned_looks": planned_looks,
                    "look_alpha": alphas[index],
                },
            )
    return [chosen[f.name] for f in looks[-1] if f.name in chosen]
