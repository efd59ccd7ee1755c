"""Write a report's four files into one folder, atomically, never over an earlier report."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from mlgate.infra import atomic
from mlgate.report.html import html_report
from mlgate.report.junit import junit_xml
from mlgate.report.model import Report
from mlgate.report.text import markdown

FILES = ("report.json", "report.md", "report.html", "report.xml")


def default_folder(results: Path, baseline: str, candidate: str) -> Path:
    """results/reports/<UTC time>-<baseline>-vs-<candidate>, with a suffix if that exists."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{stamp}-{baseline}-vs-{candidate}")
    folder = results / "reports" / name
    k = 2
    while folder.exists():
        folder = results / "reports" / f"{name}-{k}"
        k += 1
    return folder


def write(report: Report, folder: Path) -> None:
    """All four files appear together or not at all."""
    kept = f"the complete report in {folder}"
    with atomic.new_directory(folder, force=False, flag="--out", replaceable=False, keep=kept) as tmp:
        (tmp / "report.json").write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n")
        (tmp / "report.md").write_text(markdown(report))
        (tmp / "report.html").write_text(html_report(report))
        (tmp / "report.xml").write_text(junit_xml(report))
