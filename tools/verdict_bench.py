"""The comparator's own benchmark: false alarms and detection power of its verdicts.

    python tools/verdict_bench.py synthetic [--trials 1000] [--out docs/verdict-quality.md]
    python tools/verdict_bench.py record    # >= 30 real A/A runs of this machine -> docs/replay/
    python tools/verdict_bench.py replay    # replay them as A/A and with injected effects

Synthetic trials follow the measurement designs mlgate asks for (interleaved rounds or runs, the run
as the unit) under four noise profiles; asv's default rule (ratio > 1.1 and Mann-Whitney p < 0.002
on 2 rounds x 5 samples) and a fixed 10% ratio are computed on the same simulated data.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats as sps

from mlgate import metrics, stats
from mlgate.checks import quality
from mlgate.checks.runs import RunValues, judge
from mlgate.policy import DEFAULT, DEFAULTS

ALPHA = float(DEFAULTS["alpha"])
PROFILES = ("quiet", "noisy", "drifting", "spiky")
REPLAY = Path("docs/replay")


@dataclass(frozen=True)
class Design:
    """How one metric is measured: units (rounds or runs) per side, samples per unit, minimum effect."""

    metric: str
    units: int
    samples: int
    theta: float
    quantile: float | None = None  # latency: the unit's value is this quantile of its requests


DESIGNS = {
    "inference": Design("inference time", 20, 5, DEFAULTS["timing"]["time"]),
    "training": Design("training time", 15, 1, DEFAULTS["timing"]["training"]),
    "p95": Design("latency p95", 5, 1000, DEFAULTS["latency"]["p95"], 0.95),
    "p99": Design("latency p99", 5, 2000, DEFAULTS["latency"]["p99"], 0.99),
}
# Where the plan above misses a target in the noisy profile: more and shorter interleaved units.
LONGER = {
    "training": Design("training time, 60 repeats", 60, 1, DEFAULTS["timing"]["training"]),
    "p95": Design("latency p95, 20 runs x 500", 20, 500, DEFAULTS["latency"]["p95"], 0.95),
    "p99": Design("latency p99, 20 runs x 1000", 20, 1000, DEFAULTS["latency"]["p99"], 0.99),
}


def _noise(
    profile: str, rng: np.random.Generator, positions: np.ndarray, samples: int
) -> tuple[np.ndarray, np.ndarray]:
    """Multiplicative log-noise per unit (run or round) and per sample, for units at ``positions``."""
    n = positions.size
    unit_sd, sample_sd = {
        "quiet": (0.005, 0.01),
        "noisy": (0.03, 0.05),
        "drifting": (0.005, 0.01),
        "spiky": (0.005, 0.01),
    }[profile]
    unit = rng.normal(0, unit_sd, n)
    if profile == "drifting":
        unit += 0.10 * positions / max(positions.max(), 1)  # +10% slower by the end of the session
    if profile == "spiky":
        unit += np.where(rng.random(n) < 0.1, np.log(1.3), 0.0)
    sample = rng.normal(0, sample_sd, (n, samples))
    if profile == "spiky":
        sample += np.where(rng.random((n, samples)) < 0.02, np.log(2.0), 0.0)
    return unit, sample


def _timing_trial(design: Design, profile: str, effect: float, rng: np.random.Generator) -> dict[str, bool]:
    """One A/B (or A/A) comparison of a timing metric; which rules flag it."""
    k = design.units
    positions = np.arange(2 * k)  # A1 B1 A2 B2 ...
    unit, sample = _noise(profile, rng, positions, design.samples)
    log_times = math.log(0.03) + unit[:, None] + sample
    log_times[1::2] += math.log1p(effect)
    times = np.exp(log_times)
    base, cand = times[0::2], times[1::2]
    verdict = judge(
        RunValues(
            "t",
            "timing",
            design.metric,
            "s",
            np.median(base, axis=1).tolist(),
            np.median(cand, axis=1).tolist(),
            design.theta,
        ),
        ALPHA,
        1,
    )
    return {"mlgate": verdict.status == "fail", **_baselines(base, cand)}


def _baselines(base: np.ndarray, cand: np.ndarray) -> dict[str, bool]:
    """asv's default rule on its default design (2 rounds x up to 5 samples) and a fixed 10% ratio."""
    a, b = base[:2, :5].ravel(), cand[:2, :5].ravel()
    ratio = float(np.median(b) / np.median(a))
    p = float(sps.mannwhitneyu(a, b, alternative="two-sided").pvalue) if a.size > 1 else 1.0
    return {
        "asv default": ratio > 1.1 and p < 0.002,
        "fixed 10%": float(np.median(cand) / np.median(base)) > 1.1,
    }


