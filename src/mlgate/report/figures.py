"""The report's pictures as inline SVG (no scripts, no CDN): each function draws one figure from data
the comparison prepared, or returns "" when that data is absent.

Colours: the baseline is always blue and the candidate orange; a change is coloured by its status.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from mlgate.report.model import RUNS_BASELINE, RUNS_CANDIDATE, Finding
from mlgate.report.numbers import sig

COLOURS = {
    "pass": "#1a7f37",
    "fail": "#cf222e",
    "warn": "#9a6700",
    "skip": "#6e7781",
    "error": "#8250df",
}
BASE, CAND, GRID, BAND, GREY = "#0969da", "#e16f24", "#8c959f", "#eaeef2", "#57606a"
W, H, PAD = 420, 300, 44
LEFT = 64  # room for tick labels like "200 ms" left of a y axis


def figure(name: str, svg: str, caption: str, width: float = W, height: float = H) -> str:
    return (
        f"<figure data-plot='{name}'><svg xmlns='http://www.w3.org/2000/svg' width='{width:.0f}' "
        f"height='{height:.0f}' role='img' aria-label='{escape(caption)}'>{svg}</svg>"
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def scale(lo: float, hi: float, out_lo: float, out_hi: float) -> Callable[[float], float]:
    span = (hi - lo) or 1.0
    return lambda v: out_lo + (v - lo) / span * (out_hi - out_lo)


def _axes(x_label: str, y_label: str, colours: tuple[str, str] = (GREY, GREY)) -> str:
    return (
        f"<line x1='{LEFT}' y1='{H - PAD}' x2='{W - 10}' y2='{H - PAD}' stroke='{GRID}'/>"
        f"<line x1='{LEFT}' y1='10' x2='{LEFT}' y2='{H - PAD}' stroke='{GRID}'/>"
        f"<text x='{W / 2}' y='{H - 10}' text-anchor='middle' style='fill:{colours[0]}'>"
        f"{escape(x_label)}</text>"
        f"<text x='12' y='{H / 2}' transform='rotate(-90 12 {H / 2})' text-anchor='middle' "
        f"style='fill:{colours[1]}'>{escape(y_label)}</text>"
    )


def _legend(x: float, y: float) -> str:
    return (
        f"<text x='{x}' y='{y}' style='fill:{BASE}'>● baseline</text>"
        f"<text x='{x}' y='{y + 14}' style='fill:{CAND}'>● candidate</text>"
    )


def _log_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks between two positive numbers (a few per decade)."""
    ticks = []
    for exponent in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for mantissa in (1, 2, 5):
            value = mantissa * 10.0**exponent
            if lo <= value <= hi:
                ticks.append(value)
    return ticks if len(ticks) >= 2 else [lo, hi]


def _y_log_axis(
    lo: float, hi: float, top: float, bottom: float, unit: str
) -> tuple[Callable[[float], float], str]:
    """A log scale on y with labelled ticks; returns the scale and its SVG."""
    sy = scale(math.log(lo), math.log(hi), bottom, top)
    marks = "".join(
        f"<line x1='{LEFT - 4}' y1='{y:.1f}' x2='{LEFT}' y2='{y:.1f}' stroke='{GRID}'/>"
        f"<text x='{LEFT - 6}' y='{y + 4:.1f}' text-anchor='end'>{t:g}{unit}</text>"
        for t, y in ((t, sy(math.log(t))) for t in _log_ticks(lo, hi))
    )
    return (lambda v: sy(math.log(v))), marks


def scatter(
    data: dict[str, list[float]] | None,
    caption: str = "Candidate vs baseline predictions",
    axes: tuple[str, str] = ("baseline prediction", "candidate prediction"),
    name: str = "scatter",
    unit: str = "",
) -> str:
    """One dot per row (baseline, candidate) and the dashed line where both are equal."""
    if not data or not data["baseline"]:
        return ""
    b, c = data["baseline"], data["candidate"]
    lo, hi = min(min(b), min(c)), max(max(b), max(c))
    sx, sy = scale(lo, hi, LEFT, W - 10), scale(lo, hi, H - PAD, 10)
    dots = "".join(f"<circle cx='{sx(x):.1f}' cy='{sy(y):.1f}' r='1.6'/>" for x, y in zip(b, c, strict=True))
    svg = (
        _axes(*axes, (BASE, CAND))
        + f"<g fill='{CAND}' fill-opacity='0.45'>{dots}</g>"
        + f"<line x1='{sx(lo):.1f}' y1='{sy(lo):.1f}' x2='{sx(hi):.1f}' y2='{sy(hi):.1f}' "
        f"stroke='{BASE}' stroke-width='1.5' stroke-dasharray='4 3'/>"
        + f"<text x='{LEFT + 4}' y='20'>{sig(lo)} .. {sig(hi)}{unit}</text>"
    )
    return figure(name, svg, f"{caption} ({len(b)} points; dashed: equal)")


