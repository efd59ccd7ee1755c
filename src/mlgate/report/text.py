"""Report as text: the terminal table (rich) and Markdown for a pull request or CI job summary."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mlgate.report.model import STATUS_ORDER, Report

STYLE = {"pass": "green", "fail": "bold red", "warn": "yellow", "skip": "dim", "error": "magenta"}
ICON = {"pass": "✅", "fail": "❌", "warn": "⚠️", "skip": "⏭️", "error": "💥"}


def headline(report: Report) -> str:
    counts = report.counts()
    shown = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    verdict = "REGRESSION" if report.verdict == "regression" else "no regression"
    return f"{report.candidate} vs {report.baseline}: {verdict} ({shown})"


def print_summary(report: Report, console: Console) -> None:
    """The rich table every command ends with."""
    table = Table(title=f"mlgate compare: {report.candidate} vs {report.baseline}", title_justify="left")
    table.add_column("status")
    table.add_column("check")
    table.add_column("result", overflow="fold")
    for finding in report.checks:
        style = STYLE[finding.status]
        table.add_row(f"[{style}]{finding.status}[/]", escape(finding.name), escape(finding.message))
    console.print(table)
    style = "bold red" if report.verdict == "regression" else "bold green"
    console.print(f"[{style}]{escape(headline(report))}[/]")


def markdown(report: Report) -> str:
    """GitHub-flavoured Markdown: verdict, one table of checks, then the details that matter."""
    lines = [
        f"## mlgate: {headline(report)}",
        "",
        f"Baseline `{report.baseline}` ({report.meta.get('baseline', {}).get('source', '')}), "
        f"candidate `{report.candidate}` ({report.meta.get('candidate', {}).get('source', '')}); "
        f"{report.meta.get('rows_compared', 0):,} rows from {report.meta.get('data', '')}.",
        "",
        "| | check | result |",
        "|---|---|---|",
    ]
    for f in sorted(report.checks, key=lambda f: STATUS_ORDER[f.status]):
        message = f.message.replace("|", "\\|")
        lines.append(f"| {ICON[f.status]} {f.status} | {f.name} | {message} |")
    steps = report.step_rows()
    if steps:
        lines += [
            "",
            "<details><summary>Feature parity by step</summary>",
            "",
            "| # | step | change | status | columns | rows |",
            "|---|---|---|---|---|---|",
        ]
        for row in steps:
            cols = ", ".join(
                [
                    *(f"+{c}" for c in row["added"]),
                    *(f"-{c}" for c in row["removed"]),
                    *(c["column"] for c in row["columns"]),
                ][:6]
            )
            lines.append(
                f"| {row['position']} | {row['step']} | {row['change']} | {row['status']} "
                f"| {cols} | {row['rows']} |"
            )
        lines += ["", "</details>"]
    lines += [
        "",
        f"_mlgate {report.meta.get('mlgate_version', '')}, {report.meta.get('created', '')}_",
        "",
    ]
    return "\n".join(lines)