def _latency_trial(
    design: Design, profile: str, effect: float, rng: np.random.Generator, tail_only: bool = False
) -> dict[str, bool]:
    """Per-run quantiles of raw request latencies; a tail-only effect slows only the slowest 10%."""
    assert design.quantile is not None
    k, n = design.units, design.samples
    positions = np.arange(2 * k)
    unit, _ = _noise(profile, rng, positions, 1)
    log_latency = math.log(0.03) + rng.normal(0, 0.35, (2 * k, n)) + unit[:, None]
    if profile == "spiky":
        log_latency += np.where(rng.random((2 * k, n)) < 0.01, np.log(3.0), 0.0)
    if effect:
        cut = np.quantile(log_latency[0::2], 0.90) if tail_only else -np.inf
        cand = log_latency[1::2]
        if tail_only:
            # Slow the requests above the baseline p90 so that the p95 moves by about ``effect``.
            cand[:] = np.where(cand > cut, cand + math.log1p(effect) * 1.0, cand)
        else:
            cand += math.log1p(effect)
    latency = np.exp(log_latency)
    per_run = np.quantile(latency, design.quantile, axis=1)
    verdict = judge(
        RunValues(
            "l", "latency", design.metric, "ms", per_run[0::2].tolist(), per_run[1::2].tolist(), design.theta
        ),
        ALPHA,
        1,
    )
    base, cand_all = latency[0::2], latency[1::2]
    pooled_ratio = float(np.quantile(cand_all, design.quantile) / np.quantile(base, design.quantile))
    rank_p = float(sps.mannwhitneyu(base[:2].ravel(), cand_all[:2].ravel()).pvalue)
    return {
        "mlgate": verdict.status == "fail",
        "asv default": pooled_ratio > 1.1 and rank_p < 0.002,
        "fixed 10%": pooled_ratio > 1.1,
    }


def _quality_trial(
    metric: str, effect: float, rng: np.random.Generator, rows: int = 10_000, resamples: int = 1000
) -> dict[str, bool]:
    """Two models sharing most of their error; the candidate is worse by ``effect``."""
    if metric == "rmse":
        y = rng.normal(0, 3, rows)
        shared = rng.normal(0, 1, rows)
        base = y + shared + rng.normal(0, 0.35, rows)
        cand = y + (1 + effect) * (shared + rng.normal(0, 0.35, rows))
        estimate = quality.regression_estimates(y, base, cand, resamples, int(rng.integers(1 << 30)))[:1]
        ratio = metrics.rmse(y, cand) / metrics.rmse(y, base)
    else:  # AUC: the candidate's score carries less of the signal
        truth = rng.integers(0, 2, rows)
        latent = rng.normal(truth * 1.2, 1.0)
        noise_b = rng.normal(0, 0.5, rows)
        base = latent + noise_b
        cand = (
            latent + noise_b * (1 + effect) + rng.normal(0, 0.05, rows)
            if effect
            else latent + noise_b + rng.normal(0, 0.05, rows)
        )
        estimate = [quality.auc_estimate(truth, base, cand)]
        ratio = (1 - estimate[0].candidate) / max(1 - estimate[0].baseline, 1e-9)
    finding = quality.judge(estimate, rows, DEFAULT)[0]
    return {"mlgate": finding.status == "fail", "asv default": False, "fixed 10%": ratio > 1.1}


def _auc_effect_for(drop: float, rng: np.random.Generator) -> float:
    """The noise scale that lowers the AUC by about ``drop`` (found once, by bisection)."""
    truth = rng.integers(0, 2, 200_000)
    latent = rng.normal(truth * 1.2, 1.0)
    noise = rng.normal(0, 0.5, truth.size)
    target = stats.auc(truth, latent + noise) - drop
    lo, hi = 0.0, 3.0
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if stats.auc(truth, latent + noise * (1 + mid)) > target else (lo, mid)
    return (lo + hi) / 2


def rate(trials: list[dict[str, bool]], rule: str) -> tuple[int, int, float, float]:
    hits = sum(t[rule] for t in trials)
    low, high = stats.wilson(hits, len(trials), 0.95)
    return hits, len(trials), low, high