def residuals(data: dict[str, list[float]] | None) -> str:
    if not data:
        return ""
    edges, b, c = data["edges"], data["baseline"], data["candidate"]
    top = max(max(b), max(c)) or 1
    sx, sy = scale(edges[0], edges[-1], LEFT, W - 10), scale(0, top, H - PAD, 10)

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
        + _legend(W - 150, 22)
        + f"<text x='{LEFT}' y='{H - PAD + 14}'>{sig(edges[0])}</text>"
        + f"<text x='{W - 10}' y='{H - PAD + 14}' text-anchor='end'>{sig(edges[-1])}</text>"
    )
    return figure("residuals", svg, "Residual distributions on the same rows")


def batch_curve(data: dict[str, Any] | None) -> str:
    """Milliseconds per predict call against rows per call, both versions: each asv round a point,
    and the fitted line a + b x rows, so per-call overhead (left) and per-row cost (right) show."""
    if not data or not all(data.get(role) for role in ("baseline", "candidate")):
        return ""
    sides = [(data["baseline"], BASE, 0.92), (data["candidate"], CAND, 1.08)]
    rows = sorted({n for side, _, _ in sides for n in side["rows"]})
    values = [v for side, _, _ in sides for round_ms in side["rounds_ms"] for v in round_ms if v > 0]
    if not values or min(rows) <= 0:
        return ""
    lo_y, hi_y = min(values) / 1.3, max(values) * 1.3
    lo_x, hi_x = min(rows) / 1.5, max(rows) * 1.5
    sx_log = scale(math.log(lo_x), math.log(hi_x), LEFT + 10, W - 10)
    sy, y_marks = _y_log_axis(lo_y, hi_y, 10, H - PAD, " ms")
    parts = [_axes("rows per call (log)", "ms per call (log)"), y_marks]
    for t in [
        10.0**k for k in range(math.ceil(math.log10(min(rows))), math.floor(math.log10(max(rows))) + 1)
    ]:
        parts.append(
            f"<text x='{sx_log(math.log(t)):.1f}' y='{H - PAD + 14}' text-anchor='middle'>{t:,.0f}</text>"
        )
    for side, colour, jitter in sides:
        dots = "".join(
            f"<circle cx='{sx_log(math.log(n * jitter)):.1f}' cy='{sy(v):.1f}' r='2'/>"
            for round_ms in side["rounds_ms"]
            for n, v in zip(side["rows"], round_ms, strict=True)
            if v > 0
        )
        parts.append(f"<g fill='{colour}' fill-opacity='0.55'>{dots}</g>")
        a, b = side["overhead_ms"], side["per_row_us"] / 1000
        points = [lo_x * (hi_x / lo_x) ** (k / 40) for k in range(41)]
        line = "".join(
            f"{'M' if k == 0 else 'L'}{sx_log(math.log(n)):.1f},{sy(min(max(a + b * n, lo_y), hi_y)):.1f}"
            for k, n in enumerate(points)
        )
        parts.append(f"<path d='{line}' fill='none' stroke='{colour}' stroke-width='1.5'/>")
    base, cand = data["baseline"], data["candidate"]
    parts.append(_legend(LEFT + 16, 22))
    caption = (
        f"Inference time by batch size: per-call overhead a {sig(base['overhead_ms'])} -> "
        f"{sig(cand['overhead_ms'])} ms, per-row cost b {sig(base['per_row_us'])} -> "
        f"{sig(cand['per_row_us'])} µs (asv rounds as points, lines a + b x rows)"
    )
    return figure("batch-curve", "".join(parts), caption)


