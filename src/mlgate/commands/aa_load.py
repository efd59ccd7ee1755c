"""`mlgate calibrate --host`: an interleaved A/A load of one local server, for this machine's history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from mlgate.infra.durations import parse_duration
from mlgate.infra.errors import MlgateError
from mlgate.serving import locust_run


def run(
    host: str, runs: int, users: int, run_time: str, history_folder: Path, progress: Callable[[str], object]
) -> Path:
    """Check the plan and the server, run ``runs`` A/A pairs against ``host``; returns the load folder
    (``baseline/`` and ``candidate/`` inside, both of the same server)."""
    locust_run.check_target(host, allow_remote=True)  # a URL at all; where it points is checked next
    try:
        locust_run.check_target(host, allow_remote=False)
    except MlgateError as exc:
        raise MlgateError(
            f"--host: {host} is not on this machine; calibrate measures this machine's A/A noise, "
            "serve the baseline on 127.0.0.1 and point --host there"
        ) from exc
    plan = locust_run.LoadPlan(users=users, spawn_rate=users, run_seconds=parse_duration(run_time))
    # load's own checks name load's flags; calibrate words the ones it has itself.
    window = plan.warmup_seconds + plan.cooldown_seconds
    if plan.run_seconds <= window:
        raise MlgateError(
            f"--run-time: {run_time} leaves nothing after the {window:g} s warm-up and cool-down "
            f"of each run; give more than {window:g}s"
        )
    locust_run.check_plan(plan)
    locust_run.check_answers(host)  # a server that is not up fails now, not after ten empty runs
    folder = history_folder / f"load-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    if folder.exists():
        raise MlgateError(
            f"--calibration: {folder} already exists (a calibration started this second); run it again"
        )
    locust_run.interleaved(
        locust_run.default_locustfiles(), host, host, runs, plan, folder, progress=progress
    )
    return folder
