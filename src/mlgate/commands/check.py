"""`mlgate check`: the whole release check of the configured model, baseline vs candidate.

Train and predict both sides, asv of both (interleaved commits, or both versions in this
environment), serve both, served parity, duet (or interleaved) load with an A/A canary, one compare,
one report.
A side is a spec version (both built from this checkout) or a git revision (each built from its own
tree; the candidate defaults to the working tree, the baseline to the last tag).
"""

from __future__ import annotations

import contextlib
import socket
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
from rich.markup import escape

from mlgate import calibration, compare
from mlgate.asv_integration import runner as asv_runner
from mlgate.checks.latency import MIN_REQUESTS
from mlgate.commands import confirm, revisions
from mlgate.commands.plans import Plan
from mlgate.evidence import AsvPair, Evidence, LoadRuns, Measured, Served
from mlgate.evidence.asv_results import read_pair
from mlgate.evidence.load_runs import read_pair as read_runs
from mlgate.evidence.served import fetch_predictions
from mlgate.infra import atomic, console, interrupts
from mlgate.infra.errors import EXIT_OK, EXIT_REGRESSION, MlgateError
from mlgate.model.spec import ModelSpec, load_spec
from mlgate.model.tables import write_table
from mlgate.model.workflow import export_data, predict_file, train_artifact
from mlgate.policy import read_policy
from mlgate.report import files, text
from mlgate.serving import duet_run
from mlgate.serving import locust_run as load
from mlgate.serving import server as serve

REFERENCE = "mlgate.reference:spec"  # `mlgate demo`: the embedded model
WORKING_TREE = "working tree"
QUALITY_BENCH = {"regression": r"model\.Quality\.", "classification": "ClassQuality|ClassLogLoss"}
PROBE_CALLS = 20


@dataclass(frozen=True)
class Side:
    label: str  # as named: a version, a tag, a commit or "working tree"
    version: str | None  # the spec version to train; None: the newest its spec lists at that revision
    commit: str | None  # None: both sides are versions of this checkout


def run(
    spec_ref: str | None,
    baseline: str | None,
    candidate: str | None,
    plan: Plan,
    results: Path,
    report_dir: Path | None = None,
    version: str | None = None,
) -> int:
    """The release check; returns 0 (no regression) or 1 (regression). Errors raise MlgateError."""
    started = time.perf_counter()
    say = console.out.print
    atomic.check_path(results, "--out")
    spec = load_spec(spec_ref)
    base, cand = sides(spec, baseline, candidate, version)
    # One name for the evidence (results/check/NAME) and the report (results/reports/NAME).
    name = files.default_folder(results, base.label, cand.label).name
    work = results / "check" / name
    report_dir = report_dir or results / "reports" / name
    if atomic.check_path(report_dir, "--report").exists():
        raise MlgateError(f"--report: {report_dir} already exists; choose another folder or move it aside")
    # Everything a bad input can break is checked here, before minutes of training and loading.
    atomic.check_writable(work, "--out")
    atomic.check_writable(report_dir, "--report")
    policy = read_policy()
    history = (
        calibration.read_history() if "load" not in plan.skip else {}
    )  # read, and extended, by the load step
    say(
        f"[bold]mlgate check[/] ({plan.name} plan): {spec.name}, "
        f"{base.label} (baseline) vs {cand.label} (candidate)"
    )

    holdout_file = export_data(spec, work / "data", "parquet")[1]
    interrupts.keep(f"the evidence gathered so far in {work}", key="check")
    say(f"1/6 data: {spec.name}'s train and holdout files in {escape(str(work / 'data'))}")
    models = work / "models"
    for role, side in (("baseline", base), ("candidate", cand)):
        with console.err.status(f"2/6 training the {role} ({side.label})"):
            summary = _train(spec_ref, side, models / role)
        say(f"2/6 {role}: {escape(summary)}")
    for role in ("baseline", "candidate"):
        with console.err.status(f"3/6 predicting the holdout with the {role}"):
            out = work / "predictions" / f"{role}.parquet"
            summary = predict_file(models / role, holdout_file, out, steps=True, spec_ref=spec_ref)
        say(f"3/6 {role}: {escape(summary)}")

    asv = None
    if "asv" not in plan.skip:
        bench = plan.asv_bench.format(quality=QUALITY_BENCH[spec.task])
        asv = _asv_evidence(spec_ref, base, cand, replace(plan, asv_bench=bench), work, say)
    served, load_runs, look = _served_evidence(spec, models, work, plan, say)
    load, load_canary = load_runs or (None, None)
    measured = Measured(
        asv=asv,
        load=load,
        load_canary=load_canary,
        history=history,
        left_out=tuple(sorted(plan.skip)),
    )
    if plan.confirm_seconds > 0 and look is not None:
        measured = confirm.confirm(measured, look, plan.confirm_seconds, policy, work, say)
    evidence = Evidence(models / "baseline", models / "candidate", spec, served=served, measured=measured)
    with console.err.status("6/6 comparing the candidate with the baseline"):
        report = compare.run(evidence, policy)
        # Each check adds its A/A canary to this machine's history: from five on, the calibrated rule.
        canary = [f for f in report.checks if f.kind == "latency canary" and f.aa_sample()]
        if canary:
            calibration.record(canary)
        if base.commit is not None:  # revisions: name them, with the version each trained
            report.baseline = f"{base.label} ({report.baseline})"
            report.candidate = f"{cand.label} ({report.candidate})"
        files.write(report, report_dir)
    say("6/6 release check:")
    text.print_summary(report, console.out, every=console.verbose)
    say(
        f"done in {time.perf_counter() - started:.1f} s. Evidence: {escape(str(work))}, "
        f"report: {escape(str(report_dir))}/report.html"
    )
    return EXIT_REGRESSION if report.verdict == "regression" else EXIT_OK


