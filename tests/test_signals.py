"""SIGINT and SIGTERM on real `mlgate` processes: one line, 130/143, no orphan child, no temp folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import FAST
from mlgate.cli import main
from mlgate.infra import interrupts
from mlgate.report import text

pytestmark = pytest.mark.slow  # real processes, servers and locust

LOCUSTFILES = str(Path(__file__).parent.parent / "locustfiles")
EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


def start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
    return subprocess.Popen(
        [sys.executable, "-m", "mlgate", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=env,
    )


def wait_for(condition: Callable[[], bool], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def finish(process: subprocess.Popen[str], signum: int) -> str:
    """Send ``signum``, wait for the exit; the one stderr line, after checking the contract."""
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert process.returncode == EXIT[signum], err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: interrupted; "), err
    return lines[0]


def locusts_mentioning(text: str) -> list[str]:
    """Live locust processes whose command line holds ``text`` (locust names its run folder)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command and "-m locust" in command:
            found.append(command)
    return found


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("delay", [0.3, 1.5], ids=["while-importing", "while-training"])
def test_a_signal_at_any_moment_is_one_line_and_nothing_written(
    signum: int, delay: float, tmp_path: Path
) -> None:
    process = start("train", "--version", "v1", "--out", str(tmp_path / "model"), cwd=tmp_path)
    time.sleep(delay)
    line = finish(process, signum)
    if (tmp_path / "model").exists():  # finished before the signal: kept, and said so
        assert "kept the artifact in" in line
    else:
        assert line == "error: interrupted; nothing was written"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_load_leaves_no_locust_and_no_temp_folder(
    served_fast: str, fast_models: dict[str, Path], signum: int, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    data = ["--data", str(fast_models["holdout"]), "--locustfiles", LOCUSTFILES]
    process = start(
        "load", "--host", served_fast, "-u", "2", "-t", "60s", *data, "--out", str(out), cwd=tmp_path
    )
    wait_for(lambda: any(tmp_path.glob(".run.*.tmp")) or process.poll() is not None)
    temp = next(tmp_path.glob(".run.*.tmp"))
    wait_for(lambda: bool(locusts_mentioning(temp.name)))  # locust is loading
    assert finish(process, signum) == "error: interrupted; nothing was written"
    assert list(tmp_path.iterdir()) == []
    wait_for(lambda: not locusts_mentioning(temp.name), seconds=30)


def test_an_interleaved_load_stops_at_a_whole_pair_and_compare_says_partial(
    served_fast: str, fast_models: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ab"
    plan = ["--runs", "4", "-u", "1", "-r", "1", "-t", "180s", "--requests", "150"]
    data = ["--data", str(fast_models["holdout"]), "--locustfiles", LOCUSTFILES]
    hosts = ["--baseline-host", served_fast, "--candidate-host", served_fast]
    process = start("load", *hosts, *plan, *data, "--out", str(out), cwd=tmp_path)
    wait_for(lambda: (out / "candidate" / "run-01" / "summary.json").is_file() or process.poll() is not None)
    line = finish(process, signal.SIGINT)
    assert line == f"error: interrupted; kept 2 complete runs in {out} (load.json says partial)"
    index = json.loads((out / "load.json").read_text())
    assert index["partial"] is True and index["runs_per_side"] == 1 and index["planned_runs_per_side"] == 4
    assert sorted(p.name for p in (out / "baseline").iterdir()) == ["run-01"]
    assert sorted(p.name for p in (out / "candidate").iterdir()) == ["run-01"]
    assert [p.name for p in tmp_path.rglob(".*")] == []
    loads = ["--load-baseline", str(out / "baseline"), "--load-candidate", str(out / "candidate")]
    model = str(fast_models["v1"])
    args = ["compare", model, model, "--spec", FAST, "--data", str(fast_models["holdout"]), *loads]
    assert main([*args, "--out", str(tmp_path / "report")]) in (0, 1)
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    (design,) = [c for c in report["checks"] if c["name"] == "load design"]
    assert design["status"] == "warn" and "interrupted after 1 of 4 runs a side" in design["message"]
    capsys.readouterr()


def test_a_command_signalled_after_its_work_keeps_the_result_and_says_so(
    fast_models: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGTERM while the summary prints, after the report is written: 143, and the report stays."""

    def signalled(*_: object, **__: object) -> None:
        raise interrupts.Interrupted(signal.SIGTERM)

    monkeypatch.setattr(text, "print_summary", signalled)
    model, report = str(fast_models["v1"]), tmp_path / "report"
    args = ["compare", model, model, "--spec", FAST, "--data", str(fast_models["holdout"])]
    assert main([*args, "--out", str(report)]) == 143
    assert capsys.readouterr().err.strip() == f"error: interrupted; kept the complete report in {report}"
    assert (report / "report.json").is_file()