def cells(
    trials_aa: int, trials_ab: int
) -> list[tuple[str, str, str, float, int, Callable[[np.random.Generator], dict[str, bool]]]]:
    """(metric, profile, label, effect, trials, one trial) for every cell of the synthetic benchmark."""
    out: list[Any] = []
    for key in ("inference", "training"):
        design = DESIGNS[key]
        for profile in PROFILES:
            for effect in (0.0, 0.05, 0.10, 0.20):
                out.append(
                    (
                        design.metric,
                        profile,
                        f"+{effect:.0%}" if effect else "A/A",
                        effect,
                        trials_aa if effect == 0 else trials_ab,
                        lambda rng, d=design, p=profile, e=effect: _timing_trial(d, p, e, rng),
                    )
                )
    for key in ("p95", "p99"):
        design = DESIGNS[key]
        for profile in PROFILES:
            for effect, tail in ((0.0, False), (0.05, False), (0.10, False), (0.20, False), (0.10, True)):
                label = "A/A" if effect == 0 else f"+{effect:.0%}" + (" tail only" if tail else "")
                out.append(
                    (
                        design.metric,
                        profile,
                        label,
                        effect,
                        trials_aa if effect == 0 else trials_ab,
                        lambda rng, d=design, p=profile, e=effect, t=tail: _latency_trial(d, p, e, rng, t),
                    )
                )
    for key, design in LONGER.items():
        target = 0.05 if key == "training" else 0.10
        for profile in ("noisy", "spiky"):
            for effect, tail in (
                (0.0, False),
                (target, False),
                *(((0.10, True),) if key != "training" else ()),
            ):
                label = "A/A" if effect == 0 else f"+{effect:.0%}" + (" tail only" if tail else "")
                trial = (
                    partial(_timing_trial, design, profile, effect)
                    if key == "training"
                    else partial(_latency_trial, design, profile, effect, tail_only=tail)
                )
                out.append(
                    (design.metric, profile, label, effect, trials_aa if effect == 0 else trials_ab, trial)
                )
    auc_noise = _auc_effect_for(0.01, np.random.default_rng(0))
    for label, metric, effect in (
        ("A/A", "rmse", 0.0),
        ("+2%", "rmse", 0.02),
        ("A/A", "auc", 0.0),
        ("-0.01", "auc", auc_noise),
    ):
        name = "quality RMSE (10,000 rows)" if metric == "rmse" else "quality AUC (10,000 rows)"
        out.append(
            (
                name,
                "shared error",
                label,
                effect,
                trials_aa if effect == 0 else trials_ab,
                lambda rng, m=metric, e=effect: _quality_trial(m, e, rng),
            )
        )
    return out


def run_synthetic(trials_aa: int, trials_ab: int, seed: int = 0, only: str = "") -> list[dict[str, Any]]:
    rows = []
    for k, (metric, profile, label, _, trials, trial) in enumerate(cells(trials_aa, trials_ab)):
        if only and only not in metric:
            continue
        rng = np.random.default_rng([seed, k])
        results = [trial(rng) for _ in range(trials)]
        rows.append(
            {
                "metric": metric,
                "profile": profile,
                "change": label,
                "trials": trials,
                **{rule: rate(results, rule) for rule in ("mlgate", "asv default", "fixed 10%")},
            }
        )
    return rows


def _cell(hit: tuple[int, int, float, float]) -> str:
    hits, n, low, high = hit
    return f"{hits / n:.1%} [{low:.1%}, {high:.1%}]"


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| metric | noise | change | trials | mlgate | asv default | fixed 10% |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['metric']} | {r['profile']} | {r['change']} | {r['trials']} | {_cell(r['mlgate'])} | "
            f"{_cell(r['asv default'])} | {_cell(r['fixed 10%'])} |"
        )
    return "\n".join(lines)


INFERENCE_ROUND = """
import json, sys, time
from mlgate import reference
from mlgate.model import artifacts
from mlgate.infra import threads
from mlgate.model.predicting import model_input, predict
artifact = artifacts.load(__import__("pathlib").Path(sys.argv[1]), reference.TRUSTED_TYPES)
frame = reference.holdout_frame()
out = {}
with threads.pinned(1):
    for rows in (1, 1000):
        features = model_input(artifact, frame.iloc[:rows], "replay")
        predict(artifact, features, "replay")  # warm-up
        samples = []
        for _ in range(10):
            start = time.perf_counter()
            predict(artifact, features, "replay")
            samples.append(time.perf_counter() - start)
        out[rows] = samples
print(json.dumps(out))
"""


