"""The HTML report in a real headless Chromium: no console errors, and the plots are drawn."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from conftest import CHROMIUM, screenshot
from mlgate.cli import main

pytestmark = [
    pytest.mark.slow,  # real Chromium
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed: `apt-get install chromium` (.ci/run does this)"
    ),
]


def test_report_renders_without_console_errors_and_shows_plots(
    tmp_path: Path, models: dict[str, Path]
) -> None:
    out = tmp_path / "report"
    assert main(["-q", "compare", str(models["v1"]), str(models["v2"]), "--out", str(out)]) == 0
    shot = tmp_path / "shot.png"
    console = screenshot((out / "report.html").as_uri(), shot, tmp_path / "profile")
    assert console == [], console
    pixels = Image.open(shot).convert("RGB")
    colours = pixels.getcolors(maxcolors=1 << 20) or []

    def near(target: tuple[int, int, int]) -> int:
        return sum(
            count for count, rgb in colours if sum(abs(a - b) for a, b in zip(rgb, target, strict=True)) < 60
        )

    # The candidate's scatter points (orange) and the baseline's histogram fill (blue at 25% on white).
    assert near((0xE1, 0x6F, 0x24)) > 500
    assert near((0xC2, 0xDA, 0xF6)) > 500
