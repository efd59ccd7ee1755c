"""`mlgate demo`: the release check on the embedded reference model, v1 (production) vs v2."""

from __future__ import annotations

import time
from pathlib import Path

from rich.markup import escape

from mlgate import compare as comparing
from mlgate import console, reference
from mlgate.errors import EXIT_OK, EXIT_REGRESSION
from mlgate.policy import load_policy
from mlgate.report import files, text
from mlgate.tables import write_table
from mlgate.workflow import predict_file, train_artifact

BASELINE, CANDIDATE = "v1", "v2"


def run(results: Path) -> int:
    """Generate data, train both versions, predict the holdout, compare; return the exit code."""
    started = time.perf_counter()
    say = console.out.print
    data_dir, models, predictions = results / "data", results / "models", results / "predictions"
    say(f"[bold]mlgate demo[/]: {reference.spec.name}, {BASELINE} (production) vs {CANDIDATE} (candidate)")

    with console.err.status("1/4 generating the reference data"):
        holdout_file = data_dir / "holdout.csv"
        write_table(reference.train_frame(), data_dir / "train.csv")
        write_table(reference.holdout_frame(), holdout_file)
    say(
        f"1/4 data: {reference.TRAIN_ROWS:,} train + {reference.HOLDOUT_ROWS:,} holdout rows in "
        f"{escape(str(data_dir))}"
    )

    for version in (BASELINE, CANDIDATE):
        with console.err.status(f"2/4 training {version}"):
            # The demo is deterministic, so replacing its own earlier models loses nothing.
            summary = train_artifact(None, version, models / version, force=True)
        say(f"2/4 {escape(summary)}")

    for version in (BASELINE, CANDIDATE):
        with console.err.status(f"3/4 predicting the holdout with {version}"):
            out = predictions / f"{version}.parquet"
            summary = predict_file(models / version, holdout_file, out, steps=True, force=True)
        say(f"3/4 {escape(summary)}")

    with console.err.status(f"4/4 comparing {CANDIDATE} with {BASELINE} on the holdout"):
        inputs = comparing.Inputs(models / BASELINE, models / CANDIDATE, reference.spec)
        report = comparing.run(inputs, load_policy())
        folder = files.default_folder(results, report.baseline, report.candidate)
        files.write(report, folder)
    say("4/4 release check:")
    text.print_summary(report, console.out)
    say(
        f"done in {time.perf_counter() - started:.1f} s. Models: {escape(str(models))}, predictions: "
        f"{escape(str(predictions))}, report: {escape(str(folder))}/report.html"
    )
    return EXIT_REGRESSION if report.verdict == "regression" else EXIT_OK