def sides(
    spec: ModelSpec, baseline: str | None, candidate: str | None, version: str | None = None
) -> tuple[Side, Side]:
    """What BASELINE and CANDIDATE name: both spec versions, or both git revisions (each trained as
    ``version``, else as the newest version its spec lists)."""
    here = Path.cwd()
    if baseline is not None and baseline in spec.versions:
        if version is not None:
            raise MlgateError("--version: BASELINE is a spec version already; --version is for git revisions")
        candidate = candidate or spec.versions[-1]
        if candidate not in spec.versions:
            raise MlgateError(
                f"CANDIDATE: {candidate!r} is not a version of {spec.name} ({', '.join(spec.versions)}); "
                "with a version as BASELINE the candidate is a version too"
            )
        return Side(baseline, baseline, None), Side(candidate, candidate, None)
    baseline = baseline or revisions.last_tag(here)
    base_commit = revisions.resolve(here, baseline)
    if base_commit is None:
        raise MlgateError(
            f"BASELINE: {baseline!r} is neither a version of {spec.name} ({', '.join(spec.versions)}) "
            "nor a git revision here; name one of them"
        )
    if candidate is None:
        head = revisions.resolve(here, "HEAD")
        label = WORKING_TREE if revisions.is_dirty(here) else (head or "HEAD")[:12]
        return Side(baseline, version, base_commit), Side(label, version, head)
    cand_commit = revisions.resolve(here, candidate)
    if cand_commit is None:
        raise MlgateError(
            f"CANDIDATE: {candidate!r} is not a git revision here; name a tag, branch or commit"
        )
    return Side(baseline, version, base_commit), Side(candidate, version, cand_commit)


