"""The HTML report in a real headless Chromium: no console errors, and the plots are drawn."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from mlgate.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed: `apt-get install chromium` (.ci/run does this)"
)


def test_report_renders_without_console_errors_and_shows_plots(
    tmp_path: Path, models: dict[str, Path]
) -> None:
    out = tmp_path / "report"
    assert main(["-q", "compare", str(models["v1"]), str(models["v2"]), "--out", str(out)]) == 0
    shot = tmp_path / "shot.png"
    assert CHROMIUM is not None
    result = subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1200,1600",
            (out / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    assert shot.is_file(), result.stderr[-2000:]
    pixels = Image.open(shot).convert("RGB")
    colours = pixels.getcolors(maxcolors=1 << 20) or []

    def near(target: tuple[int, int, int]) -> int:
        return sum(
            count for count, rgb in colours if sum(abs(a - b) for a, b in zip(rgb, target, strict=True)) < 60
        )

    # The candidate's scatter points (orange) and the baseline's histogram fill (blue at 25% on white).
    assert near((0xE1, 0x6F, 0x24)) > 500
    assert near((0xC2, 0xDA, 0xF6)) > 500
