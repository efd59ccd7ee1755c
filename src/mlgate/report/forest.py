"""Changes at a glance: forest plots of every judged change (one row each, worse to the right) and
where each change falls among this machine's earlier A/A comparisons. Inline SVG, like figures.py."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from mlgate.report.figures import BAND, BASE, CAND, COLOURS, GRID, figure, scale
from mlgate.report.model import SCALE, Finding
from mlgate.report.numbers import percent, sig
from mlgate.report.summary import amount, measured, relative, too_wide, worse_sign

LABEL_W = 230  # room for the metric names on the left
ROW_H = 18
WIDEST = math.log(8.0)  # forest axes stop at 8x either way; longer intervals end in an arrow


def _label(name: str, most: int = 38) -> str:
    """A metric's name to fit beside a forest plot, cut in the middle: its end holds the parameters."""
    name = name.removeprefix("asv ")
    return name if len(name) <= most else f"{name[: most // 2 - 1]}…{name[-(most // 2) :]}"


def forest(findings: Sequence[Finding]) -> str:
    """Every relative timing, latency and quality change on one log-ratio axis, worse to the right:
    the estimate and its interval per metric, the band within the minimum effect (or margin) shaded."""
    rows = [f for f in findings if measured(f) and f.change is not None and relative(f) and f.change > -1]
    if not rows:
        return ""

    def position(f: Finding, value: float) -> float:
        return worse_sign(f) * math.log1p(max(value, -0.999))

    # The axis fits the estimates, thresholds and informative intervals; an interval spanning more
    # than a factor of ten (too few runs to estimate) runs off it into an arrow.
    ends = [abs(position(f, v)) for f in rows for v in (f.change or 0, abs(f.threshold or 0))]
    ends += [abs(position(f, v)) for f in rows if not too_wide(f) for v in f.ci or ()]
    extent = min(max(max(ends) * 1.1, math.log(1.1)), WIDEST)
    nice = (0, 1, 2, 5, 10, 20, 30, 50, 100, 200, 400, 700)
    ticks = [math.log1p(p / 100) for p in nice] + [math.log1p(-p / 100) for p in nice if 0 < p < 100]
    return _forest_figure(
        "forest",
        rows,
        position,
        [-extent, extent],
        lambda x: percent(math.expm1(x), sign=True),
        [t for t in ticks if abs(t) <= extent],
        "Change of candidate vs baseline (log scale, worse to the right); shaded: within the minimum "
        "effect or margin; colour: status; dashed: too few runs to estimate",
    )


def differences(findings: Sequence[Finding]) -> str:
    """Changes measured as differences (R², accuracy, error rate, ...), worse to the right."""
    rows = [f for f in findings if measured(f) and f.change is not None and not relative(f)]
    if not rows:
        return ""
    span = max(max(abs(v) for f in rows for v in (f.change or 0, *(f.ci or ()), f.threshold or 0)), 1e-12)
    span *= 1.1

    def position(f: Finding, value: float) -> float:
        return worse_sign(f) * value

    ticks = [-span / 1.1, 0.0, span / 1.1]
    return _forest_figure(
        "differences",
        rows,
        position,
        [-span, span],
        lambda x: sig(x, sign=True),
        ticks,
        "Changes in metric units (worse to the right); shaded: within the minimum effect or margin",
    )


