"""A whole comparison's evidence in the formats mlgate reads (predictions files, asv results, load
run summaries), made from a seed in a second, for tests of the report. The candidate can be made
slower or less accurate; everything else is the measurement noise of a quiet machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlgate import compare
from mlgate.evidence import AsvPair, Evidence, LoadRuns, Measured
from mlgate.evidence.asv_results import CommitResults, Measurement
from mlgate.model.spec import load_spec
from mlgate.policy import DEFAULT, Policy
from mlgate.report import Report

ROWS = (1, 100, 10_000)
ENDPOINTS = {"/predict [1 row]": 30.0, "/predict [batch]": 45.0}  # p50 in ms
SPREAD = {"p50": 1.0, "p90": 1.3, "p95": 1.45, "p99": 1.9, "p99.9": 2.6}  # percentile / p50


def asv_side(rng: np.random.Generator, slower: float, rounds: int = 10) -> CommitResults:
    """Inference at three batch sizes (a + b x rows), training time and the model's size."""
    found: dict[str, Measurement] = {}
    for rows in ROWS:
        seconds = (0.030 + rows * 2e-6) * slower * rng.lognormal(0, 0.02, rounds)
        name = f"Inference.time_predict(rows={rows})"
        found[name] = Measurement(
            name,
            "bench_inference.Inference.time_predict",
            "time",
            "seconds",
            {"rows": str(rows)},
            float(np.median(seconds)),
            seconds.tolist(),
            rounds * 5,
        )
    fit = 1.5 * slower * rng.lognormal(0, 0.02, rounds)
    found["Training.time_fit"] = Measurement(
        "Training.time_fit", "bench_training.Training.time_fit", "time", "seconds", {}, float(np.median(fit)),
        fit.tolist(), rounds * 2,
    )  # fmt: skip
    found["ModelSize.track_model_bytes"] = Measurement(
        "ModelSize.track_model_bytes", "bench_model.ModelSize.track_model_bytes", "track", "bytes", {},
        2.0e6, [2.0e6], 1,
    )  # fmt: skip
    return CommitResults("abc", "box", "existing-py", Path("abc.json"), found, {})


def load_side(rng: np.random.Generator, slower: float, runs: int = 6) -> list[dict[str, Any]]:
    """Run summaries as `mlgate load` writes them: percentiles with intervals, rate and errors."""
    summaries = []
    for _ in range(runs):
        endpoints: dict[str, Any] = {}
        for endpoint, p50 in ENDPOINTS.items():
            run_level = p50 * slower * rng.lognormal(0, 0.03)
            latency = {
                q: {"ms": run_level * ratio, "ci95": [run_level * ratio * 0.95, run_level * ratio * 1.06]}
                for q, ratio in SPREAD.items()
            }
            endpoints[endpoint] = {"requests": 2500, "latency": latency}
        endpoints["all"] = {
            "requests": 5000,
            "rate_per_s": 40.0 / slower * rng.lognormal(0, 0.01),
            "error_rate": 0.0,
        }
        summaries.append({"endpoints": endpoints})
    return summaries


def write_predictions(folder: Path, worse: float, rows: int = 2000) -> tuple[Path, Path, Path]:
    """Labels and two predictions files; the candidate's errors ``worse`` times larger (0: the same)."""
    rng = np.random.default_rng(3)
    truth = rng.lognormal(12, 0.4, rows)
    base = truth + rng.normal(0, 20_000, rows)
    cand = truth + (base - truth) * (1 + worse) + rng.normal(0, 10, rows)
    ids = np.arange(rows)
    paths = (folder / "labels.csv", folder / "baseline.csv", folder / "candidate.csv")
    pd.DataFrame({"Id": ids, "SalePrice": truth}).to_csv(paths[0], index=False)
    for path, values in ((paths[1], base), (paths[2], cand)):
        pd.DataFrame({"Id": ids, "prediction": values}).to_csv(path, index=False)
    return paths


def report(
    folder: Path,
    slower: float = 1.0,
    worse: float = 0.0,
    history: dict[str, list[float]] | None = None,
    policy: Policy = DEFAULT,
) -> Report:
    """The report of a full comparison: predictions, asv and load evidence, each with its canary."""
    rng = np.random.default_rng(11)
    folder.mkdir(parents=True, exist_ok=True)
    labels, base, cand = write_predictions(folder, worse)
    measured = Measured(
        asv=AsvPair(asv_side(rng, 1.0), asv_side(rng, slower)),
        load=LoadRuns(load_side(rng, 1.0), load_side(rng, slower)),
        load_canary=LoadRuns(load_side(rng, 1.0), load_side(rng, 1.0)),
        history=history or {},
    )
    spec = load_spec("mlgate.reference:spec")
    return compare.run(Evidence(base, cand, spec, data=labels, measured=measured), policy)
