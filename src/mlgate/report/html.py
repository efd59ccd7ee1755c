"""Report as one self-contained HTML file: the one screen that decides, the pictures, then every
check by section (one sentence each, the full text folded), the step table and the policy."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from mlgate.evidence.outputs import PROBA_PREFIX
from mlgate.policy import DEFAULTS
from mlgate.report import figures, forest
from mlgate.report.figures import COLOURS
from mlgate.report.model import CHANGED_MOST, FEATURE, STATUS_ORDER, Finding, Report
from mlgate.report.summary import WORDS, named, next_steps, policy_changes, sections, short
from mlgate.report.text import COUNTED, headline

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1f2328;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.3em}h2{font-size:1.15em;margin-top:2em}h3{font-size:1em;margin:1.4em 0 .4em}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left;
vertical-align:top}th{background:#f6f8fa}.badge{color:#fff;border-radius:4px;padding:1px 6px;font-weight:600;
white-space:nowrap}.n{text-align:right;width:4em}.plots{display:flex;flex-wrap:wrap;gap:1.5em}figure{margin:0}
figcaption{color:#57606a;font-size:12px;max-width:720px}svg text{font:11px system-ui,sans-serif;fill:#57606a}
code{background:#f6f8fa;padding:0 3px}details>summary{cursor:pointer;color:#57606a}.next li{margin:.2em 0}
"""


