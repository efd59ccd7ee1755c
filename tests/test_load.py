"""Real headless locust against a real server: raw samples, summaries, budgets, processes, verdicts.

The load machinery is tested against a model that costs a few milliseconds a call (the `fast` spec),
and runs are sized in requests with a generous time bound, so what is asserted holds on a machine
several times slower than ours or one shared with busy processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import FAST, running_app, running_server
from mlgate.cli import main
from mlgate.serving.locust_run import read_samples

LOCUSTFILES = str(Path(__file__).parent.parent / "locustfiles")
BOUND = "180s"  # the time bound of a run sized in requests: generous, it is never meant to be reached

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served_paused(fast_models: dict[str, Path]) -> Iterator[str]:
    """The same predictions as `served_fast`, each call a fixed 4 ms later."""
    with running_server(fast_models["paused"], "--spec", FAST) as url:
        yield url


@pytest.fixture(scope="module")
def load(fast_models: dict[str, Path]) -> Callable[..., int]:
    """`mlgate load` with this repository's locustfiles, sending the fast spec's holdout rows."""

    def run(*args: str) -> int:
        data = ["--data", str(fast_models["holdout"])]
        return main(["-q", "load", "--locustfiles", LOCUSTFILES, *data, *args])

    return run


def locust_requests(run: Path) -> int:
    return sum(entry["num_requests"] for entry in json.loads((run / "locust.json").read_text()))


@pytest.fixture(scope="module")
def sized_run(load: Callable[..., int], served_fast: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("load") / "run"
    plan = ["-u", "3", "-r", "3", "-t", BOUND, "--requests", "400", "--warmup", "0.1", "--cooldown", "0.05"]
    assert load("--host", served_fast, *plan, "--out", str(out)) == 0
    return out


def test_every_request_has_a_raw_sample(sized_run: Path) -> None:
    samples = read_samples(sized_run / "samples")
    assert len(samples) == locust_requests(sized_run) >= 400
    assert set(samples["status"]) == {200} and samples["latency_us"].min() > 0
    assert (sized_run / "locust.html").is_file() and (sized_run / "locust_stats.csv").is_file()


def test_summary_percentiles_are_those_of_the_raw_samples(sized_run: Path) -> None:
    summary = json.loads((sized_run / "summary.json").read_text())
    samples = read_samples(sized_run / "samples")
    first, last = samples["start"].min(), samples["start"].max()
    warmup, cooldown = summary["plan"]["warmup_seconds"], summary["plan"]["cooldown_seconds"]
    window = samples[(samples["start"] >= first + warmup) & (samples["start"] <= last - cooldown)]
    single = window[window["name"] == "/predict [1 row]"]["latency_us"].to_numpy() / 1000
    assert single.size, f"warm-up and cool-down left no single-row request of {len(samples)}"
    reported = summary["endpoints"]["/predict [1 row]"]["latency"]
    for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        assert reported[name]["ms"] == pytest.approx(float(np.quantile(single, q, method="inverted_cdf")))
    low, high = reported["p50"]["ci95"]
    assert low <= reported["p50"]["ms"] <= high
    cost = summary["generator"]
    assert cost["steady_state"] and cost["cpu_ms_per_request"] > 0
    # start-up (imports, bodies) is counted apart from the steady state, never inside it
    assert 0 < cost["startup_cpu_seconds"] < cost["cpu_seconds"]
    assert list((sized_run / "samples").glob("cost-*.json"))
    assert summary["samples_in_window"] == len(window)


def test_broken_budget_exits_non_zero(load: Callable[..., int], served_fast: str, tmp_path: Path) -> None:
    assert (
        load(
            "--host",
            served_fast,
            "-u",
            "2",
            "-t",
            BOUND,
            "--requests",
            "100",
            "--warmup",
            "0",
            "--cooldown",
            "0",
            "--p95-ms",
            "1",
            "--out",
            str(tmp_path / "run"),
        )
        == 1
    )
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    p95 = summary["endpoints"]["all"]["latency"]["p95"]["ms"]
    # The budget is judged on the summary's own p95 (trimmed raw samples), the one compare judges.
    assert summary["budgets"]["broken"] == [f"p95 {p95:.3g} ms > 1 ms"]
    assert summary["locust_exit_code"] == 0


@pytest.mark.parametrize(
    "ending", [["-t", "8s"], ["-t", BOUND, "--requests", "300"]], ids=["time", "requests"]
)
def test_two_locust_processes_merge_their_samples(
    load: Callable[..., int], served_fast: str, tmp_path: Path, ending: list[str]
) -> None:
    """Locust's own count of a distributed run equals the raw samples, however the run ends."""
    out = tmp_path / "run"
    plan = ["-u", "4", "-r", "4", *ending, "--processes", "2", "--warmup", "0", "--cooldown", "0"]
    assert load("--host", served_fast, *plan, "--out", str(out)) == 0
    files = sorted((out / "samples").glob("samples-*.csv"))
    assert len(files) == 2 and all(len(pd.read_csv(f)) > 0 for f in files)
    assert len(read_samples(out / "samples")) == locust_requests(out)
    log = (out / "locust.log").read_text()
    assert "Traceback" not in log and "closed file" not in log, log[-2000:]


