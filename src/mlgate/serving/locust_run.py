"""`mlgate load`: run the locustfiles headless, bounded in time, and summarise the raw samples.

A run folder holds locust's own CSV/HTML/JSON, ``samples/`` (every request, microseconds, one file
per locust process) and ``summary.json``: percentiles computed from the raw samples with
distribution-free intervals, the achieved rate, the error rate and what the load generator cost.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import resource
import shutil
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from mlgate import stats
from mlgate.infra import atomic, interrupts
from mlgate.infra.errors import MlgateError
from mlgate.serving.api import read_api

QUANTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99, "p99.9": 0.999}
MAX_RUN_SECONDS = 600
MIN_RUN_SECONDS = 5  # locust takes about 4.5 s to start here: a shorter run measures nothing
MIN_STEP_SECONDS = 2
MAX_USERS = 200
SUMMARY = "summary.json"
GENERATOR_BUSY = 0.8  # share of one core per locust process above which the generator is the bottleneck


@dataclass(frozen=True)
class LoadPlan:
    """How one load run is driven."""

    users: int = 4
    spawn_rate: float = 4.0
    run_seconds: float = 20.0
    requests: int = 0  # > 0: end the run after this many requests (the run time stays the bound)
    warmup_seconds: float = 2.0
    cooldown_seconds: float = 1.0
    processes: int = 1
    rate: float = 0.0  # > 0: open loop at this many requests per second
    step_rates: tuple[float, ...] = ()
    step_seconds: float = 10.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_error_rate: float = 1.0
    data_file: Path | None = None
    batch_size: int = 100


def check_target(host: str, allow_remote: bool, flag: str = "--host") -> None:
    """Only loopback unless the user says otherwise: load is never sent somewhere by accident."""
    parsed = urlparse(host)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise MlgateError(f"{flag}: {host!r} is not a URL; write it like http://127.0.0.1:8000")
    name = parsed.hostname
    loopback = name == "localhost"
    if not loopback:
        try:
            loopback = ipaddress.ip_address(name).is_loopback
        except ValueError:
            loopback = False
    if not loopback and not allow_remote:
        raise MlgateError(
            f"{flag}: {name} is not a loopback address; pass --allow-remote to load a "
            "staging host you are allowed to load"
        )


def check_answers(host: str, flag: str = "--host") -> None:
    """Before any load: the server answers ``/health``, or at least the API's own path."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
    paths = ["/health", read_api().path]
    for path in paths:
        try:
            with opener.open(host.rstrip("/") + path, timeout=10):
                return
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                return  # an answer, e.g. 405 for a GET on a POST-only path
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise MlgateError(
                f"{flag}: nothing answers at {host} ({reason}); start the server or fix the URL"
            ) from exc
    raise MlgateError(
        f"{flag}: {host} answers 404 on {' and '.join(paths)}; check the URL, or the path in "
        "[tool.mlgate.api] of pyproject.toml"
    )


