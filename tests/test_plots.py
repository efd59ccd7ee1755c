"""The data behind the report's pictures: honest about thin runs, single runs and degenerate data."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from mlgate import plots


def run(p50: float, requests: int, ci: list[float] | None = None) -> dict[str, Any]:
    latency = {
        q: {"ms": p50 * k, "ci95": ci}
        for q, k in (("p50", 1), ("p90", 1.3), ("p95", 1.5), ("p99", 2), ("p99.9", 3))
    }
    return {"endpoints": {"/predict": {"requests": requests, "latency": latency}, "all": {}}}


def test_percentiles_a_run_is_too_short_for_are_left_out() -> None:
    profile = plots.percentile_profile([run(10, 2500), run(11, 2500), run(12, 2500)])["/predict"]
    assert list(profile) == ["p50", "p90", "p95", "p99"]  # p99.9 needs 5,000+ requests a run
    centre, low, high = profile["p50"]
    assert low < centre < high and centre == np.exp(np.mean(np.log([10, 11, 12])))


def test_a_single_run_keeps_its_own_interval_or_shows_none() -> None:
    assert plots.percentile_profile([run(10, 800, [9.0, 11.5])])["/predict"]["p50"] == [10, 9.0, 11.5]
    assert plots.percentile_profile([run(10, 800)])["/predict"]["p50"] == [10, None, None]


def test_perfect_predictions_draw_without_warnings() -> None:
    ids = pd.Index(range(50), name="Id")
    truth = pd.Series(np.linspace(1, 2, 50), index=ids)
    frame = pd.DataFrame({"prediction": truth.to_numpy()}, index=ids)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drawn = plots.prediction_plots(frame, frame, truth, "regression")
    assert sum(drawn["residuals"]["baseline"]) == 50 and len(drawn["residuals"]["edges"]) == 41
