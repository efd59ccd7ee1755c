"""Report as one self-contained HTML file: verdict, checks, step table and inline SVG plots."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from mlgate.report.model import Finding, Report
from mlgate.report.text import headline

COLOURS = {
    "pass": "#1a7f37",
    "fail": "#cf222e",
    "warn": "#9a6700",
    "skip": "#6e7781",
    "error": "#8250df",
}
BASE, CAND = "#0969da", "#e16f24"
W, H, PAD = 420, 300, 44

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1f2328;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left;
vertical-align:top}th{background:#f6f8fa}.badge{color:#fff;border-radius:4px;padding:1px 6px;font-weight:600}
.plots{display:flex;flex-wrap:wrap;gap:1.5em}figure{margin:0}figcaption{color:#57606a;font-size:12px}
svg text{font:11px system-ui,sans-serif;fill:#57606a}code{background:#f6f8fa;padding:0 3px}
"""


def html_report(report: Report) -> str:
    verdict_colour = COLOURS["fail"] if report.verdict == "regression" else COLOURS["pass"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>mlgate: {escape(report.candidate)} vs {escape(report.baseline)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1 style='color:{verdict_colour}'>{escape(headline(report))}</h1>",
        _context(report),
        "<h2>Checks</h2>",
        _checks_table(report.checks),
        "<h2>Plots</h2><div class='plots'>",
        _scatter(report.plots.get("scatter")),
        _residuals(report.plots.get("residuals")),
        _intervals([f for f in report.checks if f.kind == "quality" and f.ci is not None]),
        "</div>",
        _steps_table(report.step_rows()),
        "<h2>Policy</h2>",
        f"<pre>{escape(json.dumps(report.meta.get('policy', {}), indent=2))}</pre>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _context(report: Report) -> str:
    meta = report.meta
    rows = []
    for role in ("baseline", "candidate"):
        info = meta.get(role, {})
        rows.append(
            f"<tr><th>{role}</th><td><code>{escape(str(info.get('label', '')))}</code></td>"
            f"<td>{escape(str(info.get('source', '')))}</td><td>{escape(str(info.get('kind', '')))}</td>"
            f"<td>{escape(str(info.get('git_commit') or ''))}</td></tr>"
        )
    return (
        f"<p>{meta.get('rows_compared', 0):,} rows from {escape(str(meta.get('data', '')))}; "
        f"task {escape(str(meta.get('task', '')))}; mlgate {escape(str(meta.get('mlgate_version', '')))}, "
        f"{escape(str(meta.get('created', '')))}.</p>"
        "<table><tr><th></th><th>label</th><th>source</th><th>kind</th><th>git commit</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _badge(status: str) -> str:
    return f"<span class='badge' style='background:{COLOURS[status]}'>{status}</span>"


def _checks_table(findings: list[Finding]) -> str:
    rows = "".join(
        f"<tr><td>{_badge(f.status)}</td><td>{escape(f.name)}</td><td>{escape(f.message)}</td></tr>"
        for f in findings
    )
    return f"<table><tr><th>status</th><th>check</th><th>result</th></tr>{rows}</table>"


def _steps_table(steps: list[dict[str, Any]]) -> str:
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


def _scale(lo: float, hi: float, out_lo: float, out_hi: float) -> Any:
    span = (hi - lo) or 1.0
    return lambda v: out_lo + (v - lo) / span * (out_hi - out_lo)


def _axes(x_label: str, y_label: str) -> str:
    return (
        f"<line x1='{PAD}' y1='{H - PAD}' x2='{W - 10}' y2='{H - PAD}' stroke='#8c959f'/>"
        f"<line x1='{PAD}' y1='10' x2='{PAD}' y2='{H - PAD}' stroke='#8c959f'/>"
        f"<text x='{W / 2}' y='{H - 10}' text-anchor='middle'>{escape(x_label)}</text>"
        f"<text x='12' y='{H / 2}' transform='rotate(-90 12 {H / 2})' text-anchor='middle'>"
        f"{escape(y_label)}</text>"
    )


def _figure(svg: str, caption: str) -> str:
    return (
        f"<figure><svg xmlns='http://www.w3.org/2000/svg' width='{W}' height='{H}' role='img' "
        f"aria-label='{escape(caption)}'>{svg}</svg><figcaption>{escape(caption)}</figcaption></figure>"
    )


def _scatter(data: dict[str, list[float]] | None) -> str:
    if not data or not data["baseline"]:
        return ""
    b, c = data["baseline"], data["candidate"]
    lo, hi = min(min(b), min(c)), max(max(b), max(c))
    sx, sy = _scale(lo, hi, PAD, W - 10), _scale(lo, hi, H - PAD, 10)
    dots = "".join(f"<circle cx='{sx(x):.1f}' cy='{sy(y):.1f}' r='1.6'/>" for x, y in zip(b, c, strict=True))
    svg = (
        _axes("baseline prediction", "candidate prediction")
        + f"<line x1='{sx(lo):.1f}' y1='{sy(lo):.1f}' x2='{sx(hi):.1f}' y2='{sy(hi):.1f}' "
        "stroke='#8c959f' stroke-dasharray='4 3'/>"
        + f"<g fill='{CAND}' fill-opacity='0.45'>{dots}</g>"
        + f"<text x='{PAD + 4}' y='20'>{lo:.4g} .. {hi:.4g}</text>"
    )
    return _figure(svg, f"Candidate vs baseline predictions ({len(b)} rows; dashed: equal)")


def _residuals(data: dict[str, list[float]] | None) -> str:
    if not data:
        return ""
    edges, b, c = data["edges"], data["baseline"], data["candidate"]
    top = max(max(b), max(c)) or 1
    sx, sy = _scale(edges[0], edges[-1], PAD, W - 10), _scale(0, top, H - PAD, 10)

    def path(counts: list[float]) -> str:
        points = [f"M{sx(edges[0]):.1f},{sy(0):.1f}"]
        for k, count in enumerate(counts):
            points.append(f"L{sx(edges[k]):.1f},{sy(count):.1f}L{sx(edges[k + 1]):.1f},{sy(count):.1f}")
        points.append(f"L{sx(edges[-1]):.1f},{sy(0):.1f}")
        return "".join(points)

    svg = (
        _axes("residual (truth - prediction)", "rows")
        + f"<path d='{path(b)}' fill='{BASE}' fill-opacity='0.25' stroke='{BASE}'/>"
        + f"<path d='{path(c)}' fill='{CAND}' fill-opacity='0.25' stroke='{CAND}'/>"
        + f"<text x='{W - 150}' y='22' style='fill:{BASE}'>baseline</text>"
        + f"<text x='{W - 150}' y='36' style='fill:{CAND}'>candidate</text>"
        + f"<text x='{PAD}' y='{H - PAD + 14}'>{edges[0]:.3g}</text>"
        + f"<text x='{W - 10}' y='{H - PAD + 14}' text-anchor='end'>{edges[-1]:.3g}</text>"
    )
    return _figure(svg, "Residual distributions on the same rows")


def _intervals(findings: list[Finding]) -> str:
    """One row per metric, each on its own axis: the interval, the estimate, 0 and the margin."""
    if not findings:
        return ""
    step = (H - PAD - 10) / len(findings)
    svg = []
    for k, f in enumerate(findings):
        assert f.ci is not None and f.change is not None
        relative = bool(f.details.get("relative"))
        scale = 100.0 if relative else 1.0
        est, low, high = f.change * scale, f.ci[0] * scale, f.ci[1] * scale
        margin = (f.threshold or 0.0) * scale
        lo, hi = min(low, margin, 0.0), max(high, margin, 0.0)
        pad = (hi - lo) * 0.08 or 1.0
        sx = _scale(lo - pad, hi + pad, 120, W - 20)
        y = 28 + k * step
        colour = COLOURS[f.status]
        unit = "%" if relative else ""
        svg.append(
            f"<text x='8' y='{y + 4:.1f}'>{escape(f.metric)} {'change %' if relative else 'difference'}"
            f"</text><line x1='{sx(0):.1f}' y1='{y - 12:.1f}' x2='{sx(0):.1f}' y2='{y + 12:.1f}' "
            f"stroke='#8c959f'/><line x1='{sx(margin):.1f}' y1='{y - 12:.1f}' x2='{sx(margin):.1f}' "
            f"y2='{y + 12:.1f}' stroke='#cf222e' stroke-dasharray='2 2'/>"
            f"<line x1='{sx(low):.1f}' y1='{y:.1f}' x2='{sx(high):.1f}' y2='{y:.1f}' stroke='{colour}' "
            f"stroke-width='3'/><circle cx='{sx(est):.1f}' cy='{y:.1f}' r='4' fill='{colour}'/>"
            f"<text x='{sx(0):.1f}' y='{y + 24:.1f}' text-anchor='middle'>0</text>"
            f"<text x='{sx(margin):.1f}' y='{y - 16:.1f}' text-anchor='middle' style='fill:#cf222e'>"
            f"margin {margin:.3g}{unit}</text>"
        )
    return _figure("".join(svg), "Quality change with its interval; grey: no change, red: the margin")