def check_plan(plan: LoadPlan) -> None:
    """Refuse a plan that is unbounded, unmeasurable or impossible here, before anything starts."""
    numbers = {
        "--run-time": plan.run_seconds,
        "--spawn-rate": plan.spawn_rate,
        "--rate": plan.rate,
        "--step-seconds": plan.step_seconds,
        "--warmup": plan.warmup_seconds,
        "--cooldown": plan.cooldown_seconds,
        "--p95-ms": plan.p95_ms,
        "--p99-ms": plan.p99_ms,
        "--max-error-rate": plan.max_error_rate,
        "--step-rates": min(plan.step_rates, default=1.0),
    }
    for flag, value in numbers.items():
        if not math.isfinite(value) or value < 0:
            raise MlgateError(f"{flag}: {value:g} is not a finite number of at least 0; give one")
    if not MIN_RUN_SECONDS <= plan.run_seconds <= MAX_RUN_SECONDS:
        raise MlgateError(
            f"--run-time: {plan.run_seconds:g} s is outside {MIN_RUN_SECONDS} s to {MAX_RUN_SECONDS} s; "
            "load runs are always bounded, and shorter ones are all locust start-up"
        )
    steps_fit = plan.step_seconds >= MIN_STEP_SECONDS and planned_seconds(plan) <= MAX_RUN_SECONDS
    if plan.step_rates and not steps_fit:
        raise MlgateError(
            f"--step-seconds: {len(plan.step_rates)} steps of {plan.step_seconds:g} s is outside "
            f"{MIN_STEP_SECONDS} s a step to {MAX_RUN_SECONDS} s in all; shorten the steps or give "
            "fewer rates"
        )
    if plan.spawn_rate <= 0:
        raise MlgateError(f"--spawn-rate: {plan.spawn_rate:g} starts no user; give a rate above 0")
    if any(rate <= 0 for rate in plan.step_rates):
        raise MlgateError(f"--step-rates: {min(plan.step_rates):g} is no rate; give rates above 0")
    if plan.max_error_rate > 1:
        raise MlgateError(f"--max-error-rate: {plan.max_error_rate:g} is a share; give one from 0 to 1")
    if plan.batch_size > 100_000:
        raise MlgateError(f"--batch-size: {plan.batch_size} rows a request is too many; at most 100000")
    if not 1 <= plan.users <= MAX_USERS:
        raise MlgateError(f"--users: {plan.users} is outside 1 to {MAX_USERS}")
    if plan.requests < 0:
        raise MlgateError(f"--requests: {plan.requests} is negative; give a count, or 0 for time alone")
    if not 1 <= plan.processes <= (os.cpu_count() or 1):
        raise MlgateError(
            f"--processes: {plan.processes} is outside 1 to {os.cpu_count() or 1} (the CPU count)"
        )
    if plan.processes > 1 and (plan.rate > 0 or plan.step_rates):
        raise MlgateError(
            "--processes: open-loop load (--rate, --step-rates) keeps its schedule in one process; "
            "use --processes 1"
        )
    if plan.warmup_seconds + plan.cooldown_seconds >= plan.run_seconds:
        raise MlgateError("--warmup/--cooldown: they leave nothing of the run; shorten them or run longer")


SHIPPED_LOCUSTFILES = Path(__file__).parent.parent / "locust" / "files"


def default_locustfiles(project_dir: Path | None = None) -> Path:
    """The repository's ``locustfiles/`` when it has its own users, else the ones mlgate ships."""
    own = (project_dir or Path.cwd()) / "locustfiles"
    return own if (own / "predict_users.py").is_file() else SHIPPED_LOCUSTFILES


def duet_locustfile(locustfiles: Path) -> Path:
    """The folder's ``_duet.py``, else mlgate's own (a repository set up before duets existed)."""
    own = locustfiles / "_duet.py"
    return own if own.is_file() else SHIPPED_LOCUSTFILES / "_duet.py"


def locust_command(locustfiles: Path, host: str, plan: LoadPlan, out: Path, candidate: str = "") -> list[str]:
    """The locust command line for one headless, time-bounded run writing into ``out``; with a
    ``candidate`` host, a duet run of both servers."""
    open_loop = plan.rate > 0 or bool(plan.step_rates)
    target = locustfiles / "_open_loop.py" if open_loop else locustfiles
    if candidate:
        target = duet_locustfile(locustfiles)
    run_seconds = planned_seconds(plan)
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(target),
        "--headless",
        "--host",
        host,
        "-u",
        str(plan.users),
        "-r",
        str(plan.spawn_rate),
        "-t",
        f"{math.ceil(run_seconds)}s",
        "--stop-timeout",
        "5",
        "--only-summary",
        "--csv",
        str(out / "locust"),
        "--html",
        str(out / "locust.html"),
        "--json-file",
        str(out / "locust"),
        "--samples-dir",
        str(out / "samples"),
        "--batch-size",
        str(plan.batch_size),
        # Budgets are judged by mlgate from the trimmed raw samples (``budgets``), not by locust from
        # its rounded, warm-up-inclusive percentiles; locust's exit code then means locust failed.
        "--exit-code-on-error",
        "0",
        "--loglevel",
        "WARNING",
        "--logfile",
        str(out / "locust.log"),
    ]
    if candidate:
        command += ["--candidate-host", candidate]
    if plan.data_file:
        command += ["--data-file", str(plan.data_file)]
    if plan.processes > 1:
        command += ["--processes", str(plan.processes)]
    if plan.requests:  # a duet's requests are per side: each pair is two
        command += ["--requests", str(plan.requests * (2 if candidate else 1))]
    if plan.rate > 0:
        command += ["--rate", str(plan.rate)]
    if plan.step_rates:
        command += [
            "--step-rates",
            ",".join(f"{r:g}" for r in plan.step_rates),
            "--step-seconds",
            str(plan.step_seconds),
        ]
    return command


