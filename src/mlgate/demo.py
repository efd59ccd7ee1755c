"""`mlgate demo`: the release check on the embedded reference model, v1 (production) vs v2."""

from __future__ import annotations

import time
from pathlib import Path

from rich.markup import escape

from mlgate import console, reference
from mlgate.tables import write_table
from mlgate.workflow import predict_file, train_artifact

BASELINE, CANDIDATE = "v1", "v2"


def run(results: Path) -> None:
    """Generate data, train both versions, predict the holdout with step outputs; say where."""
    started = time.perf_counter()
    say = console.out.print
    data_dir, models, predictions = results / "data", results / "models", results / "predictions"
    say(
        f"[bold]mlgate demo[/]: {reference.spec.name}, {BASELINE} (production) vs "
        f"{CANDIDATE} (candidate)"
    )

    with console.err.status("1/3 generating the reference data"):
        holdout_file = data_dir / "holdout.csv"
        write_table(reference.train_frame(), data_dir / "train.csv")
        write_table(reference.holdout_frame(), holdout_file)
    say(
        f"1/3 data: {reference.TRAIN_ROWS:,} train + {reference.HOLDOUT_ROWS:,} holdout rows in "
        f"{escape(str(data_dir))}"
    )

    for version in (BASELINE, CANDIDATE):
        with console.err.status(f"2/3 training {version}"):
            # The demo is deterministic, so replacing its own earlier models loses nothing.
            summary = train_artifact(None, version, models / version, force=True)
        say(f"2/3 {escape(summary)}")

    for version in (BASELINE, CANDIDATE):
        with console.err.status(f"3/3 predicting the holdout with {version}"):
            summary = predict_file(
                models / version,
                holdout_file,
                predictions / f"{version}.parquet",
                steps=True,
                force=True,
            )
        say(f"3/3 {escape(summary)}")

    say(
        f"done in {time.perf_counter() - started:.1f} s. Models: {escape(str(models))}, "
        f"predictions: {escape(str(predictions))}"
    )
