"""The command line: parse, call, print. The work lives in the modules it calls."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from typer.exceptions import Abort, TyperException

from mlgate.infra import console, interrupts
from mlgate.infra.errors import MlgateError

if TYPE_CHECKING:
    from mlgate.evidence import BenchmarkPair
    from mlgate.evidence.replay import Replay
    from mlgate.model.spec import ModelSpec

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="mlgate: may this model version replace the one in production?",
)
log = logging.getLogger("mlgate")
_state = {"verbosity": 0}

SpecOption = Annotated[
    str | None,
    typer.Option(
        "--spec",
        help="Model spec as MODULE:OBJECT (default: [tool.mlgate] model, else the embedded reference model).",
    ),
]
ThreadsOption = Annotated[
    int,
    typer.Option(
        "--threads",
        min=0,
        help="BLAS/OpenMP threads while training/predicting; 0 leaves them unpinned.",
    ),
]
BenchBaselineOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--pytest-benchmark-baseline",
        help="pytest-benchmark save (JSON, with --benchmark-save-data) of the baseline; repeat per save.",
    ),
]
BenchCandidateOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--pytest-benchmark-candidate",
        help="pytest-benchmark save (JSON, with --benchmark-save-data) of the candidate; repeat per save.",
    ),
]
TrustPickleOption = Annotated[
    bool,
    typer.Option(
        "--trust-pickle",
        help="Also load pickle/joblib models. Unpickling CAN RUN ARBITRARY CODE: "
        "use only for files you trust.",
    ),
]


@app.callback()
def _main(
    verbose: Annotated[
        int, typer.Option("-v", "--verbose", count=True, help="More output; tracebacks for errors.")
    ] = 0,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Warnings only.")] = False,
) -> None:
    _state["verbosity"] = -1 if quiet else verbose
    console.setup_logging(_state["verbosity"])


@app.command()
def data(
    out: Annotated[Path, typer.Option("--out", help="Folder for train and holdout files.")] = Path(
        "results/data"
    ),
    spec: SpecOption = None,
    rows: Annotated[
        int | None,
        typer.Option("--rows", min=1, help="Reference model only: training rows to generate (default 1460)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Reference model only: generator seed.")] = 0,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    force: Annotated[bool, typer.Option("--force", help="Replace existing files.")] = False,
) -> None:
    """Export the model spec's train and holdout files (the reference model's are generated, seeded)."""
    from mlgate import reference
    from mlgate.model.spec import load_spec
    from mlgate.model.tables import write_table
    from mlgate.model.workflow import check_new_files, export_data

    if fmt not in ("csv", "parquet"):
        raise MlgateError(f"--format: {fmt!r} is not csv or parquet; choose one of them")
    if seed < 0:
        raise MlgateError(f"--seed: {seed} is negative; give a seed >= 0")
    model_spec = load_spec(spec)
    if model_spec is not reference.spec:
        if rows is not None or seed != 0:
            raise MlgateError(
                f"--rows/--seed: only the reference model generates data; {model_spec.name}'s are its own"
            )
        with console.err.status(f"exporting {model_spec.name}'s data"):
            paths = export_data(model_spec, out, fmt, force)
        console.out.print(f"wrote {escape(str(paths[0]))} and {escape(str(paths[1]))}")
        return
    rows = rows or reference.TRAIN_ROWS
    # Both files are checked before either is written: a refusal never leaves half the data behind.
    check_new_files([out / f"train.{fmt}", out / f"holdout.{fmt}"], force)
    holdout_rows = max(1, round(rows * reference.HOLDOUT_ROWS / reference.TRAIN_ROWS))
    for name, frame_of in (("train", reference.train_frame), ("holdout", reference.holdout_frame)):
        path = out / f"{name}.{fmt}"
        n = rows if name == "train" else holdout_rows
        with console.err.status(f"generating {n:,} {name} rows"):
            write_table(frame_of(seed=seed, n_rows=n), path)
        console.out.print(f"wrote {escape(str(path))} ({n:,} rows)")


@app.command()
def init(
    spec: SpecOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace files mlgate wrote before.")] = False,
    mlgate_requirement: Annotated[
        str | None,
        typer.Option(
            "--mlgate-requirement",
            help="How asv environments and CI install mlgate "
            "(default: this install's checkout or name==version).",
        ),
    ] = None,
) -> None:
    """Set this git repo up for mlgate: asv.conf.json, benchmarks/, locustfiles/, pyproject, CI workflow."""
    from mlgate.commands import init as project_init

    for line in project_init.run(Path.cwd(), spec, force, mlgate_requirement):
        console.out.print(escape(line))
    console.out.print("next: commit these files, then `mlgate check --plan quick` (see the README)")


@app.command()
def check(
    baseline: Annotated[
        str | None, typer.Argument(help="A spec version or a git revision (default: the last tag).")
    ] = None,
    candidate: Annotated[
        str | None,
        typer.Argument(
            help="A spec version or a git revision (default: the newest version / the working tree)."
        ),
    ] = None,
    spec: SpecOption = None,
    plan: Annotated[
        str, typer.Option("--plan", help="quick (minutes) or full (decisive, ~30 min+).")
    ] = "quick",
    out: Annotated[Path, typer.Option("--out", help="Results folder (evidence and reports).")] = Path(
        "results"
    ),
    report: Annotated[
        Path | None, typer.Option("--report", help="Report folder (default: OUT/reports/<time>-<names>).")
    ] = None,
    skip: Annotated[
        list[str] | None, typer.Option("--skip", help="Leave out an evidence step: asv or load (repeatable).")
    ] = None,
    load_seconds: Annotated[
        float | None,
        typer.Option("--load-seconds", min=10, help="Load budget of both designs (default: the plan's)."),
    ] = None,
    load_runs: Annotated[
        int | None,
        typer.Option("--load-runs", min=2, help="Load runs a side (default: the plan's)."),
    ] = None,
    load_design: Annotated[
        str,
        typer.Option(
            "--load-design",
            help="duet (both servers at once, each body to both) or interleaved (A B A B runs).",
        ),
    ] = "duet",
    version: Annotated[
        str | None,
        typer.Option(
            "--version", help="With git revisions: the spec version to train at both (default: the newest)."
        ),
    ] = None,
    confirm_budget: Annotated[
        str,
        typer.Option(
            "--confirm-budget",
            help="Extra load time (120s, 5m) for more runs while a latency verdict is inconclusive; "
            "the false-alarm rate stays at most alpha over all looks (default 0: none).",
        ),
    ] = "0",
) -> int:
    """The whole release check: train, predict, asv, serve, parity, load, compare; exit 0/1/2."""
    import dataclasses

    from mlgate.commands import plans
    from mlgate.infra.durations import parse_duration

    if plan not in plans.PLANS:
        raise MlgateError(f"--plan: {plan!r} is not one of {', '.join(plans.PLANS)}; choose one of them")
    if load_design not in plans.LOAD_DESIGNS:
        raise MlgateError(
            f"--load-design: {load_design!r} is not one of {', '.join(plans.LOAD_DESIGNS)}; "
            "choose one of them"
        )
    unknown = sorted(set(skip or []) - set(plans.SKIPPABLE))
    if unknown:
        raise MlgateError(
            f"--skip: {', '.join(unknown)} is not a step; choose from {', '.join(plans.SKIPPABLE)}"
        )
    chosen = dataclasses.replace(
        plans.PLANS[plan],
        skip=frozenset(skip or []),
        load_seconds=load_seconds or plans.PLANS[plan].load_seconds,
        load_runs=load_runs or plans.PLANS[plan].load_runs,
        load_design=load_design,
        confirm_seconds=parse_duration(confirm_budget, "--confirm-budget"),
    )
    if chosen.confirm_seconds and "load" in chosen.skip:
        raise MlgateError("--confirm-budget: confirming looks add load runs; leave out --skip load")
    from mlgate.commands import check as release_check

    return release_check.run(spec, baseline, candidate, chosen, out, report, version)


@app.command()
def train(
    out: Annotated[Path, typer.Option("--out", help="Artifact folder to create.")],
    version: Annotated[
        str | None,
        typer.Option("--version", help="Version to build, as the spec names it (default: the newest)."),
    ] = None,
    spec: SpecOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out folder.")] = False,
    threads: ThreadsOption = 1,
) -> None:
    """Train one version of the model and write DIR/model.skops and DIR/manifest.json."""
    from mlgate.model import workflow

    summary = workflow.train_artifact(spec, version, out, force=force, thread_limit=threads or None)
    console.out.print(summary)


@app.command()
def predict(
    artifact: Annotated[Path, typer.Argument(help="Artifact folder from `mlgate train`.")],
    data_file: Annotated[
        Path, typer.Option("--data", help="Rows to predict (.csv or .parquet), with the id column.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Predictions file (.csv or .parquet).")],
    steps: Annotated[
        bool, typer.Option("--steps", help="Also write every pipeline step's output to OUT.steps/.")
    ] = False,
    spec: SpecOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing output.")] = False,
    threads: ThreadsOption = 1,
    trust_pickle: TrustPickleOption = False,
) -> None:
    """Predict rows with an artifact; predictions (and step outputs) are keyed by the row id."""
    from mlgate.model import workflow

    summary = workflow.predict_file(
        artifact,
        data_file,
        out,
        steps=steps,
        spec_ref=spec,
        force=force,
        thread_limit=threads or None,
        trust_pickle=trust_pickle,
    )
    interrupts.keep(f"the predictions in {out}")
    console.out.print(summary)


@app.command()
def compare(
    baseline: Annotated[
        Path | None,
        typer.Argument(help="Artifact folder or predictions file (none: measured evidence only)."),
    ] = None,
    candidate: Annotated[Path | None, typer.Argument(help="Artifact folder or predictions file.")] = None,
    data_file: Annotated[
        Path | None,
        typer.Option("--data", help="Labelled rows (.csv/.parquet); default: the spec's holdout."),
    ] = None,
    target: Annotated[str | None, typer.Option("--target", help="Label column.")] = None,
    id_column: Annotated[str | None, typer.Option("--id", help="Row id column.")] = None,
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="TOML file overriding the policy.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Report folder (default results/reports/<time>-<b>-vs-<c>)."),
    ] = None,
    asv_results: Annotated[Path | None, typer.Option("--asv-results", help="asv's results_dir.")] = None,
    asv_baseline: Annotated[
        str | None, typer.Option("--asv-baseline", help="Baseline revision in asv.")
    ] = None,
    asv_candidate: Annotated[
        str | None, typer.Option("--asv-candidate", help="Candidate revision in asv.")
    ] = None,
    asv_machine: Annotated[
        str | None, typer.Option("--asv-machine", help="asv machine name, when several ran.")
    ] = None,
    load_baseline: Annotated[
        Path | None, typer.Option("--load-baseline", help="`mlgate load` run folder(s) of the baseline.")
    ] = None,
    load_candidate: Annotated[
        Path | None, typer.Option("--load-candidate", help="`mlgate load` run folder(s) of the candidate.")
    ] = None,
    canary_load: Annotated[
        Path | None,
        typer.Option("--canary-load", help="A/A load of this job: folder with baseline/ and candidate/."),
    ] = None,
    canary_asv: Annotated[
        str | None,
        typer.Option("--canary-asv", help="A/A asv pair of this job: REV_A:REV_B with the same code."),
    ] = None,
    bench_baseline: BenchBaselineOption = None,
    bench_candidate: BenchCandidateOption = None,
    replay_folder: Annotated[
        Path | None,
        typer.Option("--replay", help="`mlgate replay` folder: recorded traffic answered by both versions."),
    ] = None,
    history_folder: Annotated[
        Path, typer.Option("--calibration", help="A/A history folder (see `mlgate calibrate`).")
    ] = Path("results/calibration"),
    spec: SpecOption = None,
    trust_pickle: TrustPickleOption = False,
) -> int:
    """Compare CANDIDATE with BASELINE: exit 0 no regression, 1 regression, 2 bad input.

    Without BASELINE and CANDIDATE, only measured evidence is judged (e.g. two pytest-benchmark saves)."""
    # Usage errors first: they must not wait for pandas to import.
    if baseline is not None and candidate is None:
        raise MlgateError(
            "BASELINE/CANDIDATE: the candidate is missing; give both (artifact folders or prediction "
            "files), or neither to judge measured evidence only"
        )
    given = (bench_baseline, bench_candidate, asv_results, asv_baseline, asv_candidate, replay_folder)
    if baseline is None and not any((*given, load_baseline, load_candidate)):  # no evidence at all
        raise MlgateError(
            "BASELINE/CANDIDATE: give two artifact folders or prediction files, or measured evidence "
            "(--pytest-benchmark-*, --asv-*, --load-*, --replay) to compare"
        )
    for flag, value in (("--data", data_file), ("--target", target), ("--id", id_column)):
        if baseline is None and value is not None:
            raise MlgateError(f"{flag}: it applies to BASELINE/CANDIDATE predictions; give them or drop it")
    import mlgate.compare
    from mlgate import calibration
    from mlgate.evidence import Evidence, Measured
    from mlgate.infra.atomic import check_path, check_writable
    from mlgate.infra.errors import EXIT_OK, EXIT_REGRESSION
    from mlgate.model.spec import spec_for_artifact
    from mlgate.policy import read_policy
    from mlgate.report import files, text

    policy = read_policy(policy_file)
    if out is not None and check_path(out, "--out").exists():
        raise MlgateError(
            f"--out: {out} already exists; reports are never overwritten, choose another folder"
        )
    if out is not None:
        check_writable(out)
    for flag, value in (("--canary-asv", canary_asv), ("--asv-machine", asv_machine)):
        if value and not asv_results:
            raise MlgateError(f"{flag}: it needs --asv-results/--asv-baseline/--asv-candidate; give them too")
    if canary_load and not (load_baseline or load_candidate):
        raise MlgateError("--canary-load: it needs --load-baseline and --load-candidate; give them too")
    asv = asv_canary = load = load_canary = None
    benchmarks = _benchmark_saves(bench_baseline, bench_candidate)
    if asv_results or asv_baseline or asv_candidate:
        from mlgate.evidence import asv_results as asv_files

        if not (asv_results and asv_baseline and asv_candidate):
            raise MlgateError("--asv-results/--asv-baseline/--asv-candidate: give all three")
        rev_a, sep, rev_b = (canary_asv or "").partition(":")
        if canary_asv and not (sep and rev_a and rev_b):
            raise MlgateError(f"--canary-asv: {canary_asv!r} is not REV_A:REV_B; name two revisions")
        asv = asv_files.read_pair(
            (asv_results, asv_baseline, "--asv-baseline"),
            (asv_results, asv_candidate, "--asv-candidate"),
            asv_machine,
        )
        if canary_asv:
            asv_canary = asv_files.read_pair(
                (asv_results, rev_a, "--canary-asv"), (asv_results, rev_b, "--canary-asv"), asv_machine
            )
    if load_baseline or load_candidate:
        from mlgate.evidence.load_runs import read_pair

        if not (load_baseline and load_candidate):
            raise MlgateError("--load-baseline/--load-candidate: give both folders")
        load = read_pair(load_baseline, load_candidate, ("--load-baseline", "--load-candidate"))
        if canary_load:
            load_canary = read_pair(
                canary_load / "baseline", canary_load / "candidate", ("--canary-load",) * 2
            )
    model_spec = spec_for_artifact(spec, baseline) if baseline is not None else None
    replayed = _replay(replay_folder, spec, model_spec) if replay_folder is not None else None
    evidence = Evidence(
        baseline,
        candidate,
        model_spec,
        data_file,
        target,
        id_column,
        trust_pickle,
        measured=Measured(
            asv,
            asv_canary,
            load,
            load_canary,
            calibration.read_history(history_folder),
            benchmarks=benchmarks,
            replay=replayed,
        ),
    )
    with console.err.status("comparing"):
        report = mlgate.compare.run(evidence, policy)
    folder = out or files.default_folder(Path("results"), report.baseline, report.candidate)
    files.write(report, folder)
    text.print_summary(report, console.out, every=console.verbose)
    console.out.print(f"report: {escape(str(folder))}/report.{{json,md,html,xml}}")
    return EXIT_REGRESSION if report.verdict == "regression" else EXIT_OK


@app.command()
def serve(
    artifact: Annotated[Path, typer.Argument(help="Artifact folder from `mlgate train`.")],
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (loopback unless told).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes (one per core).")] = 1,
    max_records: Annotated[
        int, typer.Option("--max-records", min=1, max=100_000, help="Records per request.")
    ] = 1000,
    max_body_bytes: Annotated[
        int,
        typer.Option(
            "--max-body-bytes", min=1024, help="Largest request body (413 beyond it, before it is read)."
        ),
    ] = 4 * 1024 * 1024,
    record: Annotated[
        Path | None,
        typer.Option("--record", help="Append every /predict request and answer to this JSON Lines file."),
    ] = None,
    record_max: Annotated[
        int, typer.Option("--record-max", min=1, help="Stop recording after this many requests.")
    ] = 100_000,
    spec: SpecOption = None,
    trust_pickle: TrustPickleOption = False,
) -> None:
    """Serve an artifact over HTTP: POST /predict, GET /health, GET /version, /docs."""
    from mlgate.infra.atomic import check_writable
    from mlgate.serving import server as serving

    if record is not None:
        if workers > 1:
            raise MlgateError("--record: recording needs one worker (one writer to the file); drop --workers")
        if record.is_dir():
            raise MlgateError(f"--record: {record} is a folder; give a file such as traffic.jsonl")
        check_writable(record, "--record")
        # Lines are appended as requests come, so an interrupt keeps them: say so, not "nothing".
        interrupts.keep(f"the recording in {record}")
    cpus = len(os.sched_getaffinity(0))
    if workers > cpus:
        raise MlgateError(f"--workers: {workers} is more than the {cpus} CPUs here; use one per core")
    limits = serving.Limits(max_records, max_body_bytes)
    serving.run(
        artifact,
        host,
        port,
        workers,
        spec,
        trust_pickle,
        limits,
        announce=lambda text: console.err.print(escape(text)),
        record=(record, record_max) if record is not None else None,
    )


@app.command()
def load(
    host: Annotated[
        str | None, typer.Option("--host", help="Server to load, e.g. http://127.0.0.1:8000.")
    ] = None,
    baseline_host: Annotated[
        str | None, typer.Option("--baseline-host", help="Interleaved: baseline URL.")
    ] = None,
    candidate_host: Annotated[
        str | None, typer.Option("--candidate-host", help="Interleaved: candidate URL.")
    ] = None,
    runs: Annotated[
        int, typer.Option("--runs", min=1, max=50, help="Runs per side (A B A B, or duets).")
    ] = 5,
    duet: Annotated[
        bool,
        typer.Option(
            "--duet",
            help="Both servers at once: every body to both, back to back in random order (same machine).",
        ),
    ] = False,
    users: Annotated[int, typer.Option("--users", "-u", help="Concurrent users.")] = 4,
    spawn_rate: Annotated[float, typer.Option("--spawn-rate", "-r", help="Users started per second.")] = 4.0,
    run_time: Annotated[
        str, typer.Option("--run-time", "-t", help="Length of each run (30s, 2m); the bound with --requests.")
    ] = "20s",
    requests: Annotated[
        int, typer.Option("--requests", help="End each run after this many requests (0: time alone).")
    ] = 0,
    warmup: Annotated[float, typer.Option("--warmup", help="Seconds trimmed at the start.")] = 2.0,
    cooldown: Annotated[float, typer.Option("--cooldown", help="Seconds trimmed at the end.")] = 1.0,
    processes: Annotated[
        int, typer.Option("--processes", min=1, help="Locust processes (one per core).")
    ] = 1,
    rate: Annotated[float, typer.Option("--rate", min=0, help="Open loop: requests per second.")] = 0.0,
    step_rates: Annotated[str, typer.Option("--step-rates", help="Step load: rates, e.g. 10,20,40.")] = "",
    step_seconds: Annotated[
        float, typer.Option("--step-seconds", help="Step load: seconds per step.")
    ] = 10.0,
    p95_ms: Annotated[float, typer.Option("--p95-ms", help="Budget: p95 latency (ms).")] = 0.0,
    p99_ms: Annotated[float, typer.Option("--p99-ms", help="Budget: p99 latency (ms).")] = 0.0,
    max_error_rate: Annotated[
        float, typer.Option("--max-error-rate", help="Budget: share of errors.")
    ] = 0.01,
    data_file: Annotated[
        Path | None, typer.Option("--data", help="Rows to send (default: reference holdout).")
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Rows per batch request.")] = 100,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default results/load/<time>).")
    ] = None,
    locustfiles: Annotated[
        Path | None,
        typer.Option(
            "--locustfiles", help="Folder of locustfiles (default: ./locustfiles, else mlgate's own)."
        ),
    ] = None,
    allow_remote: Annotated[
        bool,
        typer.Option("--allow-remote", help="Allow a non-loopback host (a staging server you may load)."),
    ] = False,
) -> int:
    """Load a server with locust, headless and bounded; exit 1 if a latency/error budget broke."""
    from datetime import UTC, datetime

    from mlgate.infra.durations import parse_duration
    from mlgate.infra.errors import EXIT_OK, EXIT_REGRESSION
    from mlgate.serving import duet_run, locust_run

    try:
        rates = tuple(float(r) for r in step_rates.split(",") if r.strip())
    except ValueError as exc:
        raise MlgateError(
            f"--step-rates: {step_rates!r} is not a list of numbers; write it like 10,20,40"
        ) from exc
    plan = locust_run.LoadPlan(
        users=users,
        spawn_rate=spawn_rate,
        run_seconds=parse_duration(run_time),
        requests=requests,
        warmup_seconds=warmup,
        cooldown_seconds=cooldown,
        processes=processes,
        rate=rate,
        step_rates=rates,
        step_seconds=step_seconds,
        p95_ms=p95_ms,
        p99_ms=p99_ms,
        max_error_rate=max_error_rate,
        data_file=data_file,
        batch_size=batch_size,
    )
    locust_run.check_plan(plan)
    if data_file is not None and not data_file.is_file():
        raise MlgateError(f"--data: {data_file} is not a file; give the CSV or Parquet rows to send")
    locustfiles = locustfiles or locust_run.default_locustfiles()
    folder = out or Path("results/load") / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if baseline_host or candidate_host:
        if not (baseline_host and candidate_host) or host:
            raise MlgateError(
                "--baseline-host/--candidate-host: give both (and no --host) for interleaved runs"
            )
        locust_run.check_target(baseline_host, allow_remote, "--baseline-host")
        locust_run.check_target(candidate_host, allow_remote, "--candidate-host")
        locust_run.check_answers(baseline_host, "--baseline-host")
        locust_run.check_answers(candidate_host, "--candidate-host")
        if duet and (plan.rate > 0 or plan.step_rates):
            raise MlgateError("--duet: pairs are sent closed-loop; leave out --rate and --step-rates")
        design = duet_run.duet if duet else locust_run.interleaved
        with console.err.status("load") as status:
            summaries = design(
                locustfiles,
                baseline_host,
                candidate_host,
                runs,
                plan,
                folder,
                progress=lambda text: status.update(f"load: {text}"),
            )
    else:
        if not host:
            raise MlgateError("--host: give the server URL (or --baseline-host and --candidate-host)")
        if duet:
            raise MlgateError("--duet: give --baseline-host and --candidate-host (not --host)")
        locust_run.check_target(host, allow_remote)
        locust_run.check_answers(host)
        with console.err.status(f"loading {host} for {plan.run_seconds:g} s"):
            summaries = [locust_run.run_once(locustfiles, host, plan, folder)]
    broken = False
    for summary in summaries:
        total = summary["endpoints"]["all"]
        lat = total["latency"]
        shown = ", ".join(f"{q} {lat[q]['ms']:.1f} ms" for q in ("p50", "p95", "p99") if lat.get(q))
        # An empty window has no error rate of its own: show what locust counted over the whole run.
        errors = total["error_rate"] if total["requests"] else summary["locust"]["error_rate"]
        cost = summary["generator"]
        console.out.print(
            f"{summary.get('label') or summary['host']}: {total['requests']} requests, "
            f"{total['rate_per_s']:.1f}/s, errors {'unknown' if errors is None else f'{errors:.2%}'}"
            + (f", {shown}" if shown else "")
            + (
                f"; generator {cost['cpu_ms_per_request']:.2f} ms CPU a request"
                if cost["cpu_ms_per_request"]
                else ""
            )
        )
        for warning in summary["warnings"]:
            console.err.print(f"[yellow]warning:[/] {escape(warning)}")
        for budget in summary["budgets"]["broken"]:
            console.err.print(f"[bold red]budget broken:[/] {escape(budget)}")
        broken = broken or bool(summary["budgets"]["broken"]) or summary["locust_exit_code"] != 0
        if "steps" in summary:
            best = summary["steps"]["highest_rate_within_budget"]
            console.out.print(f"highest rate within the p95 budget: {best if best is not None else 'none'}/s")
    console.out.print(f"results: {escape(str(folder))}")
    return EXIT_REGRESSION if broken else EXIT_OK


@app.command()
def replay(
    traffic: Annotated[
        Path,
        typer.Argument(help="Recording (serve --record), JSON Lines of request bodies, or CSV/Parquet rows."),
    ],
    baseline_host: Annotated[str, typer.Option("--baseline-host", help="Baseline URL (the live version).")],
    candidate_host: Annotated[str, typer.Option("--candidate-host", help="Candidate URL (the shadow).")],
    users: Annotated[int, typer.Option("--users", "-u", help="Concurrent users.")] = 4,
    rate: Annotated[float, typer.Option("--rate", help="Cap: request pairs a second (0: no cap).")] = 0.0,
    run_time: Annotated[
        str,
        typer.Option("--run-time", "-t", help="Bound: stop after this long (30s, 5m) even if unfinished."),
    ] = "5m",
    out: Annotated[
        Path | None, typer.Option("--out", help="Replay folder (default results/replay/<time>).")
    ] = None,
    allow_remote: Annotated[
        bool,
        typer.Option("--allow-remote", help="Allow non-loopback hosts (staging servers you may load)."),
    ] = False,
) -> int:
    """Send each recorded request to both APIs (random order, back to back); compare with --replay."""
    from datetime import UTC, datetime

    from mlgate.infra.durations import parse_duration
    from mlgate.infra.errors import EXIT_OK
    from mlgate.serving import locust_run, replay_run
    from mlgate.serving.api import read_api
    from mlgate.serving.traffic import read_traffic

    plan = replay_run.ReplayPlan(users=users, rate=rate, run_seconds=parse_duration(run_time))
    replay_run.check_replay_plan(plan)
    folder = out or Path("results/replay") / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if folder.exists():
        raise MlgateError(f"--out: {folder} already exists; replays are never overwritten, choose another")
    for flag, host in (("--baseline-host", baseline_host), ("--candidate-host", candidate_host)):
        locust_run.check_target(host, allow_remote, flag)
    loaded = read_traffic(traffic, read_api())
    for flag, host in (("--baseline-host", baseline_host), ("--candidate-host", candidate_host)):
        locust_run.check_answers(host, flag)
    if baseline_host.rstrip("/") == candidate_host.rstrip("/"):
        console.err.print("[yellow]warning:[/] both hosts are the same server: this compares it with itself")
    with console.err.status("replay") as status:
        meta = replay_run.replay(
            loaded, baseline_host, candidate_host, plan, folder, lambda text: status.update(f"replay: {text}")
        )
    for side, refused in meta["refused"].items():
        if refused:
            console.err.print(
                f"[yellow]warning:[/] the {side} answered {refused:,} of {meta['pairs']:,} requests with "
                "an error; see the answers in pairs.jsonl (another API shape? [tool.mlgate.api])"
            )
    console.out.print(
        f"replayed {meta['pairs']:,} of {meta['requests']:,} requests to both servers"
        + ("" if meta["complete"] else f" (the run time of {plan.run_seconds:g} s ended first)")
    )
    console.out.print(
        f"replay: {escape(str(folder))}; judge it with mlgate compare --replay {escape(str(folder))}"
    )
    return EXIT_OK


@app.command()
def parity(
    artifact: Annotated[Path, typer.Argument(help="Artifact folder: the offline (research) side.")],
    api: Annotated[str, typer.Option("--api", help="URL of the served model, e.g. http://127.0.0.1:8000.")],
    data_file: Annotated[
        Path | None, typer.Option("--data", help="Rows to send (default: the spec's holdout).")
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Records per request.")] = 500,
    spec: SpecOption = None,
    trust_pickle: TrustPickleOption = False,
) -> int:
    """Training/serving skew: do the API's predictions equal the offline ones? Exit 1 if not."""
    from mlgate.checks.served import served_parity
    from mlgate.evidence import Served
    from mlgate.evidence.predictions import read_side
    from mlgate.evidence.served import check_api, fetch_predictions
    from mlgate.infra.errors import EXIT_OK, EXIT_REGRESSION
    from mlgate.model.artifacts import read_manifest
    from mlgate.model.spec import spec_for_artifact
    from mlgate.model.tables import read_table
    from mlgate.policy import read_policy

    check_api(api)
    policy = read_policy()
    model_spec = spec_for_artifact(spec, artifact)
    read_manifest(artifact, "ARTIFACT")  # a missing or broken artifact is named before any data is read
    frame = read_table(data_file) if data_file else model_spec.holdout_rows()
    source = str(data_file or "the holdout")
    offline = read_side(artifact, "ARTIFACT", model_spec, frame, source, trust_pickle=trust_pickle)
    with console.err.status(f"sending {len(frame):,} rows to {api}"):
        id_column = str(offline.manifest.get("id_column", model_spec.id_column))
        answers = Served("api", api, fetch_predictions(api, frame, id_column, batch_size))
    task = offline.task or "regression"
    finding = served_parity(offline.outputs, answers, offline.label, task, policy.parity, "served parity")
    style = {"pass": "green", "fail": "bold red"}.get(finding.status, "yellow")
    console.out.print(f"[{style}]{finding.status}[/] {escape(finding.message)}")
    return EXIT_REGRESSION if finding.status == "fail" else EXIT_OK


