"""Findings and the report that collects them: plain data with ``to_dict()``, no formatting."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["pass", "fail", "warn", "skip", "error"]
STATUS_ORDER: dict[str, int] = {"fail": 0, "error": 1, "warn": 2, "pass": 3, "skip": 4}


@dataclass
class Finding:
    """One check's outcome on one metric; ``status`` fail is the only one that makes a regression."""

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

    @property
    def verdict(self) -> Literal["pass", "regression"]:
        return "regression" if any(f.status == "fail" for f in self.checks) else "pass"

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