def run_once(
    locustfiles: Path, host: str, plan: LoadPlan, out: Path, force: bool = False, label: str = ""
) -> dict[str, Any]:
    """One load run into the new folder ``out``; returns its summary."""
    with atomic.new_directory(out, force=force, replaceable=False) as tmp:
        run = run_locust(locustfiles, host, plan, tmp)
        summary = summarise(run.samples, plan, generator(run, plan.processes))
        finish_summary(summary, run, plan, host, label)
        (tmp / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n")
    return summary


@dataclass(frozen=True)
class LocustRun:
    """What one locust process tree left behind: its raw samples, exit code and cost."""

    folder: Path
    samples: pd.DataFrame
    exit_code: int
    cpu: float
    wall: float
    started: float
    steady: dict[str, float]  # the locust processes' CPU, wall time and requests while their users ran


def run_locust(locustfiles: Path, host: str, plan: LoadPlan, folder: Path, candidate: str = "") -> LocustRun:
    """Run locust into ``folder`` and read its samples; an error when it recorded none."""
    if not (locustfiles / "predict_users.py").is_file():
        raise MlgateError(
            f"--locustfiles: {locustfiles} has no predict_users.py; write one (`from mlgate.locust.users "
            "import BatchUser, SingleRowUser`) or leave --locustfiles out to use mlgate's own"
        )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    result = interrupts.run_child(
        locust_command(locustfiles, host, plan, folder, candidate),
        timeout=planned_seconds(plan) + 120,
        what=f"locust against {host}" + (f" and {candidate}" if candidate else ""),
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    wall = time.time() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    (folder / "locust.stdout").write_text(result.stdout + result.stderr)
    samples = read_samples(folder / "samples")
    if samples.empty:
        log = folder / "locust.log"
        tail = log.read_text()[-500:] if log.exists() else result.stderr[-500:]
        raise MlgateError(
            f"--host {host}: locust recorded no requests (exit {result.returncode}); "
            f"is the server up? {tail.strip().splitlines()[-1] if tail.strip() else ''}"
        )
    return LocustRun(folder, samples, result.returncode, cpu, wall, started, steady_cost(folder / "samples"))


def steady_cost(folder: Path) -> dict[str, float]:
    """The generator processes' own account of the time their users ran (``mlgate.locust.common.Cost``),
    summed over the processes; wall time is the longest of them. Empty when none was written."""
    costs = []
    for path in sorted(folder.glob("cost-*.json")):
        try:
            costs.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue  # a process killed mid-write: its cost is unknown, the rest still count
    if not costs:
        return {}
    return {
        "cpu_seconds": sum(float(c["cpu_seconds"]) for c in costs),
        "wall_seconds": max(float(c["wall_seconds"]) for c in costs),
        "requests": sum(int(c["requests"]) for c in costs),
    }


def finish_summary(summary: dict[str, Any], run: LocustRun, plan: LoadPlan, host: str, label: str) -> None:
    """What every run summary holds beyond the samples: locust's own counts, warnings, budgets, origin."""
    summary["locust"] = locust_counts(run.folder / "locust.json")
    summary["warnings"] += short_run_warnings(summary, plan)
    summary["budgets"] = budgets(summary, plan)
    summary.update(
        host=host,
        label=label,
        locust_exit_code=run.exit_code,
        started=run.started,
        plan={k: (str(v) if isinstance(v, Path) else v) for k, v in plan.__dict__.items()},
    )


def locust_counts(path: Path) -> dict[str, Any]:
    """Requests and failures as locust itself counted them (its JSON is complete, unlike its CSV)."""
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"requests": None, "failures": None, "error_rate": None}
    requests = sum(int(e.get("num_requests", 0)) for e in entries)
    failures = sum(int(e.get("num_failures", 0)) for e in entries)
    return {
        "requests": requests,
        "failures": failures,
        "error_rate": failures / requests if requests else None,
    }


def short_run_warnings(summary: dict[str, Any], plan: LoadPlan) -> list[str]:
    """Say so when the measured window is much shorter than asked, or when the window holds nothing."""
    warnings = []
    asked = planned_seconds(plan)
    measured = summary["window_seconds"] + plan.warmup_seconds + plan.cooldown_seconds
    if not plan.requests and measured < asked / 2:
        warnings.append(
            f"the samples span {measured:.1f} s of the {asked:g} s asked (locust's start-up or a stalled "
            "server ate the rest): run longer, or size the run in requests with --requests"
        )
    cut = summary["samples_total"] - summary["samples_in_window"]
    if plan.requests and summary["samples_in_window"] and cut > summary["samples_total"] / 2:
        # A run sized in requests lasts as long as the machine needs: on a fast one, seconds of
        # warm-up can eat most of it.
        warnings.append(
            f"--warmup {plan.warmup_seconds:g} s and --cooldown {plan.cooldown_seconds:g} s cut {cut} of "
            f"{summary['samples_total']} requests: lower them or raise --requests"
        )
    if summary["samples_in_window"] == 0:
        rate = summary["locust"]["error_rate"]
        seen = f"; locust counted an error rate of {rate:.2%}" if rate is not None else ""
        warnings.append(
            f"no request fell inside the window after --warmup/--cooldown{seen}; lower them "
            "(--warmup 0) or raise --requests or --run-time"
        )
    return warnings


def read_samples(folder: Path) -> pd.DataFrame:
    """All raw samples of a run (every locust process's file), sorted by start time."""
    files = sorted(folder.glob("samples-*.csv")) if folder.is_dir() else []
    frames = [pd.read_csv(f) for f in files]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["start", "name", "status", "latency_us", "service_us", "bytes", "ok"])
    return pd.concat(frames, ignore_index=True).sort_values("start", kind="stable").reset_index(drop=True)


