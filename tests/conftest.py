"""Shared fixtures: the reference data and trained artifacts, made once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from mlgate import reference
from mlgate.cli import main
from mlgate.infra import interrupts
from mlgate.model.tables import write_table
from mlgate.serving import server as serve


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Reference train and holdout as CSV files."""
    folder = tmp_path_factory.mktemp("data")
    write_table(reference.train_frame(), folder / "train.csv")
    write_table(reference.holdout_frame(), folder / "holdout.csv")
    return folder


@pytest.fixture(scope="session")
def holdout_csv(data_dir: Path) -> Path:
    return data_dir / "holdout.csv"


@pytest.fixture(scope="session")
def holdout() -> pd.DataFrame:
    return reference.holdout_frame()


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """v1 and v2 of the reference model trained through the CLI."""
    folder = tmp_path_factory.mktemp("models")
    paths = {}
    for version in reference.VERSIONS:
        paths[version] = folder / version
        assert main(["-q", "train", "--version", version, "--out", str(paths[version])]) == 0
    return paths


def train_versions(spec_ref: str, folder: Path) -> dict[str, Path]:
    """Every version of a test spec trained through the CLI into ``folder``, and its holdout as CSV."""
    import model_specs

    spec = getattr(model_specs, spec_ref.partition(":")[2])
    paths = {"holdout": folder / "holdout.csv"}
    write_table(spec.load_holdout(), paths["holdout"])
    for version in spec.versions:
        paths[version] = folder / version
        assert (
            main(["-q", "train", "--spec", spec_ref, "--version", version, "--out", str(paths[version])]) == 0
        )
    return paths


@contextmanager
def running_server(artifact: Path, *extra: str) -> Iterator[str]:
    """A real `mlgate serve` (uvicorn) on a free loopback port, able to import the test specs."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
    with serve.background(artifact, *extra, env=env) as url:
        yield url


@contextmanager
def running_app(factory: str, env: dict[str, str], what: str) -> Iterator[str]:
    """A uvicorn app factory (MODULE:FUNCTION, importable through ``env``'s PYTHONPATH) on a free
    loopback port, up when ``/health`` answers; stopped with its process group after."""
    port = serve.free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--port", str(port)]
    process = subprocess.Popen([*command, "--log-level", "warning"], env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _answers(f"{url}/health"):
            assert process.poll() is None and time.monotonic() < deadline, f"{what} did not start"
            time.sleep(0.2)
        yield url
    finally:
        interrupts.stop_group(process, grace=15)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


FAST = "model_specs:fast"  # a model of about a millisecond a call: tests of the load machinery


@pytest.fixture(scope="session")
def fast_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The fast spec's versions, and its holdout as the rows the locust users send."""
    return train_versions(FAST, tmp_path_factory.mktemp("fast"))


@pytest.fixture(scope="session")
def served_fast(fast_models: dict[str, Path]) -> Iterator[str]:
    with running_server(fast_models["v1"], "--spec", FAST) as url:
        yield url


@pytest.fixture(scope="session")
def served_v1(models: dict[str, Path]) -> Iterator[str]:
    with running_server(models["v1"]) as url:
        yield url


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(url: str, shot: Path, profile: Path, size: str = "1200,1600") -> list[str]:
    """Load ``url`` in headless Chromium, save a screenshot; return the page's console messages."""
    assert CHROMIUM is not None
    flags = [
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
        "--virtual-time-budget=8000",
    ]
    result = subprocess.run(
        [
            CHROMIUM,
            *flags,
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            f"--window-size={size}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shot.is_file(), result.stderr[-2000:]
    return [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


def colour_pixels(shot: Path, colour: str) -> int:
    """Pixels of ``shot`` within a small distance of ``colour`` (#rrggbb), anti-aliasing included."""
    from PIL import Image

    target = tuple(int(colour[k : k + 2], 16) for k in (1, 3, 5))
    counts = Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 22) or []
    return sum(n for n, rgb in counts if sum(abs(a - b) for a, b in zip(rgb, target, strict=True)) < 60)


def check_pictures(page: Path, folder: Path) -> list[str]:
    """Load a report in Chromium (no console message allowed), then draw each of its pictures alone
    and require both versions' colours in it; returns the pictures' names in page order."""
    import re

    from mlgate.report.figures import BASE, CAND

    folder.mkdir(parents=True, exist_ok=True)
    console = screenshot(page.as_uri(), folder / "page.png", folder / "profile", size="1200,4000")
    assert console == [], console
    html = page.read_text()
    found = re.findall(r"<figure data-plot='([a-z-]+)'>.*?</figure>", html, flags=re.S)
    bodies = re.findall(r"<figure data-plot='[a-z-]+'>.*?</figure>", html, flags=re.S)
    for k, (name, body) in enumerate(zip(found, bodies, strict=True)):
        single = folder / f"{k}-{name}.html"
        single.write_text(f"<!doctype html><meta charset='utf-8'><body style='margin:0'>{body}</body>")
        shot = folder / f"{k}-{name}.png"
        assert screenshot(single.as_uri(), shot, folder / "profile", size="760,1000") == []
        for role, colour in (("baseline", BASE), ("candidate", CAND)):
            assert colour_pixels(shot, colour) > 30, f"picture {name} shows no {role} colour ({colour})"
        # The data, not only the legend: marks (dots, lines, bars) in both versions' colours, or for a
        # forest plot of changes, a dot per change.
        marks = re.findall(r"<(?:circle|path|line|g)\b[^>]*?(?:fill|stroke)='(#[0-9a-f]{6})'", body)
        if name in ("forest", "differences"):
            assert body.count("<circle") >= 1, f"picture {name} draws no change"
        else:
            assert {BASE, CAND} <= set(marks), f"picture {name} draws data of one version only"
    return found