@app.command()
def calibrate(
    load_baseline: Annotated[
        Path | None, typer.Option("--load-baseline", help="A/A load runs, side A.")
    ] = None,
    load_candidate: Annotated[
        Path | None, typer.Option("--load-candidate", help="A/A load runs, side B.")
    ] = None,
    asv_results: Annotated[Path | None, typer.Option("--asv-results", help="asv's results_dir.")] = None,
    asv_baseline: Annotated[str | None, typer.Option("--asv-baseline", help="A revision.")] = None,
    asv_candidate: Annotated[
        str | None, typer.Option("--asv-candidate", help="A revision, same code.")
    ] = None,
    host: Annotated[
        str | None, typer.Option("--host", help="Run an A/A load against this server now.")
    ] = None,
    bench_baseline: BenchBaselineOption = None,
    bench_candidate: BenchCandidateOption = None,
    runs: Annotated[int, typer.Option("--runs", min=2, max=50, help="A/A runs per side.")] = 5,
    users: Annotated[int, typer.Option("--users", "-u", min=1, help="Users per run.")] = 2,
    run_time: Annotated[str, typer.Option("--run-time", "-t", help="Length of each run.")] = "10s",
    history_folder: Annotated[Path, typer.Option("--calibration", help="A/A history folder.")] = Path(
        "results/calibration"
    ),
) -> None:
    """Record A/A comparisons (old vs old, same design) into this machine's history."""
    import mlgate.compare
    from mlgate import calibration
    from mlgate.commands import aa_load
    from mlgate.evidence import Measured
    from mlgate.evidence import asv_results as asv_files
    from mlgate.evidence.load_runs import read_pair
    from mlgate.infra.atomic import check_writable
    from mlgate.policy import read_policy

    policy = read_policy()
    # A broken or unwritable history is found before a load of many seconds, not after it.
    calibration.read_history(history_folder)
    check_writable(calibration.history_path(history_folder), "--calibration")
    given = {
        "--load-baseline": load_baseline,
        "--load-candidate": load_candidate,
        "--asv-results": asv_results,
        "--asv-baseline": asv_baseline,
        "--asv-candidate": asv_candidate,
    }
    for group in (
        ("--load-baseline", "--load-candidate"),
        ("--asv-results", "--asv-baseline", "--asv-candidate"),
    ):
        named = [flag for flag in group if given[flag]]
        if named and len(named) < len(group):
            raise MlgateError(f"{'/'.join(group)}: give all of them together (got only {', '.join(named)})")
    if host and load_baseline:
        raise MlgateError(
            "--host/--load-baseline: give either a server to load now or earlier runs, not both"
        )
    benchmarks = _benchmark_saves(bench_baseline, bench_candidate)
    if benchmarks is not None:
        from mlgate.evidence.pytest_benchmark import check_a_a

        check_a_a(benchmarks)
    if host:
        with console.err.status("A/A load") as status:
            folder = aa_load.run(
                host, runs, users, run_time, history_folder, lambda text: status.update(f"A/A load: {text}")
            )
        load_baseline, load_candidate = folder / "baseline", folder / "candidate"
    asv = load = None
    if load_baseline and load_candidate:
        load = read_pair(load_baseline, load_candidate, ("--load-baseline", "--load-candidate"))
    if asv_results and asv_baseline and asv_candidate:
        asv = asv_files.read_pair(
            (asv_results, asv_baseline, "--asv-baseline"), (asv_results, asv_candidate, "--asv-candidate")
        )
    if asv is None and load is None and benchmarks is None:
        raise MlgateError(
            "calibrate: give --host, --load-baseline/--load-candidate, the three --asv-* options, or "
            "--pytest-benchmark-baseline/--pytest-benchmark-candidate (saves of the same code)"
        )
    # A/A evidence judged like any comparison, but without history: the history is what it records.
    findings = mlgate.compare.measured(Measured(asv=asv, load=load, benchmarks=benchmarks), policy)
    history = calibration.record(findings, history_folder)
    for finding in findings:
        sample = finding.aa_sample()
        if sample:
            key = sample[0]
            values = history[key]
            console.out.print(
                f"{escape(key)}: {len(values)} A/A comparison(s)"
                + (" (calibrated rule active)" if len(values) >= 5 else "")
            )
    console.out.print(f"history: {escape(str(calibration.history_path(history_folder)))}")


