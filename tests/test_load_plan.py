"""Load plans without running locust: bounds, the locust command line, honest short-run warnings."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from mlgate.infra.errors import MlgateError
from mlgate.serving import locust_run as load


@pytest.mark.parametrize(
    ("plan", "flag"),
    [
        (load.LoadPlan(processes=(os.cpu_count() or 1) + 1), "--processes"),
        (load.LoadPlan(processes=2, rate=10), "--processes"),
        (load.LoadPlan(requests=-1), "--requests"),
        (load.LoadPlan(run_seconds=3600), "--run-time"),
    ],
)
def test_plans_outside_the_bounds_are_refused_naming_the_flag(plan: load.LoadPlan, flag: str) -> None:
    with pytest.raises(MlgateError, match=flag):
        load.check_plan(plan)


def test_a_run_sized_in_requests_keeps_its_time_bound(tmp_path: Path) -> None:
    command = load.locust_command(
        Path("locustfiles"), "http://127.0.0.1:1", load.LoadPlan(requests=500), tmp_path
    )
    assert command[command.index("--requests") + 1] == "500"
    assert command[command.index("-t") + 1] == "20s"


def summary(window_seconds: float, in_window: int, total: int = 300) -> dict[str, object]:
    return {
        "window_seconds": window_seconds,
        "samples_total": total,
        "samples_in_window": in_window,
        "locust": {"requests": 40, "failures": 40, "error_rate": 1.0},
    }


def test_a_run_whose_samples_span_under_half_the_time_asked_says_so() -> None:
    plan = load.LoadPlan(run_seconds=20, warmup_seconds=2, cooldown_seconds=1)
    assert load.short_run_warnings(summary(15.0, 300), plan) == []
    (warning,) = load.short_run_warnings(summary(4.0, 300), plan)
    assert "7.0 s of the 20 s asked" in warning and "--requests" in warning
    sized = load.LoadPlan(run_seconds=20, requests=300, warmup_seconds=0, cooldown_seconds=0)
    assert load.short_run_warnings(summary(2.0, 300), sized) == []  # it ended early by design


def test_a_run_sized_in_requests_whose_warmup_ate_most_of_it_says_so() -> None:
    """On a fast machine 400 requests take well under a second: seconds of warm-up cut most of them."""
    plan = load.LoadPlan(run_seconds=20, requests=400, warmup_seconds=0.5, cooldown_seconds=0.2)
    (warning,) = load.short_run_warnings(summary(0.1, 105, total=488), plan)
    assert "cut 383 of 488 requests" in warning and "--warmup 0.5 s" in warning
    assert load.short_run_warnings(summary(0.5, 300, total=488), plan) == []


def test_an_empty_window_reports_the_error_rate_locust_counted(tmp_path: Path) -> None:
    (tmp_path / "locust.json").write_text(json.dumps([{"num_requests": 40, "num_failures": 40}]))
    assert load.locust_counts(tmp_path / "locust.json") == {"requests": 40, "failures": 40, "error_rate": 1.0}
    plan = load.LoadPlan(run_seconds=4, warmup_seconds=2, cooldown_seconds=1)
    warnings = load.short_run_warnings(summary(0.0, 0), plan)
    assert any("error rate of 100.00%" in w for w in warnings)


def locust_run(folder: Path, costs: list[dict[str, float]], cpu: float = 5.0) -> load.LocustRun:
    """A finished run of 1,000 requests whose processes left ``costs`` in their samples folder."""
    (folder / "samples").mkdir(parents=True)
    for k, cost in enumerate(costs):
        (folder / "samples" / f"cost-host-{k}.json").write_text(json.dumps(cost))
    samples = pd.DataFrame({"start": range(1000)})
    return load.LocustRun(folder, samples, 0, cpu, 10.0, 0.0, load.steady_cost(folder / "samples"))


def test_generator_cost_is_the_steady_state_with_start_up_apart(tmp_path: Path) -> None:
    run = locust_run(
        tmp_path,
        [
            {"cpu_seconds": 0.3, "wall_seconds": 4.0, "requests": 600},
            {"cpu_seconds": 0.2, "wall_seconds": 5.0, "requests": 400},
        ],
    )
    cost = load.generator(run, processes=2)
    assert cost["steady_state"] and cost["cpu_ms_per_request"] == pytest.approx(0.5)
    assert cost["startup_cpu_seconds"] == pytest.approx(4.5)  # the tree's 5 s minus the users' 0.5 s
    assert cost["busy_share_per_process"] == pytest.approx(0.5 / 5.0 / 2)
    assert not cost["bottleneck"]


def test_generator_busy_in_steady_state_is_the_bottleneck(tmp_path: Path) -> None:
    run = locust_run(tmp_path, [{"cpu_seconds": 4.5, "wall_seconds": 5.0, "requests": 1000}])
    assert load.generator(run, processes=1)["bottleneck"]


def test_without_the_processes_account_the_whole_tree_is_the_cost(tmp_path: Path) -> None:
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "cost-host-1.json").write_text('{"cpu_sec')  # a process killed mid-write
    run = load.LocustRun(tmp_path, pd.DataFrame({"start": range(1000)}), 0, 5.0, 10.0, 0.0, {})
    cost = load.generator(run, processes=1)
    assert not cost["steady_state"] and cost["startup_cpu_seconds"] is None
    assert cost["cpu_ms_per_request"] == pytest.approx(5.0)
    assert load.steady_cost(tmp_path / "samples") == {}


def test_processes_that_counted_no_request_leave_the_whole_tree_as_the_cost(tmp_path: Path) -> None:
    run = locust_run(tmp_path, [{"cpu_seconds": 0.1, "wall_seconds": 1.0, "requests": 0}])
    cost = load.generator(run, processes=1)
    assert not cost["steady_state"] and cost["startup_cpu_seconds"] is None
    assert cost["cpu_ms_per_request"] == pytest.approx(5.0)
