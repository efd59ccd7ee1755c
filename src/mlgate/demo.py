"""`mlgate demo`: the release check on the embedded reference model, v1 (production) vs v2."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.markup import escape

from mlgate import artifacts, asv_runner, calibration, console, load, reference, serve
from mlgate import compare as comparing
from mlgate.checks.asv_timing import asv_findings
from mlgate.checks.latency import MIN_REQUESTS, latency_findings
from mlgate.checks.runs import apply_canary
from mlgate.errors import EXIT_OK, EXIT_REGRESSION
from mlgate.evidence.asv_results import read_commit
from mlgate.evidence.load_runs import read_runs
from mlgate.evidence.served import fetch_predictions
from mlgate.policy import load_policy
from mlgate.report import Finding, files, text
from mlgate.serving_parity import served_parity
from mlgate.tables import write_table
from mlgate.training import git_commit
from mlgate.workflow import predict_file, train_artifact

BASELINE, CANDIDATE = "v1", "v2"
ASV_BENCH = "Inference.time_predict|ModelSize|Quality"
# Short but honest: five interleaved runs per version, trimmed, two users, single rows and batches,
# each run sized in requests from the served model's measured speed on this machine.
LOAD_RUNS = 5
LOAD_SECONDS = 200  # the measured load of both designs together (A/B and the A/A canary), start-ups aside
WANTED_REQUESTS = MIN_REQUESTS["p95"]  # per run: what a p95 verdict needs
PROBE_CALLS = 20


def run(results: Path) -> int:
    """Generate data, train both versions, predict the holdout, compare; return the exit code."""
    started = time.perf_counter()
    say = console.out.print
    data_dir, models, predictions = results / "data", results / "models", results / "predictions"
    say(f"[bold]mlgate demo[/]: {reference.spec.name}, {BASELINE} (production) vs {CANDIDATE} (candidate)")

    with console.err.status("1/6 generating the reference data"):
        holdout_file = data_dir / "holdout.csv"
        write_table(reference.train_frame(), data_dir / "train.csv")
        write_table(reference.holdout_frame(), holdout_file)
    say(
        f"1/6 data: {reference.TRAIN_ROWS:,} train + {reference.HOLDOUT_ROWS:,} holdout rows in "
        f"{escape(str(data_dir))}"
    )

    for version in (BASELINE, CANDIDATE):
        with console.err.status(f"2/6 training {version}"):
            # The demo is deterministic, so replacing its own earlier models loses nothing.
            summary = train_artifact(None, version, models / version, force=True)
        say(f"2/6 {escape(summary)}")

    for version in (BASELINE, CANDIDATE):
        with console.err.status(f"3/6 predicting the holdout with {version}"):
            out = predictions / f"{version}.parquet"
            summary = predict_file(models / version, holdout_file, out, steps=True, force=True)
        say(f"3/6 {escape(summary)}")

    policy = load_policy()
    extra = _asv_checks(results, say, policy) + _served_checks(models, results, say, policy)
    with console.err.status(f"6/6 comparing {CANDIDATE} with {BASELINE}"):
        inputs = comparing.Inputs(models / BASELINE, models / CANDIDATE, reference.spec)
        report = comparing.run(inputs, policy, extra)
        folder = files.default_folder(results, report.baseline, report.candidate)
        files.write(report, folder)
    say("6/6 release check:")
    text.print_summary(report, console.out)
    say(
        f"done in {time.perf_counter() - started:.1f} s. Models: {escape(str(models))}, predictions: "
        f"{escape(str(predictions))}, report: {escape(str(folder))}/report.html"
    )
    return EXIT_REGRESSION if report.verdict == "regression" else EXIT_OK


def _asv_checks(results: Path, say: Any, policy: dict[str, Any]) -> list[Finding]:
    """Quick asv runs of this checkout's inference and model benchmarks, once per model version."""
    if not Path("asv.conf.json").is_file():
        say("asv step skipped: no asv.conf.json here (run the demo from the mlgate checkout)")
        return []
    commit = git_commit(Path.cwd())
    if commit is None:
        say("asv step skipped: not a git checkout")
        return []
    commit = commit.removesuffix("+dirty")
    runs = {}
    for version in (BASELINE, CANDIDATE):
        with console.err.status(f"asv: benchmarking {version} (quick plan, this environment)"):
            folder = results / "asv-demo" / version
            runs[version] = asv_runner.run_existing(
                Path.cwd(), folder, ASV_BENCH, commit, env={"MLGATE_BENCH_VERSION": version}
            )
    say(f"asv: quick inference and model benchmarks of {BASELINE} and {CANDIDATE}: {results / 'asv-demo'}")
    base = read_commit(runs[BASELINE], commit, "asv", machine=None)
    cand = read_commit(runs[CANDIDATE], commit, "asv", machine=None)
    return asv_findings(base, cand, policy)