def latency_stats(latency_us: np.ndarray) -> dict[str, Any]:
    """Percentiles in milliseconds with 95% intervals; None where there are too few samples."""
    values = np.sort(latency_us.astype(float)) / 1000.0
    out: dict[str, Any] = {
        "count": int(values.size),
        "mean_ms": float(values.mean()) if values.size else None,
    }
    for name, q in QUANTILES.items():
        enough = values.size >= stats.quantile_needs(q)
        if not values.size:
            out[name] = None
            continue
        out[name] = {
            "ms": float(np.quantile(values, q, method="inverted_cdf")),
            "ci95": list(stats.quantile_interval(values, q)) if enough else None,
        }
    return out


def summarise(samples: pd.DataFrame, plan: LoadPlan, cost: dict[str, Any]) -> dict[str, Any]:
    """Trim warm-up and cool-down, then describe latency, rate and errors per endpoint and overall."""
    window, seconds = trim(samples, plan)
    return describe(samples, window, seconds, plan, cost)


def trim(samples: pd.DataFrame, plan: LoadPlan) -> tuple[pd.DataFrame, float]:
    """The samples that started inside the measured window (warm-up and cool-down cut), and its length."""
    first, last = float(samples["start"].min()), float(samples["start"].max())
    window = samples[
        (samples["start"] >= first + plan.warmup_seconds) & (samples["start"] <= last - plan.cooldown_seconds)
    ]
    return window, max(last - plan.cooldown_seconds - (first + plan.warmup_seconds), 1e-9)