def latency_profile(data: dict[str, Any] | None) -> list[str]:
    """Per endpoint: p50 to p99.9 of both versions with 95% intervals over the runs."""
    if not data:
        return []
    base, cand = data.get("baseline") or {}, data.get("candidate") or {}
    figures = []
    for endpoint in sorted(set(base) & set(cand)):
        names = [q for q in base[endpoint] if q in cand[endpoint]]
        if not names:
            continue
        cells = [
            v for side in (base, cand) for q in names for v in side[endpoint][q] if v is not None and v > 0
        ]
        sy, y_marks = _y_log_axis(min(cells) / 1.2, max(cells) * 1.2, 10, H - PAD, " ms")
        sx = scale(-0.5, len(names) - 0.5, LEFT + 10, W - 10)
        parts = [_axes("percentile", "latency (log)"), y_marks]
        for k, q in enumerate(names):
            parts.append(f"<text x='{sx(k):.1f}' y='{H - PAD + 14}' text-anchor='middle'>{q}</text>")
        for side, colour, shift in ((base, BASE, -0.12), (cand, CAND, 0.12)):
            line = []
            for k, q in enumerate(names):
                centre, low, high = side[endpoint][q]
                cx = sx(k + shift)
                line.append(f"{'M' if k == 0 else 'L'}{cx:.1f},{sy(centre):.1f}")
                tip = f"{q} {sig(centre)} ms"
                if low is not None and high is not None:  # a single run without an interval has none
                    tip += f" ({sig(low)} to {sig(high)})"
                    y1, y2 = sy(max(low, 1e-9)), sy(high)
                    parts.append(
                        f"<line x1='{cx:.1f}' y1='{y1:.1f}' x2='{cx:.1f}' y2='{y2:.1f}' stroke='{colour}' "
                        "stroke-width='2'/>"
                    )
                dot = f"<circle cx='{cx:.1f}' cy='{sy(centre):.1f}' r='3.5' fill='{colour}'>"
                parts.append(f"{dot}<title>{tip}</title></circle>")
            parts.append(f"<path d='{''.join(line)}' fill='none' stroke='{colour}' stroke-opacity='0.5'/>")
        parts.append(_legend(LEFT + 16, 22))
        figures.append(
            figure(
                "latency-profile",
                "".join(parts),
                f"{endpoint}: latency percentiles per version, 95% intervals over the runs",
            )
        )
    return figures


def run_order(findings: Sequence[Finding]) -> list[str]:
    """Per endpoint, each run's p50 and p95 in the order the runs were made (baseline and candidate
    interleaved), so drift across the load and an outlier run are visible."""
    by_endpoint: dict[str, dict[str, Finding]] = {}
    for f in findings:
        metric = str(f.metric)
        if f.kind == "latency" and metric.endswith((" p50", " p95")) and f.details.get(RUNS_BASELINE):
            endpoint, q = metric.rsplit(" ", 1)
            by_endpoint.setdefault(endpoint, {})[q] = f
    figures = []
    for endpoint, metrics in sorted(by_endpoint.items()):
        series = {q: (f.details[RUNS_BASELINE], f.details[RUNS_CANDIDATE]) for q, f in metrics.items()}
        values = [v for b, c in series.values() for v in (*b, *c) if v > 0]
        if not values:
            continue
        runs = max(max(len(b), len(c)) for b, c in series.values())
        sy, y_marks = _y_log_axis(min(values) / 1.2, max(values) * 1.2, 10, H - PAD, " ms")
        sx = scale(-0.5, 2 * runs - 0.5, LEFT + 10, W - 10)
        parts = [_axes("run, in the order made (baseline, candidate, ...)", "latency (log)"), y_marks]
        for q, (b, c) in sorted(series.items()):
            dash = "" if q == "p95" else " stroke-dasharray='4 3'"
            for side, colour, offset in ((b, BASE, 0), (c, CAND, 1)):
                points = [(sx(2 * k + offset), sy(v)) for k, v in enumerate(side) if v > 0]
                path = "".join(
                    f"{'M' if k == 0 else 'L'}{px:.1f},{py:.1f}" for k, (px, py) in enumerate(points)
                )
                parts.append(f"<path d='{path}' fill='none' stroke='{colour}'{dash}/>")
                parts.append(
                    "".join(
                        f"<circle cx='{px:.1f}' cy='{py:.1f}' r='3' fill='{colour}'/>" for px, py in points
                    )
                )
        parts.append(_legend(LEFT + 16, 22))
        parts.append(f"<text x='{W - 120}' y='22'>solid p95, dashed p50</text>")
        figures.append(
            figure("run-order", "".join(parts), f"{endpoint}: each run's p50 and p95, in run order")
        )
    return figures