def test_open_loop_reports_target_and_achieved_rate(
    load: Callable[..., int], served_fast: str, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    assert (
        load("--host", served_fast, "-u", "4", "-t", "6s", "--rate", "10", "--warmup", "1", "--out", str(out))
        == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["open_loop"]["target_rate"] == 10
    assert 7 <= summary["open_loop"]["achieved_rate"] <= 12
    samples = read_samples(out / "samples")
    assert (samples["latency_us"] >= samples["service_us"]).all()


def test_step_load_finds_the_highest_rate_within_budget(
    load: Callable[..., int], served_fast: str, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    code = load(
        "--host",
        served_fast,
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
    load: Callable[..., int], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert load("--host", "http://10.1.2.3:8000", "--out", str(tmp_path / "x")) == 2
    assert "not a loopback address" in capsys.readouterr().err
    assert load("--host", "http://127.0.0.1:9", "-t", "2h", "--out", str(tmp_path / "x")) == 2
    assert "always bounded" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def interleaved(load: Callable[..., int], baseline: str, candidate: str, out: Path) -> int:
    """Six runs a side of 300 single users' requests each: sized in requests, not seconds."""
    plan = ["--runs", "6", "-u", "1", "-r", "1", "-t", BOUND, "--requests", "300"]
    return load(
        "--baseline-host",
        baseline,
        "--candidate-host",
        candidate,
        *plan,
        "--warmup",
        "0.1",
        "--cooldown",
        "0",
        "--out",
        str(out),
    )


def latency_checks(design: Path, models: dict[str, Path], out: Path) -> dict[str, Any]:
    code = main(
        [
            "-q",
            "compare",
            str(models["v1"]),
            str(models["v1"]),
            "--spec",
            FAST,
            "--load-baseline",
            str(design / "baseline"),
            "--load-candidate",
            str(design / "candidate"),
            "--out",
            str(out),
        ]
    )
    assert code in (0, 1)
    report = json.loads((out / "report.json").read_text())
    return {c["name"]: c for c in report["checks"] if c["kind"] == "latency"}


def test_injected_latency_regression_is_never_better_and_aa_never_fails(
    load: Callable[..., int],
    served_fast: str,
    served_paused: str,
    tmp_path: Path,
    fast_models: dict[str, Path],
) -> None:
    """A server 4 ms slower a call is a regression or, on a machine too busy to tell, inconclusive."""
    assert interleaved(load, served_fast, served_paused, tmp_path / "ab") == 0
    checks = latency_checks(tmp_path / "ab", fast_models, tmp_path / "ab-report")
    p50 = checks["latency /predict [1 row] p50"]
    assert p50["status"] in ("fail", "warn") and p50["change"] > 0, p50["message"]
    assert "better" not in p50["message"]
    throughput = checks["throughput"]
    assert throughput["status"] in ("fail", "warn") and throughput["change"] < 0, throughput["message"]

    assert interleaved(load, served_fast, served_fast, tmp_path / "aa") == 0
    checks = latency_checks(tmp_path / "aa", fast_models, tmp_path / "aa-report")
    assert not [c["message"] for c in checks.values() if c["status"] == "fail"]


def duet(load: Callable[..., int], baseline: str, candidate: str, out: Path) -> int:
    """Four duet runs of 200 request pairs each (two users): sized in requests, not seconds."""
    plan = ["--duet", "--runs", "4", "-u", "2", "-r", "2", "-t", BOUND, "--requests", "200"]
    hosts = ["--baseline-host", baseline, "--candidate-host", candidate]
    return load(*hosts, *plan, "--warmup", "0.1", "--cooldown", "0", "--out", str(out))


def test_duet_sends_each_body_to_both_servers_in_random_order(
    load: Callable[..., int],
    served_fast: str,
    served_paused: str,
    tmp_path: Path,
    fast_models: dict[str, Path],
) -> None:
    """Every pair holds one request to each server, the coin picks either first, each side's summary
    comes from the same pairs, and a server 4 ms slower a call is never judged better."""
    assert duet(load, served_fast, served_paused, tmp_path / "duet") == 0
    samples = read_samples(tmp_path / "duet" / "duet" / "run-01" / "samples")
    assert len(samples) >= 400 and set(samples["status"]) == {200}
    pairs = samples.groupby("pair")
    assert set(pairs["side"].apply(lambda s: tuple(sorted(s)))) == {("baseline", "candidate")}
    for run in ("run-01", "run-04"):
        base = json.loads((tmp_path / "duet" / "baseline" / run / "summary.json").read_text())
        cand = json.loads((tmp_path / "duet" / "candidate" / run / "summary.json").read_text())
        assert (
            base["samples_in_window"]
            == cand["samples_in_window"]
            == cand["duet"]["endpoints"]["all"]["pairs"]
        )
        assert 0.2 <= cand["duet"]["endpoints"]["all"]["candidate_first_share"] <= 0.8
    assert json.loads((tmp_path / "duet" / "load.json").read_text())["design"] == "duet"
    checks = latency_checks(tmp_path / "duet", fast_models, tmp_path / "report")
    paired = checks["latency /predict [1 row] paired median"]
    assert paired["status"] in ("fail", "warn") and paired["change"] > 0, paired["message"]
    assert "better" not in paired["message"]


def test_duet_of_two_servers_of_one_model_finds_no_regression(
    load: Callable[..., int], served_fast: str, tmp_path: Path, fast_models: dict[str, Path]
) -> None:
    with running_server(fast_models["v1"], "--spec", FAST) as twin:
        assert duet(load, served_fast, twin, tmp_path / "aa") == 0
    # One body to both servers of one model: the two answers of every pair are the same size.
    samples = read_samples(tmp_path / "aa" / "duet" / "run-02" / "samples")
    assert (samples.groupby("pair")["bytes"].nunique() == 1).all()
    checks = latency_checks(tmp_path / "aa", fast_models, tmp_path / "report")
    assert "latency /predict [1 row] paired median" in checks
    assert not [c["message"] for c in checks.values() if c["status"] == "fail"]


def test_duet_usage_errors(load: Callable[..., int], served_fast: str, tmp_path: Path, capsys: Any) -> None:
    assert load("--duet", "--host", served_fast, "--out", str(tmp_path / "x")) == 2
    assert "--duet: give --baseline-host and --candidate-host" in capsys.readouterr().err
    hosts = ["--baseline-host", served_fast, "--candidate-host", served_fast]
    assert load("--duet", *hosts, "--rate", "5", "--out", str(tmp_path / "y")) == 2
    assert "--duet: pairs are sent closed-loop" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_without_locustfiles_of_its_own_a_project_gets_mlgates(
    served_fast: str, fast_models: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model repository with no locustfiles/: `mlgate load` runs the users shipped in the package."""
    monkeypatch.chdir(tmp_path)
    data = ["--data", str(fast_models["holdout"])]
    plan = ["-u", "2", "-t", BOUND, "--requests", "60", "--warmup", "0", "--cooldown", "0"]
    assert main(["-q", "load", "--host", served_fast, *data, *plan, "--out", "run"]) == 0
    assert len(read_samples(tmp_path / "run" / "samples")) == locust_requests(tmp_path / "run") >= 60


def test_plain_locust_runs_a_thin_locustfile_over_the_shipped_users(
    served_fast: str, fast_models: dict[str, Path], tmp_path: Path
) -> None:
    """What a user's repository holds: one import line, then plain `locust -f locustfiles/`."""
    (tmp_path / "locustfiles").mkdir()
    (tmp_path / "locustfiles" / "predict_users.py").write_text(
        "from mlgate.locust.users import BatchUser, SingleRowUser  # noqa: F401\n"
    )
    command = [sys.executable, "-m", "locust", "-f", "locustfiles", "--headless", "--host", served_fast]
    options = ["-u", "2", "-r", "2", "-t", BOUND, "--requests", "60", "--only-summary"]
    files = ["--data-file", str(fast_models["holdout"]), "--samples-dir", "samples", "--json-file", "locust"]
    result = subprocess.run(
        [*command, *options, *files], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(read_samples(tmp_path / "samples")) == locust_requests(tmp_path) >= 60


@pytest.fixture(scope="module")
def user_api(fast_models: dict[str, Path]) -> Iterator[str]:
    """`user_api.py` on uvicorn: an API with its own path, body and answer, serving the fast v1 model."""
    env = {
        **os.environ,
        "MLGATE_TEST_ARTIFACT": str(fast_models["v1"]),
        "PYTHONPATH": str(Path(__file__).parent),
    }
    with running_app("user_api:create_app", env, "user API") as url:
        yield url


USER_API = """[tool.mlgate.api]
path = "/v1/predictions/regression"
records = ""
predictions = "predictions"
"""


def test_any_prediction_api_drives_parity_and_plain_locust(
    user_api: str, fast_models: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """[tool.mlgate.api] describes a user's API: parity and the shipped locust users speak it."""
    (tmp_path / "pyproject.toml").write_text(f'[tool.mlgate]\nmodel = "{FAST}"\n\n{USER_API}')
    (tmp_path / "locustfiles").mkdir()
    (tmp_path / "locustfiles" / "predict_users.py").write_text(
        "from mlgate.locust.users import BatchUser, SingleRowUser  # noqa: F401\n"
    )
    monkeypatch.chdir(tmp_path)
    data = ["--data", str(fast_models["holdout"])]
    assert main(["-q", "parity", str(fast_models["v1"]), "--api", user_api, *data]) == 0
    assert main(["-q", "parity", str(fast_models["paused"]), "--api", user_api, *data]) == 0  # same answers

    plan = ["-u", "2", "-r", "2", "-t", BOUND, "--requests", "100", "--warmup", "0", "--cooldown", "0"]
    assert main(["-q", "load", "--host", user_api, *data, *plan, "--out", "run"]) == 0
    samples = read_samples(tmp_path / "run" / "samples")
    assert len(samples) == locust_requests(tmp_path / "run") >= 100
    assert set(samples["status"]) == {200} and samples["ok"].all()
    assert set(samples["name"]) <= {
        "/v1/predictions/regression [1 row]",
        "/v1/predictions/regression [batch]",
    }