def record(runs: int, folder: Path) -> dict[str, Any]:
    """Real A/A measurements of this machine: inference rounds (one process each) and load runs."""
    import subprocess
    import sys
    import tempfile

    from mlgate.model.workflow import train_artifact
    from mlgate.serving import locust_run as load
    from mlgate.serving import server as serve

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "v1"
        train_artifact(None, "v1", model)
        rounds = []
        for k in range(runs):
            result = subprocess.run(
                [sys.executable, "-c", INFERENCE_ROUND, str(model)],
                capture_output=True,
                text=True,
                check=True,
                timeout=300,
            )
            rounds.append(json.loads(result.stdout))
            print(f"inference round {k + 1}/{runs}", flush=True)
        inference_seconds = time.perf_counter() - started
        plan = load.LoadPlan(users=1, spawn_rate=1, run_seconds=6, warmup_seconds=1, cooldown_seconds=0.5)
        load_runs = []
        with serve.background(model) as url:
            for k in range(runs):
                out = Path(tmp) / f"run-{k:02d}"
                load.run_once(load.default_locustfiles(), url, plan, out)
                samples = load.read_samples(out / "samples")
                first, last = samples["start"].min(), samples["start"].max()
                window = samples[(samples["start"] >= first + 1) & (samples["start"] <= last - 0.5)]
                load_runs.append(window[window["ok"] == 1]["latency_us"].astype(int).tolist())
                print(f"load run {k + 1}/{runs}: {len(window)} requests", flush=True)
    data = {
        "recorded_seconds": time.perf_counter() - started,
        "inference_seconds": inference_seconds,
        "inference_rounds": rounds,
        "load_runs_latency_us": load_runs,
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "aa.json").write_text(json.dumps(data) + "\n")
    return data


def replay(folder: Path, draws: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """Recorded A/A units split into two interleaved sides, as A/A and with effects injected."""
    data = json.loads((folder / "aa.json").read_text())
    rng = np.random.default_rng(seed)
    rows = []
    series = {
        "inference time, 1 row": [float(np.median(r["1"])) for r in data["inference_rounds"]],
        "inference time, 1,000 rows": [float(np.median(r["1000"])) for r in data["inference_rounds"]],
    }
    latencies = [np.asarray(run, dtype=float) for run in data["load_runs_latency_us"]]
    for name, q in (("latency p50", 0.50), ("latency p95", 0.95)):
        series[name] = [float(np.quantile(run, q)) for run in latencies]
    for name, values in series.items():
        units = np.asarray(values)
        k = min(10, units.size // 2) if "inference" in name else min(5, units.size // 2)
        theta = DEFAULTS["timing"]["time"] if "inference" in name else DEFAULTS["latency"]["p95"]
        for effect in (0.0, 0.05, 0.10, 0.20):
            hits = 0
            for _ in range(draws):
                # A session of 2k consecutive recorded units, interleaved A B A B (which of each pair
                # is A drawn at random), as a real interleaved comparison would measure them.
                start = int(rng.integers(0, units.size - 2 * k + 1))
                pairs = units[start : start + 2 * k].reshape(k, 2)
                swap = rng.random(k) < 0.5
                base = np.where(swap, pairs[:, 1], pairs[:, 0])
                cand = np.where(swap, pairs[:, 0], pairs[:, 1]) * (1 + effect)
                finding = judge(
                    RunValues("r", "timing", name, "s", base.tolist(), cand.tolist(), theta), ALPHA, 1
                )
                hits += finding.status == "fail"
            low, high = stats.wilson(hits, draws, 0.95)
            rows.append(
                {
                    "metric": f"{name} ({k} vs {k} of {units.size} recorded)",
                    "change": "A/A" if not effect else f"+{effect:.0%}",
                    "draws": draws,
                    "rate": hits / draws,
                    "ci": [low, high],
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/verdict_bench.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument("what", choices=["synthetic", "record", "replay"])
    parser.add_argument("--runs", type=int, default=30, help="record: A/A units of each kind")
    parser.add_argument(
        "--trials", type=int, default=1000, help="A/A trials per cell (A/B: 40%% of that, >= 400)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="write the Markdown table here")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.what == "record":
        data = record(args.runs, REPLAY)
        print(f"recorded in {data['recorded_seconds']:.0f} s -> {REPLAY / 'aa.json'}")
        return 0
    if args.what == "replay":
        for row in replay(REPLAY, seed=args.seed):
            print(
                f"| {row['metric']} | {row['change']} | {row['draws']} | {row['rate']:.1%} "
                f"[{row['ci'][0]:.1%}, {row['ci'][1]:.1%}] |"
            )
        return 0
    rows = run_synthetic(args.trials, max(400, int(args.trials * 0.4)), args.seed)
    table = markdown(rows)
    seconds = time.perf_counter() - started
    print(table)
    print(f"\n{len(rows)} cells in {seconds:.0f} s")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            json.dumps({"rows": rows, "seconds": seconds, "trials": args.trials, "seed": args.seed}, indent=1)
            + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
