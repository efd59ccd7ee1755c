"""Findings and the report that collects them: plain data with ``to_dict()``, no formatting."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["pass", "fail", "warn", "skip", "error"]
STATUS_ORDER: dict[str, int] = {"fail": 0, "error": 1, "warn": 2, "pass": 3, "skip": 4}
# Keys of ``details`` that other modules read: written by the checks, read through the accessors below.
STEPS = "steps"  # feature parity: one row per pipeline step (written by checks.parity)
DESIGN_KEY = "design_key"  # run-level verdicts: what an A/A history must match (checks.runs)
AA_D = "d"  # run-level verdicts: the worse-positive change before calibration, what A/A history keeps
# What the report's summary and pictures read (report/summary.py, report/figures.py):
UNIT, SCALE = "unit", "scale"  # measured findings: the metric's unit; "log" (a ratio) or "linear"
RELATIVE, HIGHER_IS_BETTER = "relative", "higher_is_better"  # change is a ratio - 1; direction
RUNS_BASELINE, RUNS_CANDIDATE = "baseline_runs", "candidate_runs"  # run-level: values in run order
MORE_RUNS, MORE_ROWS = "more_runs_to_settle", "rows_to_settle"  # what would settle an inconclusive one
MORE_OF = "more_of"  # what one of MORE_RUNS is, when not the section's usual (an asv round, a load run)
THIN_RUNS, RECOMMENDED_REQUESTS = "thin_runs", "recommended_requests"  # latency: runs too short
TOO_NOISY = "too_noisy"  # the A/A canary tripped, so this kind of verdict cannot fail
FIRST_DIFFERENCE = "first_difference"  # feature parity: the first step whose output differs
CHANGED_MOST = "changed_most"  # shadow replay: the requests answered most differently, with inputs
FEATURE = "feature"  # input checks: the feature a finding is about


@dataclass(kw_only=True)
class Finding:
    """One check's outcome on one metric; ``status`` fail is the only one that makes a regression.

    Built with keywords only. ``details`` is the free-form part of report.json; what other modules
    read from it has a typed accessor here (``aa_sample``, ``Report.step_rows``)."""

    name: str
    kind: str
    status: Status
    message: str
    metric: str = ""
    baseline: float | None = None
    candidate: float | None = None
    change: float | None = None
    ci: tuple[float, float] | None = None
    threshold: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def aa_sample(self) -> tuple[str, float] | None:
        """(design key, d) of a judged run-level verdict, what an A/A history records; else None."""
        key, d = self.details.get(DESIGN_KEY), self.details.get(AA_D)
        return None if key is None or d is None else (str(key), float(d))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "metric": self.metric,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "change": self.change,
            "ci": list(self.ci) if self.ci is not None else None,
            "threshold": self.threshold,
            "message": self.message,
            "details": self.details,
        }


@dataclass
class Report:
    """Everything one comparison found, plus what it compared and how."""

    baseline: str
    candidate: str
    checks: list[Finding]
    meta: dict[str, Any] = field(default_factory=dict)
    plots: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        """Short, for pytest's and debuggers' displays: the verdict and counts, not every check."""
        shown = ", ".join(f"{n} {s}" for s, n in self.counts().items() if n)
        return f"Report({self.candidate} vs {self.baseline}: {self.verdict}; {shown})"

    @property
    def verdict(self) -> Literal["pass", "regression"]:
        return "regression" if any(f.status == "fail" for f in self.checks) else "pass"

    def step_rows(self) -> list[dict[str, Any]]:
        """The feature-parity table (one row per pipeline step), or [] when steps were not compared."""
        return next((list(f.details.get(STEPS, [])) for f in self.checks if f.metric == STEPS), [])

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("pass", "fail", "warn", "skip", "error"), 0)
        for finding in self.checks:
            counts[finding.status] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "counts": self.counts(),
            "checks": [f.to_dict() for f in self.checks],
            "meta": self.meta,
            "plots": self.plots,
        }
