"""The report's one screen: its sections in a fixed order, each with a count and its worst finding,
one short sentence per finding, what would settle what is still open, and the policy's changes.

Every renderer (terminal, Markdown, HTML) shows the same things in the same order from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlgate.report.model import (
    FIRST_DIFFERENCE,
    HIGHER_IS_BETTER,
    MORE_OF,
    MORE_ROWS,
    MORE_RUNS,
    RECOMMENDED_REQUESTS,
    RELATIVE,
    SCALE,
    STATUS_ORDER,
    THIN_RUNS,
    TOO_NOISY,
    UNIT,
    Finding,
    Report,
)
from mlgate.report.numbers import percent, sig

# What each status means to a reader deciding on a release.
WORDS = {"pass": "pass", "warn": "inconclusive", "fail": "regression", "skip": "skipped", "error": "error"}
TITLES = {
    "reproducibility": "reproducibility",
    "quality": "quality",
    "speed": "training and inference speed",
    "latency": "API latency",
    "served": "served parity",
    "shift": "shift",
    "replay": "shadow replay",
    "inputs": "live inputs vs training data",
}
TOO_WIDE = 10.0  # an interval spanning more than this factor says nothing about the size of a change
MAX_SHORT = 110  # characters of a message's first clause kept as its short sentence


def section_of(finding: Finding) -> str:
    """The section a finding belongs to, by what it checks."""
    if finding.name.startswith("served parity"):
        return "served"
    if finding.kind.startswith("timing"):
        return "speed"
    if finding.kind.startswith("latency"):
        return "latency"
    if finding.kind in ("quality", "shift", "replay", "inputs"):
        return finding.kind
    return "reproducibility"  # the id join, feature and prediction parity


@dataclass(frozen=True)
class Section:
    """One line of the summary: a section's findings, their counts and the one that matters most."""

    key: str
    findings: list[Finding]

    @property
    def title(self) -> str:
        return TITLES[self.key]

    @property
    def worst(self) -> Finding | None:
        """The finding that decides the section: A/A canaries only when nothing else was judged."""
        judged = [f for f in self.findings if not f.kind.endswith("canary")] or self.findings
        return min(judged, key=_severity, default=None)

    @property
    def status(self) -> str:
        """The status of its worst finding."""
        return self.worst.status if self.worst is not None else "skip"

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.findings)


def sections(report: Report) -> list[Section]:
    """The sections that have findings, in the fixed order."""
    grouped: dict[str, list[Finding]] = {key: [] for key in TITLES}
    for finding in report.checks:
        grouped[section_of(finding)].append(finding)
    return [Section(key, found) for key, found in grouped.items() if found]


def _severity(finding: Finding) -> tuple[int, float]:
    """Status first; among equals, the change furthest past its threshold comes first."""
    return STATUS_ORDER[finding.status], -_worse_by(finding)


def _worse_by(finding: Finding) -> float:
    """How far a finding's change is on its worse side, in units of its threshold (0 when unknown)."""
    if finding.change is None or not finding.threshold:
        return 0.0
    return worse_sign(finding) * finding.change / abs(finding.threshold)


def worse_sign(finding: Finding) -> float:
    """+1 when a higher value is worse (time, error), -1 when it is better (R², throughput)."""
    return -1.0 if finding.details.get(HIGHER_IS_BETTER) else 1.0


def measured(finding: Finding) -> bool:
    """A judged change of quality, speed or latency (A/A canaries included), with its threshold."""
    kind = finding.kind.removesuffix(" canary")
    return (
        kind in ("quality", "timing", "latency")
        and finding.change is not None
        and finding.threshold is not None
    )


def too_wide(finding: Finding) -> bool:
    """A relative interval spanning more than a factor of ten: too few runs to estimate the change."""
    if finding.ci is None or not relative(finding):
        return False
    low, high = finding.ci
    return low <= -1 or (1 + high) / (1 + low) > TOO_WIDE


def relative(finding: Finding) -> bool:
    """Is the change a ratio minus one (shown in %), rather than a difference in the metric's units?"""
    if RELATIVE in finding.details:
        return bool(finding.details[RELATIVE])
    return finding.details.get(SCALE) == "log"


def amount(finding: Finding, value: float, sign: bool = True) -> str:
    """A change or interval end as the reader reads it: +5.2%, -0.0007, +0.5 pt, +3.1 ms."""
    if relative(finding):
        return percent(value, sign=sign)
    unit = finding.details.get(UNIT, "")
    if unit == "share":
        return f"{sig(value * 100, sign=sign)} pt"
    if unit and unit not in ("s", "bytes", "seconds"):
        return f"{sig(value, sign=sign)} {unit}"
    return sig(value, sign=sign)


def interval_words(finding: Finding) -> str:
    """ "(-45% to +72%)", or "(too few runs to estimate)" when the interval spans over a factor of 10."""
    if finding.ci is None:
        return ""
    if too_wide(finding):
        return " (too few runs to estimate)"
    return f" ({amount(finding, finding.ci[0])} to {amount(finding, finding.ci[1])})"


def short(finding: Finding) -> str:
    """One sentence: the change, its interval and what it means, or the message's first clause."""
    if not measured(finding) or finding.change is None or finding.status in ("skip", "error"):
        return _first_clause(finding.message)
    head = f"{amount(finding, finding.change)}{interval_words(finding)}"
    return f"{head}: {_reason(finding)}"