def html_report(report: Report) -> str:
    verdict_colour = COLOURS["fail"] if report.verdict == "regression" else COLOURS["pass"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>mlgate: {escape(report.candidate)} vs {escape(report.baseline)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1 style='color:{verdict_colour}'>{escape(headline(report))}</h1>",
        _context(report),
        _summary(report),
        _pictures(report),
        "<h2>Every check</h2>",
        _checks(report),
        _steps_table(report),
        _replay_tables(report),
        _policy(report),
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _badge(status: str) -> str:
    return f"<span class='badge' style='background:{COLOURS[status]}'>{WORDS[status]}</span>"


def _context(report: Report) -> str:
    meta = report.meta
    sides = "; ".join(
        f"{role} <code>{escape(str(meta.get(role, {}).get('label', '')))}</code> "
        f"({escape(str(meta.get(role, {}).get('source', '')))}"
        + (
            f", commit {escape(str(meta[role]['git_commit']))[:12]}"
            if meta.get(role, {}).get("git_commit")
            else ""
        )
        + ")"
        for role in ("baseline", "candidate")
    )
    return (
        f"<p>{sides}. {meta.get('rows_compared', 0):,} rows from {escape(str(meta.get('data', '')))}; "
        + (f"task {escape(str(meta['task']))}; " if meta.get("task") else "")  # none: measured evidence only
        + f"mlgate {escape(str(meta.get('mlgate_version', '')))}, "
        f"{escape(str(meta.get('created', '')))}.</p>"
    )


def _summary(report: Report) -> str:
    rows = []
    for section in sections(report):
        worst = section.worst
        shown = named(worst) if worst is not None else ""
        counts = "".join(f"<td class='n'>{section.count(s)}</td>" for s in COUNTED)
        rows.append(
            f"<tr><td>{escape(section.title)}</td><td>{_badge(section.status)}</td>{counts}"
            f"<td>{escape(shown)}</td></tr>"
        )
    table = (
        "<table class='summary'><tr><th>section</th><th>status</th>"
        + "".join(f"<th class='n'>{WORDS[s]}</th>" for s in COUNTED)
        + "<th>worst finding</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    steps = next_steps(report)
    advice = (
        "<p><b>Next:</b></p><ul class='next'>" + "".join(f"<li>{escape(s)}</li>" for s in steps) + "</ul>"
        if steps
        else ""
    )
    return table + advice


def _pictures(report: Report) -> str:
    plots = report.plots
    drawn = [
        forest.forest(report.checks),
        forest.differences(report.checks),
        figures.batch_curve(plots.get("batch_curve")),
        *figures.latency_profile(plots.get("latency_profile")),
        *figures.run_order(report.checks),
        forest.aa_spread(plots.get("aa")),
        figures.scatter(plots.get("scatter")),
        figures.residuals(plots.get("residuals")),
        figures.scatter(
            plots.get("replay_answers"),
            "Shadow replay: each record's answer (classifiers: the probability of the baseline's label)",
            ("baseline answer", "candidate answer"),
            "replay-answers",
        ),
        figures.scatter(
            plots.get("replay_latency"),
            "Shadow replay: each request's latency (log scale), candidate vs baseline",
            ("baseline log10 ms", "candidate log10 ms"),
            "replay-latency",
        ),
    ]
    shown = [d for d in drawn if d]
    return "<h2>Pictures</h2><div class='plots'>" + "".join(shown) + "</div>" if shown else ""


def _checks(report: Report) -> str:
    parts = []
    for section in sections(report):
        rows = "".join(
            f"<tr><td>{_badge(f.status)}</td><td>{escape(f.name)}</td><td>{escape(short(f))}"
            f"<details><summary>details</summary>{escape(f.message)}</details></td></tr>"
            for f in sorted(section.findings, key=lambda f: STATUS_ORDER[f.status])
        )
        parts.append(
            f"<h3>{escape(section.title)} {_badge(section.status)}</h3>"
            f"<table><tr><th>status</th><th>check</th><th>result</th></tr>{rows}</table>"
        )
    return "".join(parts)


def _steps_table(report: Report) -> str:
    steps = report.step_rows()
    if not steps:
        return ""
    body = []
    for row in steps:
        columns = "; ".join(
            f"{c['column']}: {c['rows']} rows, max abs {c['max_abs']}, ids {c['worst_ids']}"
            for c in row["columns"][:5]
        )
        changes = ", ".join([*(f"+{c}" for c in row["added"]), *(f"-{c}" for c in row["removed"])][:8])
        colour = {"same": "pass", "differs": "fail", "downstream": "warn"}.get(row["status"], "skip")
        body.append(
            f"<tr><td>{row['position']}</td><td>{escape(row['step'])}</td><td>{escape(row['change'])}</td>"
            f"<td><span class='badge' style='background:{COLOURS[colour]}'>{escape(row['status'])}</span>"
            f"</td><td>{escape(changes)}</td><td>{escape(columns)}</td></tr>"
        )
    return (
        "<h2>Feature parity by step</h2><table><tr><th>#</th><th>step</th><th>change</th>"
        "<th>status</th><th>columns added/removed</th><th>values beyond tolerance</th></tr>"
        + "".join(body)
        + "</table>"
    )


INPUT_CHECKS = {  # the input checks' columns: metric -> heading
    "unseen_categories": "unseen values",
    "out_of_range": "outside training range",
    "missing_share": "missing share (Fisher)",
    "category_frequencies": "frequencies (chi-square)",
    "distribution": "distribution (KS)",
}


def _replay_tables(report: Report) -> str:
    """The requests whose answers changed most (with what they sent), and the input checks by feature."""
    changed: list[dict[str, Any]] = next(
        (f.details[CHANGED_MOST] for f in report.checks if f.details.get(CHANGED_MOST)), []
    )
    parts = []
    if changed:
        rows = "".join(
            f"<tr><td class='n'>#{c['request']}</td><td class='n'>{c['record']}</td>"
            f"<td>{escape(_answer_text(c['baseline']))}</td><td>{escape(_answer_text(c['candidate']))}</td>"
            f"<td><code>{escape(json.dumps(c['records'][:1], default=str)[1:-1])}</code></td></tr>"
            for c in changed
        )
        parts.append(
            "<h3>Records answered most differently</h3><table><tr><th>request</th><th>record</th>"
            f"<th>baseline</th><th>candidate</th><th>inputs</th></tr>{rows}</table>"
        )
    by_feature: dict[str, dict[str, Finding]] = {}
    for f in report.checks:
        if f.kind == "inputs" and f.metric in INPUT_CHECKS:
            by_feature.setdefault(str(f.details.get(FEATURE, "")), {})[f.metric] = f
    if by_feature:
        ordered = sorted(
            by_feature.items(), key=lambda kv: min(STATUS_ORDER[f.status] for f in kv[1].values())
        )
        rows = "".join(
            f"<tr><td>{escape(feature)}</td>"
            + "".join(_input_cell(checks.get(metric)) for metric in INPUT_CHECKS)
            + "</tr>"
            for feature, checks in ordered
        )
        heads = "".join(f"<th>{escape(h)}</th>" for h in INPUT_CHECKS.values())
        parts.append(f"<h3>Input checks by feature</h3><table><tr><th>feature</th>{heads}</tr>{rows}</table>")
    return "<h2>Shadow replay</h2>" + "".join(parts) if parts else ""


def _answer_text(answer: dict[str, Any]) -> str:
    """One record's answer: the prediction, then each class probability, numbers to 4 digits."""
    return ", ".join(
        (f"P({str(key).removeprefix(PROBA_PREFIX)}) " if str(key).startswith(PROBA_PREFIX) else "")
        + (f"{value:.4g}" if isinstance(value, float) else str(value))
        for key, value in answer.items()
    )


def _input_cell(finding: Finding | None) -> str:
    """A badge and the check's one number: a share of rows, points of missing share, V or KS."""
    if finding is None:
        return "<td></td>"
    value = finding.change
    shown = ""
    if value is not None and finding.status != "skip":
        shown = {
            "unseen_categories": f"{value:.1%}",
            "out_of_range": f"{value:.1%}",
            "missing_share": f"{value * 100:.1f} pt",
            "category_frequencies": f"V {value:.2f}",
            "distribution": f"KS {value:.2f}",
        }[finding.metric]
    return f"<td>{_badge(finding.status)} {escape(shown)}</td>"


def _policy(report: Report) -> str:
    policy = report.meta.get("policy", {})
    changes = policy_changes(policy, DEFAULTS)
    if changes:
        rows = "".join(
            f"<tr><td><code>{escape(key)}</code></td><td>{escape(str(value))}</td><td>{escape(str(default))}</td></tr>"
            for key, value, default in changes
        )
        table = f"<table><tr><th>setting</th><th>value</th><th>default</th></tr>{rows}</table>"
    else:
        table = "<p>Every setting is the default.</p>"
    full = escape(json.dumps(policy, indent=2))
    return f"<h2>Policy</h2>{table}<details><summary>the full policy</summary><pre>{full}</pre></details>"