def _served_checks(models: Path, results: Path, say: Any, policy: dict[str, Any]) -> list[Finding]:
    """Serve both versions on loopback, check served = offline, run interleaved load against both."""
    findings: list[Finding] = []
    holdout = reference.holdout_frame()
    with serve.background(models / BASELINE) as base_url, serve.background(models / CANDIDATE) as cand_url:
        say(f"4/6 serving {BASELINE} at {base_url} and {CANDIDATE} at {cand_url}")
        for version, url in ((BASELINE, base_url), (CANDIDATE, cand_url)):
            artifact = artifacts.load(models / version, reference.TRUSTED_TYPES)
            with console.err.status(f"4/6 served-vs-offline parity of {version}"):
                finding = served_parity(artifact, holdout, url, 500, "the holdout")
            finding.name = f"served parity {version}"
            findings.append(finding)
            say(f"4/6 {escape(finding.message)}")
        plan = _load_plan(base_url, holdout, say)
        out = results / "load" / files.default_folder(results, BASELINE, CANDIDATE).name
        canary_out = out.with_name(out.name + "-canary")
        with console.err.status("5/6 load") as status:
            # The A/B design, then the same design with v1 on both sides: the A/A canary of this job.
            for folder, candidate_url, what in (
                (out, cand_url, "v1 vs v2"),
                (canary_out, base_url, "v1 vs v1"),
            ):
                load.interleaved(
                    load.default_locustfiles(),
                    base_url,
                    candidate_url,
                    LOAD_RUNS,
                    plan,
                    folder,
                    progress=lambda text, w=what: status.update(f"5/6 load ({w}): {text}"),
                )
        say(
            f"5/6 interleaved load, {LOAD_RUNS} runs of {plan.requests} requests per version, and the "
            f"same design v1 vs v1 as the A/A canary: {escape(str(out))}"
        )
    history = calibration.load()
    latency = latency_findings(
        read_runs(out / "baseline", "load"), read_runs(out / "candidate", "load"), policy, history
    )
    canary = latency_findings(
        read_runs(canary_out / "baseline", "canary"),
        read_runs(canary_out / "candidate", "canary"),
        policy,
        history,
    )
    # Each demo run adds its A/A canary to this machine's history: from five runs on, the calibrated rule.
    calibration.record(canary)
    findings += apply_canary(latency, canary)
    return findings


def _load_plan(url: str, holdout: Any, say: Any) -> load.LoadPlan:
    """Runs sized in requests from the served model's speed here, within the demo's load budget.

    Machines of one kind differ by 3-4x on pandas-bound models, so a run sized in seconds held 2
    requests on one machine and hundreds on another; the number of requests is what a verdict needs.
    """
    with console.err.status(f"5/6 measuring the serving speed ({PROBE_CALLS} single-row calls)"):
        started = time.perf_counter()
        fetch_predictions(url, holdout.head(PROBE_CALLS), reference.ID_COLUMN, batch_size=1)
        per_request = (time.perf_counter() - started) / PROBE_CALLS
    run_seconds = LOAD_SECONDS / (4 * LOAD_RUNS)  # two designs, two sides each
    affordable = int(run_seconds / per_request)
    requests = max(min(WANTED_REQUESTS, affordable), 20)
    say(
        f"5/6 serving speed here: {per_request * 1000:.0f} ms a call ({1 / per_request:.1f} requests/s); "
        f"runs of {requests:,} requests"
    )
    if requests < WANTED_REQUESTS:
        needed = 4 * LOAD_RUNS * WANTED_REQUESTS * per_request / 60
        say(
            f"[yellow]5/6 note:[/] a p95 verdict needs {WANTED_REQUESTS:,}+ requests a run, about "
            f"{needed:.0f} min of load for this design on this machine; the demo's budget is "
            f"{LOAD_SECONDS / 60:.1f} min, so expect inconclusive latency verdicts. For a decisive run: "
            f"`mlgate load --requests {WANTED_REQUESTS} --runs {LOAD_RUNS} ...`"
        )
    # The time bound is never meant to be reached: three times the expected run, at least 30 s.
    bound = max(30.0, 3 * requests * per_request)
    return load.LoadPlan(
        users=2, spawn_rate=2, run_seconds=bound, requests=requests, warmup_seconds=1, cooldown_seconds=0.5
    )
