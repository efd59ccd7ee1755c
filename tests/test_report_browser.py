"""The HTML report in a real headless Chromium: no console errors, and every picture drawn with both
versions' colours, for a comparison of artifacts and for a whole release check's evidence."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from conftest import CHROMIUM, check_pictures, colour_pixels
from mlgate.cli import main
from mlgate.report import files
from mlgate.report.figures import COLOURS
from report_evidence import report

pytestmark = [
    pytest.mark.slow,  # real Chromium
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed: `apt-get install chromium` (.ci/run does this)"
    ),
]


def test_artifact_report_renders_its_quality_pictures(tmp_path: Path, models: dict[str, Path]) -> None:
    out = tmp_path / "report"
    assert main(["-q", "compare", str(models["v1"]), str(models["v2"]), "--out", str(out)]) == 0
    pictures = check_pictures(out / "report.html", tmp_path / "shots")
    assert pictures == ["forest", "differences", "scatter", "residuals"]


@pytest.mark.parametrize(("slower", "worse", "verdict"), [(1.12, 0.05, "fail"), (1.0, 0.0, "pass")])
def test_release_report_draws_speed_latency_and_history(
    tmp_path: Path, slower: float, worse: float, verdict: str
) -> None:
    plain = report(tmp_path / "plain", slower, worse)
    history = {
        key: [0.01, -0.02, 0.015, 0.0, -0.01] for f in plain.checks if (key := f.details.get("design_key"))
    }
    full = report(tmp_path / "full", slower, worse, history=history)
    files.write(full, tmp_path / "report")
    pictures = check_pictures(tmp_path / "report" / "report.html", tmp_path / "shots")
    expected = [
        "forest",
        "differences",
        "batch-curve",
        "latency-profile",
        "latency-profile",
        "run-order",
        "run-order",
    ]
    assert pictures[: len(expected)] == expected and {"aa-spread", "scatter", "residuals"} <= set(pictures)
    # The verdict heads the page in its colour: the top 60 pixels hold only the heading.
    page = (tmp_path / "report" / "report.html").read_text()
    assert f"<h1 style='color:{COLOURS[verdict]}'>" in page
    top = tmp_path / "shots" / "top.png"
    Image.open(tmp_path / "shots" / "page.png").crop((0, 0, 1200, 60)).save(top)
    assert colour_pixels(top, COLOURS[verdict]) > 300
