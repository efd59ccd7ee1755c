"""The report's one screen: verdict first, a line per section, short sentences, what to do next,
in the terminal (25 lines at 100 columns), Markdown and HTML, from a whole comparison's evidence."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from mlgate.policy import DEFAULT
from mlgate.report import Finding, Report, html, summary, text
from report_evidence import report

SECTION_ORDER = ["reproducibility", "quality", "training and inference speed", "API latency", "shift"]


@pytest.fixture(scope="module")
def regression(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """A candidate 12% slower and 5% less accurate than the baseline."""
    return report(tmp_path_factory.mktemp("regression"), slower=1.12, worse=0.05)


@pytest.fixture(scope="module")
def same(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return report(tmp_path_factory.mktemp("same"))


def terminal(report_: Report, every: bool = False) -> list[str]:
    console = Console(width=100, record=True, file=io.StringIO(), color_system=None)
    text.print_summary(report_, console, every=every)
    return console.export_text().rstrip("\n").splitlines()


def test_terminal_summary_is_one_screen_verdict_first(regression: Report, same: Report) -> None:
    for report_, verdict in ((regression, "REGRESSION"), (same, "no regression")):
        lines = terminal(report_)
        steps = summary.next_steps(report_)
        # Nothing wrapped: the verdict, two lines a section, "next:" and a line per step.
        assert len(lines) == 1 + 2 * len(summary.sections(report_)) + (1 + len(steps) if steps else 0)
        assert len(lines) <= 25, "\n".join(lines)
        assert f": {verdict} (" in lines[0]
        titles = [t for t in SECTION_ORDER if any(line.startswith(t) for line in lines)]
        assert titles == SECTION_ORDER  # every section, in the fixed order
    shown = "\n".join(terminal(regression))
    assert "training and inference speed regression" in shown
    assert "next:" in shown and "API latency: 6 regressions; fix, or change the minimum effect" in shown


def test_verbose_adds_every_check(regression: Report) -> None:
    short, every = "\n".join(terminal(regression)), "\n".join(terminal(regression, every=True))
    assert "latency /predict [batch] p99" not in short
    assert all(f.name in every for f in regression.checks if len(f.name) < 30)


def test_short_sentences_say_the_change_its_interval_and_what_it_means(regression: Report) -> None:
    by_name = {f.name: f for f in regression.checks}
    p95 = by_name["latency /predict [1 row] p95"]
    number = r"\+\d+\.\d+%"  # a signed percentage with three significant digits
    assert re.fullmatch(
        rf"{number} \({number} to {number}\): worse beyond the 5\.00% minimum effect", summary.short(p95)
    )
    assert summary.short(by_name["quality mae"]).endswith("worse beyond the 1.00% margin")
    # An interval over a factor of ten reads "too few runs to estimate", never its numbers; so does
    # one reaching -100%.
    for ci in ((-0.9, 9.0), (-1.0, 0.3)):
        wide = replace(
            p95, status="warn", change=0.132, ci=ci, details={**p95.details, "more_runs_to_settle": 40}
        )
        assert (
            summary.short(wide)
            == "+13.2% (too few runs to estimate): inconclusive; 40 more runs per side would settle it"
        )
    thin = replace(
        wide, ci=(-0.2, 0.4), details={**wide.details, "thin_runs": 300, "recommended_requests": 1000}
    )
    assert summary.short(thin) == "+13.2% (-20.0% to +40.0%): too few requests per run to tell; 1,000+ needed"
    # A single value (an asv track) clearly on the better side is "better", not "within".
    size = by_name["asv ModelSize.track_model_bytes"]
    assert summary.short(replace(size, change=-0.3)) == "-30.0%: better"


def test_markdown_fits_a_pull_request_comment(regression: Report) -> None:
    md = text.markdown(regression)
    table = md.index("| section | status |")
    assert md.index("**Next:**") > table
    assert md.index("<details><summary>Every check</summary>") > md.index("**Next:**")
    assert "Policy: the defaults." in md
    stricter = replace(regression, meta={**regression.meta, "policy": replace(DEFAULT, alpha=0.05).to_dict()})
    assert "| alpha | 0.05 | 0.01 |" in text.markdown(stricter)


def test_html_shows_the_summary_pictures_and_a_readable_policy(regression: Report, tmp_path: Path) -> None:
    history = {
        f.details["design_key"]: [0.01, -0.02, 0.015, 0.0, -0.01] for f in regression.checks if f.aa_sample()
    }
    with_history = report(tmp_path, slower=1.12, worse=0.05, history=history)
    page = html.html_report(with_history)
    assert (
        page.index("<table class='summary'>")
        < page.index("<h2>Pictures</h2>")
        < page.index("<h2>Every check</h2>")
    )
    plots = re.findall(r"data-plot='([a-z-]+)'", page)
    assert {
        "forest",
        "batch-curve",
        "latency-profile",
        "run-order",
        "aa-spread",
        "scatter",
        "residuals",
    } <= set(plots)
    assert "Every setting is the default." in page and "<summary>the full policy</summary>" in page


def test_policy_changes_list_only_what_differs() -> None:
    ours = replace(DEFAULT, alpha=0.05).to_dict()
    ours["latency"]["p95"] = 0.1
    assert summary.policy_changes(ours, DEFAULT.to_dict()) == [
        ("alpha", 0.05, 0.01),
        ("latency.p95", 0.1, 0.05),
    ]


def test_sections_follow_what_each_check_measures() -> None:
    def finding(name: str, kind: str) -> Finding:
        return Finding(name=name, kind=kind, status="pass", message="")

    cases = {
        ("id join", "input"): "reproducibility",
        ("served parity candidate", "parity"): "served",
        ("canary latency x p95", "latency canary"): "latency",
        ("asv Training.time_fit", "timing"): "speed",
        ("quality rmse", "quality"): "quality",
    }
    for (name, kind), section in cases.items():
        assert summary.section_of(finding(name, kind)) == section


def test_next_steps_name_the_evidence_that_would_settle_a_section(regression: Report) -> None:
    p95 = next(f for f in regression.checks if f.name == "latency /predict [1 row] p95")
    for more, said in ((2, "2 more load runs a side"), (1, "1 more load run a side")):
        open_ = replace(p95, status="warn", details={**p95.details, "more_runs_to_settle": more})
        steps = summary.next_steps(replace(regression, checks=[open_]))
        assert steps == [f"API latency: 1 inconclusive; {said} would settle the closest"]