def describe(
    samples: pd.DataFrame, window: pd.DataFrame, seconds: float, plan: LoadPlan, cost: dict[str, Any]
) -> dict[str, Any]:
    """Latency, rate and errors per endpoint and overall of the ``window`` (``seconds`` long)."""
    endpoints: dict[str, dict[str, Any]] = {}
    for name, group in [*window.groupby("name", sort=True), ("all", window)]:
        ok = group[group["ok"] == 1]
        endpoints[str(name)] = {
            "requests": len(group),
            "errors": int((group["ok"] == 0).sum()),
            "error_rate": float((group["ok"] == 0).mean()) if len(group) else 0.0,
            "rate_per_s": float(len(group) / seconds),
            "latency": latency_stats(ok["latency_us"].to_numpy()),
            "service": latency_stats(ok["service_us"].to_numpy()),
        }
    summary: dict[str, Any] = {
        "window_seconds": seconds,
        "samples_total": len(samples),
        "samples_in_window": len(window),
        "endpoints": endpoints,
        "generator": cost,
        "warnings": [],
    }
    busy = summary["generator"]["busy_share_per_process"]
    if busy >= GENERATOR_BUSY:
        summary["warnings"].append(
            f"the load generator used {busy:.0%} of a core per process: it, not the server, may limit the "
            "rate; add --processes or fewer users"
        )
    if plan.rate > 0:
        achieved = float(endpoints["all"]["rate_per_s"])
        summary["open_loop"] = {"target_rate": plan.rate, "achieved_rate": achieved}
        if achieved < 0.95 * plan.rate:
            summary["warnings"].append(
                f"achieved {achieved:.1f}/s of the {plan.rate:g}/s asked: more users needed, "
                "or the server is saturated"
            )
    if plan.step_rates:
        summary["steps"] = _steps(endpoints, plan)
    return summary


def generator(run: LocustRun, processes: int) -> dict[str, Any]:
    """What the load generator cost. Steady state (the users running, as each locust process counted
    it): CPU per request and the share of a core each process kept busy, which decides whether the
    generator rather than the server limited the rate. Start-up (imports, request bodies, spawning,
    a distributed run's master) is the rest of the process tree's CPU, reported on its own."""
    counted = bool(run.steady and run.steady["requests"])
    if counted:
        cpu, wall, requests = (
            run.steady["cpu_seconds"],
            run.steady["wall_seconds"],
            int(run.steady["requests"]),
        )
    else:  # a locustfile without mlgate's common module: only the whole tree's CPU is known
        cpu, wall, requests = run.cpu, run.wall, len(run.samples)
    busy = cpu / max(wall, 1e-9) / max(processes, 1)
    return {
        "cpu_seconds": run.cpu,
        "startup_cpu_seconds": max(run.cpu - cpu, 0.0) if counted else None,
        "steady_state": counted,
        "cpu_ms_per_request": cpu * 1000 / requests if requests else None,
        "busy_share_per_process": busy,
        "bottleneck": busy >= GENERATOR_BUSY,
    }


def budgets(summary: dict[str, Any], plan: LoadPlan) -> dict[str, Any]:
    """The plan's latency and error budgets against the run's own numbers (all endpoints, warm-up and
    cool-down trimmed): the same p95 and p99 the summary reports and the comparator judges."""
    total = summary["endpoints"]["all"]
    broken = []
    if total["requests"] and total["error_rate"] > plan.max_error_rate:
        broken.append(f"error rate {total['error_rate']:.2%} > {plan.max_error_rate:.2%}")
    for name, budget in (("p95", plan.p95_ms), ("p99", plan.p99_ms)):
        value = (total["latency"].get(name) or {}).get("ms")
        if budget and value is None:  # fail closed: a budget nothing was measured against is not kept
            broken.append(f"{name}: no request in the measured window to judge the {budget:g} ms budget by")
        elif budget and value is not None and value > budget:
            broken.append(f"{name} {value:.3g} ms > {budget:g} ms")
    return {
        "p95_ms": plan.p95_ms or None,
        "p99_ms": plan.p99_ms or None,
        "max_error_rate": plan.max_error_rate,
        "broken": broken,
    }


