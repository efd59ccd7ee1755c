"""Real headless locust against a real server: raw samples, summaries, budgets, processes, verdicts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import running_server
from mlgate.cli import main
from mlgate.load import read_samples

LOCUSTFILES = str(Path(__file__).parent.parent / "locustfiles")


def load(*args: str) -> int:
    return main(["-q", "load", "--locustfiles", LOCUSTFILES, *args])


def locust_requests(run: Path) -> int:
    return sum(entry["num_requests"] for entry in json.loads((run / "locust.json").read_text()))


@pytest.fixture(scope="module")
def ten_second_run(served_v1: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("load") / "run"
    assert load("--host", served_v1, "-u", "3", "-r", "3", "-t", "10s", "--out", str(out)) == 0
    return out


def test_every_request_has_a_raw_sample(ten_second_run: Path) -> None:
    samples = read_samples(ten_second_run / "samples")
    assert len(samples) == locust_requests(ten_second_run) > 100
    assert set(samples["status"]) == {200} and samples["latency_us"].min() > 0
    assert (ten_second_run / "locust.html").is_file() and (ten_second_run / "locust_stats.csv").is_file()


def test_summary_percentiles_are_those_of_the_raw_samples(ten_second_run: Path) -> None:
    summary = json.loads((ten_second_run / "summary.json").read_text())
    samples = read_samples(ten_second_run / "samples")
    first, last = samples["start"].min(), samples["start"].max()
    window = samples[(samples["start"] >= first + 2.0) & (samples["start"] <= last - 1.0)]
    single = window[window["name"] == "/predict [1 row]"]["latency_us"].to_numpy() / 1000
    reported = summary["endpoints"]["/predict [1 row]"]["latency"]
    for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        assert reported[name]["ms"] == pytest.approx(float(np.quantile(single, q, method="inverted_cdf")))
    low, high = reported["p50"]["ci95"]
    assert low <= reported["p50"]["ms"] <= high
    assert summary["generator"]["cpu_ms_per_request"] > 0
    assert summary["samples_in_window"] == len(window)


def test_broken_budget_exits_non_zero(served_v1: str, tmp_path: Path) -> None:
    assert (
        load(
            "--host",
            served_v1,
            "-u",
            "2",
            "-t",
            "4s",
            "--warmup",
            "1",
            "--p95-ms",
            "1",
            "--out",
            str(tmp_path / "run"),
        )
        == 1
    )
    assert "budget broken" in (tmp_path / "run" / "locust.log").read_text()


def test_two_locust_processes_merge_their_samples(served_v1: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert (
        load(
            "--host",
            served_v1,
            "-u",
            "4",
            "-r",
            "4",
            "-t",
            "6s",
            "--processes",
            "2",
            "--warmup",
            "1",
            "--out",
            str(out),
        )
        == 0
    )
    files = sorted((out / "samples").glob("samples-*.csv"))
    assert len(files) == 2 and all(len(pd.read_csv(f)) > 0 for f in files)
    assert len(read_samples(out / "samples")) == locust_requests(out)


def test_open_loop_reports_target_and_achieved_rate(served_v1: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert (
        load("--host", served_v1, "-u", "4", "-t", "6s", "--rate", "10", "--warmup", "1", "--out", str(out))
        == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["open_loop"]["target_rate"] == 10
    assert 7 <= summary["open_loop"]["achieved_rate"] <= 12
    samples = read_samples(out / "samples")
    assert (samples["latency_us"] >= samples["service_us"]).all()


def test_step_load_finds_the_highest_rate_within_budget(served_v1: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    code = load(
        "--host",
        served_v1,
        "-u",
        "6",
        "--step-rates",
        "5,15",
        "--step-seconds",
        "4",
        "--p95-ms",
        "1000",
        "--warmup",
        "0",
        "--cooldown",
        "0",
        "--max-error-rate",
        "1",
        "--out",
        str(out),
    )
    assert code == 0
    steps = json.loads((out / "summary.json").read_text())["steps"]
    assert [s["target_rate"] for s in steps["steps"]] == [5, 15]
    assert steps["highest_rate_within_budget"] == 15


def test_load_refuses_non_loopback_and_unbounded_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert load("--host", "http://10.1.2.3:8000", "--out", str(tmp_path / "x")) == 2
    assert "not a loopback address" in capsys.readouterr().err
    assert load("--host", "http://127.0.0.1:9", "-t", "2h", "--out", str(tmp_path / "x")) == 2
    assert "always bounded" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


@pytest.fixture(scope="module")
def served_slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same model with three extra feature steps that are computed and dropped: ~35% more per call."""
    out = tmp_path_factory.mktemp("slow") / "slow"
    assert main(["-q", "train", "--spec", "model_specs:faults", "--version", "slow", "--out", str(out)]) == 0
    with running_server(out, "--spec", "model_specs:faults") as url:
        yield url


def interleaved(baseline: str, candidate: str, out: Path) -> int:
    return load(
        "--baseline-host",
        baseline,
        "--candidate-host",
        candidate,
        "--runs",
        "6",
        "-u",
        "1",
        "-r",
        "1",
        "-t",
        "8s",
        "--warmup",
        "1",
        "--cooldown",
        "0.5",
        "--out",
        str(out),
    )


def latency_checks(tmp_path: Path, design: Path, models: dict[str, Path]) -> dict[str, Any]:
    out = tmp_path / "report"
    main(
        [
            "-q",
            "compare",
            str(models["v1"]),
            str(models["v1"]),
            "--load-baseline",
            str(design / "baseline"),
            "--load-candidate",
            str(design / "candidate"),
            "--out",
            str(out),
        ]
    )
    report = json.loads((out / "report.json").read_text())
    return {c["name"]: c for c in report["checks"] if c["kind"] == "latency"}


def test_injected_latency_regression_is_flagged_and_aa_is_not(
    served_v1: str, served_slow: str, tmp_path: Path, models: dict[str, Path]
) -> None:
    assert interleaved(served_v1, served_slow, tmp_path / "ab") == 0
    checks = latency_checks(tmp_path / "ab-report", tmp_path / "ab", models)
    p50 = checks["latency /predict [1 row] p50"]
    assert p50["status"] == "fail" and p50["change"] > 0.15, p50["message"]
    assert checks["throughput"]["status"] == "fail"

    assert interleaved(served_v1, served_v1, tmp_path / "aa") == 0
    checks = latency_checks(tmp_path / "aa-report", tmp_path / "aa", models)
    assert not [c["message"] for c in checks.values() if c["status"] == "fail"]