def _train(spec_ref: str | None, side: Side, out: Path) -> str:
    """Train one side: in this process for a version, in its own tree and process for a revision."""
    if side.commit is None:
        assert side.version is not None
        return train_artifact(spec_ref, side.version, out)
    tree = Path.cwd()
    if side.label != WORKING_TREE:
        tree = revisions.export_tree(Path.cwd(), side.commit, out.parent.parent / "trees" / out.name)
    command = [sys.executable, "-m", "mlgate", "train", "--out", str(out.resolve())]
    command += ["--spec", spec_ref] if spec_ref else []
    command += ["--version", side.version] if side.version else []
    result = interrupts.run_child(command, timeout=3600, what=f"training {side.label}", cwd=tree)
    if result.returncode != 0:
        why = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:]
        raise MlgateError(f"training {side.label} in {tree} failed: {' '.join(why)}")
    return " ".join(result.stdout.split())  # one line, however the subprocess's console wrapped it


def _asv_evidence(
    spec_ref: str | None, base: Side, cand: Side, plan: Plan, work: Path, say: Any
) -> AsvPair | None:
    """asv evidence: both commits interleaved in the repo's environments, or both versions here."""
    here = Path.cwd()
    if not (here / "asv.conf.json").is_file() or not (here / "benchmarks").is_dir():
        say("asv: skipped, no asv.conf.json and benchmarks/ here (`mlgate init` writes them)")
        return None
    # SamePredictions compares with the baseline artifact: the "production" model of this check.
    env = {"MLGATE_BASELINE_ARTIFACT": str((work / "models" / "baseline").resolve())}
    env |= {"MLGATE_ASV_PLAN": plan.name} if plan.name == "quick" else {}
    env |= {"MLGATE_BENCH_SPEC": spec_ref} if spec_ref else {}
    head = revisions.resolve(here, "HEAD")
    if head is None:
        say("asv: skipped, not a git checkout (asv labels results by commit)")
        return None
    if base.commit is None:
        runs = {}
        for role, side in (("baseline", base), ("candidate", cand)):
            with console.err.status(f"asv: benchmarking {side.label} ({plan.name} plan, this environment)"):
                side_env = env | {"MLGATE_BENCH_VERSION": str(side.version), "MLGATE_PROJECT_DIR": str(here)}
                runs[role] = asv_runner.run_existing(
                    here, work / "asv" / role, plan.asv_bench, head, env=side_env
                )
        say(
            f"asv: {plan.name} benchmarks of {base.label} and {cand.label} in this environment: "
            f"{escape(str(work / 'asv'))}"
        )
        return read_pair((runs["baseline"], head, "asv"), (runs["candidate"], head, "asv"))
    if cand.label == WORKING_TREE:
        say(
            "[yellow]asv: skipped[/], the working tree has uncommitted changes and asv measures commits; "
            "commit them"
        )
        return None
    assert cand.commit is not None
    with console.err.status(
        f"asv: {base.label} and {cand.label} interleaved ({plan.name} plan; "
        "the first run builds the environment)"
    ):
        results_dir = asv_runner.run_commits(here, [base.commit, cand.commit], plan.asv_bench, env)
    say(
        f"asv: {base.label} and {cand.label} interleaved in asv's environment; "
        "history in results/asv, HTML in results/html"
    )
    return read_pair(
        (results_dir, base.commit, "asv"), (results_dir, cand.commit, "asv"), machine=socket.gethostname()
    )