def _forest_figure(
    name: str,
    rows: Sequence[Finding],
    position: Callable[[Finding, float], float],
    limits: list[float],
    tick_label: Callable[[float], str],
    ticks: list[float],
    caption: str,
) -> str:
    width, height = 720, 46 + ROW_H * len(rows) + 30
    sx = scale(limits[0], limits[1], LABEL_W, width - 20)

    def x(value: float) -> float:
        return sx(min(max(value, limits[0]), limits[1]))

    parts = [
        f"<text x='{x(0):.1f}' y='14' text-anchor='middle' style='fill:{BASE}'>baseline</text>",
        f"<text x='{width - 20}' y='14' text-anchor='end' style='fill:{CAND}'>candidate worse →</text>",
        f"<text x='{LABEL_W}' y='14' style='fill:{CAND}'>← candidate better</text>",
    ]
    for k, f in enumerate(rows):
        y = 34 + k * ROW_H
        assert f.change is not None
        threshold = abs(f.threshold or 0)
        if f.details.get(SCALE) == "log":  # run-level rules judge log ratios against log(1 + θ)
            band = [-math.log1p(threshold), math.log1p(threshold)]
        elif relative(f):
            band = sorted(position(f, v) for v in (-threshold, threshold))
        else:
            band = [-threshold, threshold]
        colour = COLOURS[f.status]
        label = _label(f.name)
        parts.append(
            f"<rect x='{x(band[0]):.1f}' y='{y - 7}' width='{x(band[1]) - x(band[0]):.1f}' height='14' "
            f"fill='{BAND}'/><text x='8' y='{y + 4}'>{escape(label)}</text>"
        )
        if f.ci is not None:
            low, high = sorted(position(f, v) for v in f.ci)
            dash = " stroke-dasharray='5 3'" if too_wide(f) else ""
            parts.append(
                f"<line x1='{x(low):.1f}' y1='{y}' x2='{x(high):.1f}' y2='{y}' stroke='{colour}' "
                f"stroke-width='2.5'{dash}>"
                f"<title>{escape(f.name)}: {escape(amount(f, f.change))} ({escape(amount(f, f.ci[0]))} to "
                f"{escape(amount(f, f.ci[1]))})</title></line>"
            )
            for end, edge in ((low, limits[0]), (high, limits[1])):
                if (end < edge) if edge < 0 else (end > edge):  # cut at the axis: an arrow says so
                    tip, back = x(edge), x(edge) + (6 if edge < 0 else -6)
                    parts.append(
                        f"<path d='M{back:.1f},{y - 4}L{tip:.1f},{y}L{back:.1f},{y + 4}' fill='{colour}'/>"
                    )
        parts.append(f"<circle cx='{x(position(f, f.change)):.1f}' cy='{y}' r='4' fill='{colour}'/>")
    bottom = 34 + ROW_H * len(rows)
    parts.append(f"<line x1='{x(0):.1f}' y1='22' x2='{x(0):.1f}' y2='{bottom - 6}' stroke='{BASE}'/>")
    shown: list[float] = []
    for t in sorted(ticks, key=abs):  # zero first, then outwards, skipping labels that would collide
        if any(abs(x(t) - x(u)) < 48 for u in shown):
            continue
        shown.append(t)
        parts.append(
            f"<line x1='{x(t):.1f}' y1='{bottom - 6}' x2='{x(t):.1f}' y2='{bottom}' stroke='{GRID}'/>"
            f"<text x='{x(t):.1f}' y='{bottom + 12}' text-anchor='middle'>{escape(tick_label(t))}</text>"
        )
    return figure(name, "".join(parts), caption, width, height)


def aa_spread(data: list[dict[str, Any]] | None) -> str:
    """Where each comparison falls among this machine's earlier A/A (old vs old) comparisons."""
    if not data:
        return ""
    width, height = 720, 46 + ROW_H * len(data) + 30
    values = [v for row in data for v in (*row["history"], row["d"])]
    limit = max(max(abs(v) for v in values) * 1.15, math.log(1.02))
    sx = scale(-limit, limit, LABEL_W, width - 20)
    parts = [
        f"<text x='{LABEL_W}' y='14' style='fill:{BASE}'>● earlier A/A comparisons</text>",
        f"<text x='{width - 20}' y='14' text-anchor='end' style='fill:{CAND}'>● this comparison</text>",
    ]
    for k, row in enumerate(data):
        y = 34 + k * ROW_H
        dots = "".join(f"<circle cx='{sx(v):.1f}' cy='{y}' r='2.5'/>" for v in row["history"])
        parts.append(
            f"<text x='8' y='{y + 4}'>{escape(_label(row['name']))}</text>"
            f"<g fill='{BASE}' fill-opacity='0.5'>{dots}</g>"
            f"<circle cx='{sx(row['d']):.1f}' cy='{y}' r='4.5' fill='{CAND}'/>"
        )
    bottom = 34 + ROW_H * len(data)
    for t in (-limit / 1.15, 0.0, limit / 1.15):
        label = percent(math.expm1(t), sign=True)
        parts.append(f"<text x='{sx(t):.1f}' y='{bottom + 12}' text-anchor='middle'>{label}</text>")
    parts.append(f"<line x1='{sx(0):.1f}' y1='22' x2='{sx(0):.1f}' y2='{bottom - 6}' stroke='{GRID}'/>")
    caption = (
        "This comparison's change (worse to the right) among the machine's A/A history for the same design"
    )
    return figure("aa-spread", "".join(parts), caption, width, height)