def named(finding: Finding) -> str:
    """ "name: short sentence", without saying the name twice when the sentence starts with it."""
    sentence = short(finding)
    return sentence if sentence.startswith(f"{finding.name}:") else f"{finding.name}: {sentence}"


def _reason(finding: Finding) -> str:
    details = finding.details
    limit = f"the {amount(finding, abs(finding.threshold or 0), sign=False)}"
    limit += " margin" if finding.kind == "quality" else " minimum effect"
    if finding.status == "fail":
        return f"worse beyond {limit}"
    if finding.status == "pass":
        if _entirely_better(finding):
            return "better"
        return f"within {limit}"
    if details.get(TOO_NOISY):
        return "too noisy to judge (the A/A canary moved)"
    if THIN_RUNS in details and RECOMMENDED_REQUESTS in details:
        return f"too few requests per run to tell; {details[RECOMMENDED_REQUESTS]:,}+ needed"
    more = details.get(MORE_RUNS)
    if more is not None:
        return f"inconclusive; {_runs(int(more), details.get(MORE_OF, 'run'))} per side would settle it"
    rows = details.get(MORE_ROWS)
    if rows is not None:
        return f"inconclusive; about {sig(float(rows))} rows would settle it"
    return "inconclusive" if finding.ci is not None else _first_clause(finding.message)


def _entirely_better(finding: Finding) -> bool:
    """Better beyond doubt: the whole interval, or a single value without one, on the better side."""
    low, high = finding.ci if finding.ci is not None else (finding.change or 0.0, finding.change or 0.0)
    return worse_sign(finding) * (high if worse_sign(finding) > 0 else low) < 0


def _runs(more: int, noun: str = "run") -> str:
    """ "3 more runs", "1 more asv round", "more than 100 more load runs"."""
    return f"more than 100 more {noun}s" if more > 100 else f"{more} more {noun}{'s' if more > 1 else ''}"


def _first_clause(message: str) -> str:
    clause = message.split("; ")[0]
    return clause if len(clause) <= MAX_SHORT else clause[: MAX_SHORT - 1].rstrip() + "…"


def next_steps(report: Report) -> list[str]:
    """What a reviewer could do about each section that is not a plain pass, one line each."""
    steps = []
    for section in sections(report):
        worst = section.worst
        if worst is None or worst.status in ("pass", "skip"):
            continue
        steps.append(f"{section.title}: {_advice(section, worst)}")
    return steps


# What would move each section's limit, and what more evidence each section takes.
LIMIT = {
    "quality": "the margin",
    "speed": "the minimum effect",
    "latency": "the minimum effect",
    "replay": "the policy (parity, shift, latency.error_rate)",
    "shift": "the shift thresholds (shift.psi_fail)",
}
MORE = {"speed": "asv round", "latency": "load run"}


def _advice(section: Section, worst: Finding) -> str:
    if worst.status == "error":
        return f"fix {named(worst)}"
    if section.key == "inputs":  # facts about the traffic, not about either version
        words = {"fail": "flagged", "warn": "to look at"}
        found = ", ".join(f"{section.count(s)} {w}" for s, w in words.items() if section.count(s))
        return f"{found}; the traffic is not what the model was trained on: {named(worst)}"
    if worst.status == "fail":
        regressions = section.count("fail")
        plural = "s" if regressions > 1 else ""
        limit = LIMIT.get(section.key, "the parity tolerance")
        return f"{regressions} regression{plural}; fix, or change {limit} if it is intended"
    if worst.name == "prediction parity":
        return "predictions changed beyond the tolerance; expected when the model changed (quality judges it)"
    if worst.name == "feature parity":
        step = worst.details.get(FIRST_DIFFERENCE, "?")
        return f"outputs change first at step {step!r}; confirm the change is intended"
    open_ = [f for f in section.findings if f.status == "warn" and not f.kind.endswith("canary")]
    if not open_:
        return "the A/A canary is inconclusive: the machine was noisy"
    if any(f.details.get(TOO_NOISY) for f in open_):
        return "too noisy to judge here; rerun on a quieter machine, or record A/A history with calibrate"
    runs = sorted(((int(f.details[MORE_RUNS]), f) for f in open_ if MORE_RUNS in f.details), key=_first)
    rows = [int(f.details[MORE_ROWS]) for f in open_ if MORE_ROWS in f.details]
    more = MORE.get(section.key, "run")
    if runs:
        fewest, nearest = runs[0]
        noun = nearest.details.get(MORE_OF, more)  # a pytest-benchmark "save" is no asv round
        if fewest <= 100:
            return f"{len(open_)} inconclusive; {_runs(fewest, noun)} a side would settle the closest"
        bigger = ": a bigger plan (check --plan full)" if noun == more else ""
        return f"{len(open_)} inconclusive; {_runs(fewest, noun)} a side each{bigger}"
    if rows:
        closest = sig(float(min(rows)))
        return f"{len(open_)} inconclusive; about {closest} labelled rows would settle the closest"
    return f"{len(open_)} inconclusive: {named(worst)}"


def _first(pair: tuple[int, Finding]) -> int:
    return pair[0]


def policy_changes(policy: dict[str, Any], defaults: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(dotted key, value, default) for every policy value that differs from the default."""
    ours, theirs = _flat(policy), _flat(defaults)
    return [(k, v, theirs.get(k)) for k, v in ours.items() if k not in theirs or not _same(v, theirs[k])]


def _flat(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float | int):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)
    return bool(a == b)
