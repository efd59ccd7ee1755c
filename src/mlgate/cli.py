"""The command line: parse, call, print. The work lives in the modules it calls."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from typer.exceptions import Abort, TyperException

from mlgate import console
from mlgate.errors import EXIT_INTERRUPTED, MlgateError

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
    rows: Annotated[
        int, typer.Option("--rows", min=1, help="Training rows (holdout gets about the same).")
    ] = 1460,
    seed: Annotated[int, typer.Option("--seed", help="Generator seed.")] = 0,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    force: Annotated[bool, typer.Option("--force", help="Replace existing files.")] = False,
) -> None:
    """Generate the reference house-price data (seeded, offline) as train and holdout files."""
    from mlgate import reference
    from mlgate.tables import write_table

    if fmt not in ("csv", "parquet"):
        raise MlgateError(f"--format: {fmt!r} is not csv or parquet; choose one of them")
    holdout_rows = max(1, round(rows * reference.HOLDOUT_ROWS / reference.TRAIN_ROWS))
    for name, frame_of in (("train", reference.train_frame), ("holdout", reference.holdout_frame)):
        path = out / f"{name}.{fmt}"
        if path.exists() and not force:
            raise MlgateError(f"--out: {path} already exists; choose another folder or pass --force")
        n = rows if name == "train" else holdout_rows
        with console.err.status(f"generating {n:,} {name} rows"):
            write_table(frame_of(seed=seed, n_rows=n), path)
        console.out.print(f"wrote {escape(str(path))} ({n:,} rows)")


@app.command()
def train(
    version: Annotated[str, typer.Option("--version", help="Version to build, as the spec names it.")],
    out: Annotated[Path, typer.Option("--out", help="Artifact folder to create.")],
    spec: SpecOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out folder.")] = False,
    threads: ThreadsOption = 1,
) -> None:
    """Train one version of the model and write DIR/model.skops and DIR/manifest.json."""
    from mlgate import workflow

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
    from mlgate import workflow

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
    console.out.print(summary)


@app.command()
def compare(
    baseline: Annotated[Path, typer.Argument(help="Artifact folder or predictions file.")],
    candidate: Annotated[Path, typer.Argument(help="Artifact folder or predictions file.")],
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
    spec: SpecOption = None,
    trust_pickle: TrustPickleOption = False,
) -> int:
    """Compare CANDIDATE with BASELINE: exit 0 no regression, 1 regression, 2 bad input."""
    from mlgate import compare as comparing
    from mlgate.errors import EXIT_OK, EXIT_REGRESSION
    from mlgate.policy import load_policy
    from mlgate.report import files, text
    from mlgate.spec import load_spec

    policy = load_policy(policy_file)
    if out is not None and out.exists():
        raise MlgateError(
            f"--out: {out} already exists; reports are never overwritten, choose another folder"
        )
    inputs = comparing.Inputs(
        baseline, candidate, load_spec(spec), data_file, target, id_column, trust_pickle
    )
    with console.err.status("comparing"):
        report = comparing.run(inputs, policy)
    folder = out or files.default_folder(Path("results"), report.baseline, report.candidate)
    files.write(report, folder)
    text.print_summary(report, console.out)
    console.out.print(f"report: {escape(str(folder))}/report.{{json,md,html,xml}}")
    return EXIT_REGRESSION if report.verdict == "regression" else EXIT_OK


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Where the demo writes.")] = Path("results"),
) -> int:
    """Run the release check on the embedded reference model: v1 (production) vs v2."""
    from mlgate import demo as demo_module

    return demo_module.run(out)


def main(argv: list[str] | None = None) -> int:
    """Entry point: one place turns errors into a one-line message and an exit code."""
    try:
        result = app(args=argv, standalone_mode=False, prog_name="mlgate")
    except MlgateError as exc:
        if _state["verbosity"] > 0:
            console.err.print_exception()
        console.error(escape(str(exc)))
        return exc.exit_code
    except (Abort, KeyboardInterrupt):
        console.error("interrupted; nothing half-written was kept")
        return EXIT_INTERRUPTED
    except TyperException as exc:
        # Usage errors: one line, with the way to more help.
        console.error(f"{escape(exc.format_message())} (see `mlgate --help`)")
        return exc.exit_code
    return result if isinstance(result, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