def _served_evidence(
    spec: ModelSpec, models: Path, work: Path, plan: Plan, say: Any
) -> tuple[tuple[Served, ...], tuple[LoadRuns, LoadRuns] | None, confirm.LoadLook | None]:
    """Serve both sides on loopback: their answers on the holdout (for served parity), and the
    load of both (duet by default) with its A/A canary (None when load is skipped), and what a
    confirming look would repeat."""
    served = []
    holdout = spec.holdout_rows()
    requests_file = work / "data" / "requests.parquet"
    write_table(holdout[[spec.id_column, *spec.features(holdout).columns]], requests_file)
    base_dir, cand_dir = models / "baseline", models / "candidate"
    with serve.background(base_dir) as base_url, serve.background(cand_dir) as cand_url:
        say(f"4/6 serving the baseline at {base_url} and the candidate at {cand_url}")
        for role, url in (("baseline", base_url), ("candidate", cand_url)):
            with console.err.status(f"4/6 the served {role}'s predictions of the holdout"):
                answers = fetch_predictions(url, holdout, spec.id_column, batch_size=500)
            served.append(Served(role, url, answers))
            say(f"4/6 {role}: {len(answers):,} predictions served at {url} (served parity is judged in 6/6)")
        if "load" in plan.skip:
            return tuple(served), None, None
        load_plan = _load_plan(base_url, holdout, spec.id_column, plan, requests_file, say)
        out = work / "load" / "ab"
        canary_out = work / "load" / "aa-canary"
        duet = plan.load_design == "duet"
        design = duet_run.duet if duet else load.interleaved
        # The A/A canary of a duet loads a second server of the baseline, as the A/B loads two servers.
        twin = serve.background(base_dir) if duet else contextlib.nullcontext(base_url)
        with twin as twin_url, console.err.status("5/6 load") as status:
            # The A/B design, then the same design with the baseline on both sides: the A/A canary.
            look_seconds = 0.0
            for folder, candidate_url, what in (
                (out, cand_url, "baseline vs candidate"),
                (canary_out, twin_url, "baseline vs baseline"),
            ):
                started = time.perf_counter()
                design(
                    load.default_locustfiles(),
                    base_url,
                    candidate_url,
                    plan.load_runs,
                    load_plan,
                    folder,
                    progress=lambda text, w=what: status.update(f"5/6 load ({w}): {text}"),
                )
                look_seconds = look_seconds or time.perf_counter() - started
        words = "duet load (each body to both servers at once)" if duet else "interleaved load"
        say(
            f"5/6 {words}, {plan.load_runs} runs of {load_plan.requests} requests a side, and the "
            f"same design baseline vs baseline as the A/A canary: {escape(str(work / 'load'))}"
        )
    load_runs = (
        read_runs(out / "baseline", out / "candidate", ("load", "load")),
        read_runs(canary_out / "baseline", canary_out / "candidate", ("canary", "canary")),
    )
    look = confirm.LoadLook(design, plan.load_runs, load_plan, (base_dir, cand_dir), look_seconds)
    return tuple(served), load_runs, look


def _load_plan(
    url: str, holdout: pd.DataFrame, id_column: str, plan: Plan, requests_file: Path, say: Any
) -> load.LoadPlan:
    """Runs sized in requests from the served model's speed here, within the plan's load budget.

    Machines of one kind differ by 3-4x on pandas-bound models, so a run sized in seconds held 2
    requests on one machine and hundreds on another; the number of requests is what a verdict needs.
    """
    wanted = MIN_REQUESTS["p95"]
    with console.err.status(f"5/6 measuring the serving speed ({PROBE_CALLS} single-row calls)"):
        started = time.perf_counter()
        fetch_predictions(url, holdout.head(PROBE_CALLS), id_column, batch_size=1)
        per_request = (time.perf_counter() - started) / PROBE_CALLS
    run_seconds = plan.load_seconds / (4 * plan.load_runs)  # two designs, two sides each
    requests = max(min(wanted, int(run_seconds / per_request)), 20)
    say(
        f"5/6 serving speed here: {per_request * 1000:.0f} ms a call ({1 / per_request:.1f} requests/s); "
        f"runs of {requests:,} requests"
    )
    if requests < wanted:
        needed = 4 * plan.load_runs * wanted * per_request / 60
        say(
            f"[yellow]5/6 note:[/] a p95 verdict needs {wanted:,}+ requests a run, about {needed:.0f} min "
            f"of load for this design on this machine; the {plan.name} plan's budget is "
            f"{plan.load_seconds / 60:.1f} min, so expect inconclusive latency verdicts"
            + (" (`--plan full` allows more)" if plan.name == "quick" else "")
        )
    # The time bound is never meant to be reached: three times the expected run, at least 30 s.
    bound = max(30.0, 3 * requests * per_request)
    return load.LoadPlan(
        users=2,
        spawn_rate=2,
        run_seconds=bound,
        requests=requests,
        warmup_seconds=1,
        cooldown_seconds=0.5,
        data_file=requests_file,
    )
