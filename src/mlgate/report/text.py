"""Report as text: the terminal summary (rich) and Markdown for a pull request or CI job summary.

Both follow the report's one screen (report/summary.py): the verdict, one line per section, what
would settle what is open; every check after it, folded in Markdown and behind -v in the terminal.
"""

from __future__ import annotations

import json

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mlgate.policy import DEFAULTS
from mlgate.report.model import STATUS_ORDER, Report
from mlgate.report.summary import WORDS, named, next_steps, policy_changes, sections, short

STYLE = {"pass": "green", "fail": "bold red", "warn": "yellow", "skip": "dim", "error": "magenta"}
ICON = {"pass": "✅", "fail": "❌", "warn": "⚠️", "skip": "⏭️", "error": "💥"}
COUNTED = ("pass", "warn", "fail", "error")  # what a section counts (skips are listed, not counted)


def headline(report: Report) -> str:
    """ "v2 vs v1: REGRESSION (3 regression, 22 inconclusive, 17 pass)"."""
    counts = report.counts()
    shown = ", ".join(
        f"{counts[s]} {WORDS[s]}" for s in sorted(counts, key=lambda s: STATUS_ORDER[s]) if counts[s]
    )
    verdict = "REGRESSION" if report.verdict == "regression" else "no regression"
    return f"{report.candidate} vs {report.baseline}: {verdict} ({shown})"


def print_summary(report: Report, console: Console, every: bool = False) -> None:
    """Verdict first, then two lines per section (its status and counts, its worst finding) and what
    would settle what is open; ``every`` (-v) adds a table of every check."""
    style = "bold red" if report.verdict == "regression" else "bold green"
    console.print(f"[{style}]{escape(headline(report))}[/]")
    for section in sections(report):
        counts = ", ".join(f"{section.count(s)} {WORDS[s]}" for s in COUNTED if section.count(s))
        status = f"[{STYLE[section.status]}]{WORDS[section.status]:<13}[/]"
        console.print(f"{section.title:<28} {status}{counts}", highlight=False)
        if section.worst is not None:
            worst = f"  {named(section.worst)}"
            console.print(escape(worst), style="dim", overflow="ellipsis", no_wrap=True, highlight=False)
    steps = next_steps(report)
    if steps:
        console.print("next:")
        for step in steps:
            console.print(f"  - {escape(step)}", overflow="ellipsis", no_wrap=True, highlight=False)
    if every:
        _print_every_check(report, console)


def _print_every_check(report: Report, console: Console) -> None:
    table = Table(title="every check", title_justify="left")
    table.add_column("status")
    table.add_column("check")
    table.add_column("result", overflow="fold")
    for finding in report.checks:
        style = STYLE[finding.status]
        table.add_row(f"[{style}]{WORDS[finding.status]}[/]", escape(finding.name), escape(finding.message))
    console.print(table)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(report: Report) -> str:
    """GitHub-flavoured Markdown that fits a PR comment: the summary table, every check folded."""
    lines = [
        f"## mlgate: {headline(report)}",
        "",
        f"Baseline `{report.baseline}` ({report.meta.get('baseline', {}).get('source', '')}), "
        f"candidate `{report.candidate}` ({report.meta.get('candidate', {}).get('source', '')}); "
        f"{report.meta.get('rows_compared', 0):,} rows from {report.meta.get('data', '')}.",
        "",
        "| section | status | " + " | ".join(WORDS[s] for s in COUNTED) + " | worst finding |",
        "|---|---|---|---|---|---|---|",
    ]
    for section in sections(report):
        worst = section.worst
        shown = named(worst) if worst is not None else ""
        status = f"{ICON[section.status]} {WORDS[section.status]}"
        counts = " | ".join(str(section.count(s)) for s in COUNTED)
        lines.append(f"| {section.title} | {status} | {counts} | {_cell(shown)} |")
    steps = next_steps(report)
    if steps:
        lines += ["", "**Next:**", "", *(f"- {_cell(step)}" for step in steps)]
    lines += ["", "<details><summary>Every check</summary>", "", "| | check | result |", "|---|---|---|"]
    for section in sections(report):
        for f in sorted(section.findings, key=lambda f: STATUS_ORDER[f.status]):
            lines.append(f"| {ICON[f.status]} {WORDS[f.status]} | {_cell(f.name)} | {_cell(short(f))} |")
    lines += ["", "</details>"]
    steps_table = _steps_markdown(report)
    if steps_table:
        lines += [
            "",
            "<details><summary>Feature parity by step</summary>",
            "",
            *steps_table,
            "",
            "</details>",
        ]
    lines += _policy_markdown(report)
    lines += [
        "",
        f"_mlgate {report.meta.get('mlgate_version', '')}, {report.meta.get('created', '')}_",
        "",
    ]
    return "\n".join(lines)


def _steps_markdown(report: Report) -> list[str]:
    steps = report.step_rows()
    if not steps:
        return []
    lines = ["| # | step | change | status | columns | rows |", "|---|---|---|---|---|---|"]
    for row in steps:
        cols = ", ".join(
            [
                *(f"+{c}" for c in row["added"]),
                *(f"-{c}" for c in row["removed"]),
                *(c["column"] for c in row["columns"]),
            ][:6]
        )
        cells = (row["position"], row["step"], row["change"], row["status"], cols, row["rows"])
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return lines


def _policy_markdown(report: Report) -> list[str]:
    """The settings that differ from the defaults, then the whole policy folded (as in the HTML)."""
    policy = report.meta.get("policy", {})
    changes = policy_changes(policy, DEFAULTS)
    lines = (
        ["", "| policy | value | default |", "|---|---|---|"] if changes else ["", "Policy: the defaults."]
    )
    lines += [f"| {key} | {_cell(str(value))} | {_cell(str(default))} |" for key, value, default in changes]
    folded = ["<details><summary>The full policy</summary>", "", "```json", json.dumps(policy, indent=2)]
    return [*lines, "", *folded, "```", "</details>"]