def _replay(folder: Path, spec: str | None, model_spec: ModelSpec | None) -> Replay:
    """The replay folder, with the training features of the model spec named (``--spec``, the
    artifacts' or ``[tool.mlgate] model``) for the input checks; never the embedded default's."""
    from dataclasses import replace

    from mlgate.evidence.replay import read_replay
    from mlgate.model.spec import load_spec, named_spec
    from mlgate.serving.api import read_api

    replayed = read_replay(folder, read_api())
    reference = named_spec(spec)
    if model_spec is None and reference is None:
        why = (
            "no model spec named to take training data from; give --spec MODULE:OBJECT or [tool.mlgate] model"
        )
        return replace(replayed, no_training=why)
    model_spec = model_spec or load_spec(spec)
    training = model_spec.features(model_spec.train_rows())
    rows = replayed.rows
    if rows is not None:  # ids (and labels, if sent) travel with the records; they are no inputs
        rows = rows.drop(columns=[model_spec.id_column, model_spec.target], errors="ignore")
    return replace(replayed, training=training, rows=rows)


def _benchmark_saves(baseline: list[Path] | None, candidate: list[Path] | None) -> BenchmarkPair | None:
    """pytest-benchmark saves of both sides, or None when neither was given."""
    if not (baseline or candidate):
        return None
    if not (baseline and candidate):
        raise MlgateError("--pytest-benchmark-baseline/--pytest-benchmark-candidate: give both")
    from mlgate.evidence import pytest_benchmark

    return pytest_benchmark.read_pair(baseline, candidate)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Where the demo writes.")] = Path("results"),
) -> int:
    """`mlgate check v1 v2 --plan quick` on the embedded reference model."""
    from mlgate.commands import check as release_check
    from mlgate.commands.plans import PLANS

    return release_check.run(release_check.REFERENCE, "v1", "v2", PLANS["quick"], out)


def main(argv: list[str] | None = None) -> int:
    """Entry point: one place turns errors into a one-line message and an exit code."""
    interrupts.reset()
    try:
        result = app(args=argv, standalone_mode=False, prog_name="mlgate")
    except MlgateError as exc:
        if _state["verbosity"] > 0:
            console.err.print_exception()
        console.error(escape(str(exc)))
        return exc.exit_code
    except (Abort, KeyboardInterrupt, interrupts.Interrupted) as exc:
        # Click turns a KeyboardInterrupt into Abort; the signal is in its context.
        console.error(escape(interrupts.message()))
        return interrupts.exit_code(exc.__context__ if isinstance(exc, Abort) and exc.__context__ else exc)
    except TyperException as exc:
        # Usage errors: one line, with the way to more help.
        console.error(f"{escape(exc.format_message())} (see `mlgate --help`)")
        return exc.exit_code
    return result if isinstance(result, int) else 0