def _steps(endpoints: dict[str, Any], plan: LoadPlan) -> dict[str, Any]:
    """Per-step p95 and achieved rate, and the highest step that kept the p95 budget."""
    steps, best = [], None
    path = read_api().path  # the locust users name their endpoints by the API's path
    for rate in plan.step_rates:
        name = f"{path} [open loop {rate:g}/s]"
        data = endpoints.get(name)
        if data is None:
            continue
        p95 = (data["latency"].get("p95") or {}).get("ms")
        achieved = data["requests"] / plan.step_seconds
        met = p95 is not None and (not plan.p95_ms or p95 <= plan.p95_ms) and achieved >= 0.85 * rate
        steps.append({"target_rate": rate, "achieved_rate": achieved, "p95_ms": p95, "within_budget": met})
        if met:
            best = rate if best is None else max(best, rate)
    return {"p95_budget_ms": plan.p95_ms or None, "steps": steps, "highest_rate_within_budget": best}


def interleaved(
    locustfiles: Path,
    baseline: str,
    candidate: str,
    runs: int,
    plan: LoadPlan,
    out: Path,
    progress: Any = None,
) -> list[dict[str, Any]]:
    """A B A B ...: ``runs`` runs per side into out/baseline/run-NN and out/candidate/run-NN."""

    def one_run(k: int) -> list[dict[str, Any]]:
        summaries = []
        for side, host in (("baseline", baseline), ("candidate", candidate)):
            if progress:
                progress(f"run {k}/{runs} {side} ({host})")
            summaries.append(run_once(locustfiles, host, plan, out / side / f"run-{k:02d}", label=side))
        return summaries

    index = {"design": "interleaved A B A B", "baseline": baseline, "candidate": candidate}
    return paired_runs(out, runs, index, one_run)


def paired_runs(
    out: Path, runs: int, index: dict[str, Any], one_run: Callable[[int], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Runs 1..``runs`` of a two-sided design (``one_run(k)`` writes run k of both sides under ``out``),
    then out/load.json describing it. Interrupted, the whole pairs stay, marked partial."""
    if out.exists():
        raise MlgateError(
            f"--out: {out} already exists; load results are never overwritten, choose another folder"
        )
    summaries: list[dict[str, Any]] = []
    done = 0
    try:
        for k in range(1, runs + 1):
            summaries += one_run(k)
            done = k
    except BaseException as exc:
        # An unpaired run is not evidence; whole pairs of an interrupted design are, marked partial.
        for side in ("baseline", "candidate", "duet"):
            shutil.rmtree(out / side / f"run-{done + 1:02d}", ignore_errors=True)
        if done == 0 or not isinstance(exc, (interrupts.Interrupted, KeyboardInterrupt)):
            shutil.rmtree(out, ignore_errors=True)
            raise
        index.update(runs_per_side=done, planned_runs_per_side=runs, partial=True)
        atomic.write_text(out / "load.json", json.dumps(index, indent=2) + "\n")
        interrupts.keep(f"{2 * done} complete runs in {out} (load.json says partial)")
        raise
    index.update(runs_per_side=runs, planned_runs_per_side=runs, partial=False)
    atomic.write_text(out / "load.json", json.dumps(index, indent=2) + "\n")
    return summaries


def planned_seconds(plan: LoadPlan) -> float:
    """How long one run loads the server: the steps of a step load, else the run time."""
    return len(plan.step_rates) * plan.step_seconds if plan.step_rates else plan.run_seconds
