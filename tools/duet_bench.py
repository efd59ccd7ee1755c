"""Duet vs interleaved load on this machine: A/A false alarms and injected p95/p99 changes caught.

    python tools/duet_bench.py record [--runs 24] [--seconds 8]   # real load -> docs/replay/duet.json
    python tools/duet_bench.py replay [--draws 1000]              # judge sessions drawn from it
    python tools/duet_bench.py confirm [--draws 1000]             # confirming looks on the duet runs

``record`` serves two copies of the reference model (v1) on loopback and loads them both ways with
the same plan: ``--runs`` duet runs (each body to both servers, random order) and ``--runs`` runs a
side interleaved A B A B. ``replay`` draws sessions of consecutive recorded runs, judges them with
mlgate's latency rule as A/A, and again with a change injected into the candidate's latencies: every
request +10% (uniform), or only the requests above the run's baseline p90 (tail-only).
``confirm`` judges sessions of duet runs drawn at random from the recording three ways: one look of
3 runs a side, up to 3 looks of 3 (`mlgate check --confirm-budget`, checks/sequential.py), and all
9 runs at once at the whole alpha (the fixed design of the same maximum size).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from mlgate import stats
from mlgate.checks import sequential
from mlgate.checks.runs import RunValues, judge
from mlgate.policy import DEFAULTS

ALPHA = float(DEFAULTS["alpha"])
RECORDING = Path(__file__).resolve().parent.parent / "docs" / "replay" / "duet.json"
QUANTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}


def record(runs: int, seconds: float) -> dict[str, Any]:
    """Both designs against two servers of one model, the same plan, one after the other."""
    from mlgate.model.workflow import train_artifact
    from mlgate.serving import duet_run, locust_run
    from mlgate.serving import server as serve

    plan = locust_run.LoadPlan(
        users=2, spawn_rate=2, run_seconds=seconds, warmup_seconds=1, cooldown_seconds=0.5
    )
    files = locust_run.default_locustfiles()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "v1"
        train_artifact(None, "v1", model)
        with serve.background(model) as a, serve.background(model) as b:
            duet_run.duet(files, a, b, runs, plan, Path(tmp) / "duet", progress=print)
            duet_seconds = time.perf_counter() - started
            locust_run.interleaved(files, a, b, runs, plan, Path(tmp) / "ab", progress=print)
        pairs = []
        for k in range(1, runs + 1):
            samples = locust_run.read_samples(Path(tmp) / "duet" / "duet" / f"run-{k:02d}" / "samples")
            window = duet_run.whole_pairs(locust_run.trim(samples, plan)[0])
            ok = window[window["ok"] == 1].pivot_table(index="pair", columns="side", values="latency_us")
            pairs.append(ok.dropna()[["baseline", "candidate"]].astype(int).to_numpy().tolist())
        sides: dict[str, list[list[int]]] = {"baseline": [], "candidate": []}
        for k in range(1, runs + 1):
            for side in sides:
                samples = locust_run.read_samples(Path(tmp) / "ab" / side / f"run-{k:02d}" / "samples")
                window = locust_run.trim(samples, plan)[0]
                sides[side].append(window[window["ok"] == 1]["latency_us"].astype(int).tolist())
    data = {
        "plan": {"users": 2, "run_seconds": seconds, "warmup_seconds": 1, "cooldown_seconds": 0.5},
        "duet_seconds": duet_seconds,
        "recorded_seconds": time.perf_counter() - started,
        "duet_pairs_us": pairs,
        "interleaved_us": sides,
    }
    RECORDING.parent.mkdir(parents=True, exist_ok=True)
    RECORDING.write_text(json.dumps(data) + "\n")
    return data


def _inject(base: np.ndarray, cand: np.ndarray, effect: float, tail_only: bool) -> np.ndarray:
    """The candidate's latencies with ``effect`` added: to every request, or to those above the
    baseline run's p90 only (so the p95 and p99 move by about ``effect``, the median not at all)."""
    if not effect:
        return cand
    if not tail_only:
        return cand * (1 + effect)
    return np.where(cand > np.quantile(base, 0.90), cand * (1 + effect), cand)


def _verdict(metric: str, base: list[float], cand: list[float], theta: float) -> bool:
    finding = judge(RunValues("r", "latency", metric, "ms", base, cand, theta), ALPHA, 1)
    return finding.status == "fail"


def replay(draws: int, sessions: tuple[int, ...], seed: int = 0) -> list[dict[str, Any]]:
    """Sessions of k consecutive recorded runs a side, judged A/A and with changes injected."""
    data = json.loads(RECORDING.read_text())
    seconds = float(data["plan"]["run_seconds"])
    duet = [np.asarray(run, dtype=float) for run in data["duet_pairs_us"]]
    inter = {
        side: [np.asarray(r, dtype=float) for r in runs] for side, runs in data["interleaved_us"].items()
    }
    rng = np.random.default_rng(seed)
    rows = []
    for k in sessions:
        for q_name, q in QUANTILES.items():
            theta = float(DEFAULTS["latency"][q_name])
            for change, effect, tail in (
                ("A/A", 0.0, False),
                ("+10%", 0.10, False),
                ("+10% tail-only", 0.10, True),
            ):
                hits = {"duet": 0, "interleaved": 0}
                for _ in range(draws):
                    start = int(rng.integers(0, len(duet) - k + 1))
                    flip = rng.random() < 0.5  # which recorded server plays the candidate
                    sessions_of = {
                        "duet": [(run[:, 0], run[:, 1]) for run in duet[start : start + k]],
                        "interleaved": list(
                            zip(
                                inter["baseline"][start : start + k],
                                inter["candidate"][start : start + k],
                                strict=True,
                            )
                        ),
                    }
                    for design, runs in sessions_of.items():
                        b_runs, c_runs = [], []
                        for b, c in runs:
                            b, c = (c, b) if flip else (b, c)
                            b_runs.append(float(np.quantile(b, q)))
                            c_runs.append(float(np.quantile(_inject(b, c, effect, tail), q)))
                        hits[design] += _verdict(q_name, b_runs, c_runs, theta)
                for design, hit in hits.items():
                    load_seconds = k * seconds * (1 if design == "duet" else 2)
                    rows.append(_row(design, q_name, k, load_seconds, change, hit, draws))
        rows += _paired_median_rows(duet, k, draws, seconds, rng)
    return rows


def confirm(draws: int, look_runs: int = 3, looks: int = 3, seed: int = 0) -> list[dict[str, Any]]:
    """Share of sessions flagged, and the runs they used, by one look, by confirming looks, and by
    all the runs at once; sessions are duet runs drawn at random (without replacement)."""
    data = json.loads(RECORDING.read_text())
    seconds = float(data["plan"]["run_seconds"])
    duet = [np.asarray(run, dtype=float) for run in data["duet_pairs_us"]]
    alphas = sequential.look_alphas([look_runs * k for k in range(1, looks + 1)], look_runs * looks, ALPHA)
    rng = np.random.default_rng(seed)
    rows = []
    for metric in ("p95", "p99"):
        theta = float(DEFAULTS["latency"][metric])
        for change, effect, tail in (
            ("A/A", 0.0, False),
            ("+10%", 0.10, False),
            ("+10% tail-only", 0.10, True),
        ):
            hits = {"one look": 0, "confirming looks": 0, "all runs at once": 0}
            used = 0
            for _ in range(draws):
                chosen = rng.choice(len(duet), size=look_runs * looks, replace=False)
                flip = rng.random() < 0.5
                b_runs, c_runs = [], []
                for index in chosen:
                    run = duet[index]
                    b, c = (run[:, 1], run[:, 0]) if flip else (run[:, 0], run[:, 1])
                    b_runs.append(float(np.quantile(b, QUANTILES[metric])))
                    c_runs.append(float(np.quantile(_inject(b, c, effect, tail), QUANTILES[metric])))
                hits["one look"] += _verdict(metric, b_runs[:look_runs], c_runs[:look_runs], theta)
                hits["all runs at once"] += _verdict(metric, b_runs, c_runs, theta)
                for k, level in enumerate(alphas, start=1):
                    n = look_runs * k
                    finding = judge(
                        RunValues("r", "latency", metric, "ms", b_runs[:n], c_runs[:n], theta), level, 1
                    )
                    if not sequential.undecided(finding) or k == looks:
                        hits["confirming looks"] += finding.status == "fail"
                        used += n
                        break
            for how, hit in hits.items():
                runs = {"one look": look_runs, "all runs at once": look_runs * looks}.get(how, used / draws)
                row = _row(how, metric, look_runs * looks, runs * seconds, change, hit, draws)
                rows.append(row | {"runs": runs})
    return rows


def _paired_median_rows(
    duet: list[np.ndarray], k: int, draws: int, seconds: float, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """The duet's own check: per run, the median log ratio of the pairs (minimum effect: the p50's)."""
    theta = float(DEFAULTS["latency"]["p50"])
    rows = []
    for change, effect in (("A/A", 0.0), ("+5%", 0.05), ("+10%", 0.10)):
        hits = 0
        for _ in range(draws):
            start = int(rng.integers(0, len(duet) - k + 1))
            flip = rng.random() < 0.5
            b_runs, c_runs = [], []
            for run in duet[start : start + k]:
                b, c = (run[:, 1], run[:, 0]) if flip else (run[:, 0], run[:, 1])
                median = float(np.median(b))
                b_runs.append(median)
                c_runs.append(median * float(np.exp(np.median(np.log(c * (1 + effect) / b)))))
            hits += _verdict("paired median", b_runs, c_runs, theta)
        rows.append(_row("duet", "paired median", k, k * seconds, change, hits, draws))
    return rows


def _row(
    design: str, metric: str, k: int, load_seconds: float, change: str, hits: int, draws: int
) -> dict[str, Any]:
    """One cell of the table: the share of draws flagged, with its 95% Wilson interval."""
    low, high = stats.wilson(hits, draws, 0.95)
    return {
        "design": design,
        "metric": metric,
        "runs": k,
        "load_seconds": load_seconds,
        "change": change,
        "draws": draws,
        "rate": hits / draws,
        "ci": [low, high],
    }


def describe(data: dict[str, Any]) -> str:
    """Requests per run of each design, as recorded."""
    pairs = [len(r) for r in data["duet_pairs_us"]]
    singles = [len(r) for r in data["interleaved_us"]["baseline"]]
    return (
        f"duet: {len(pairs)} runs of {min(pairs)}-{max(pairs)} pairs in the window; interleaved: "
        f"{len(singles)} runs a side of {min(singles)}-{max(singles)} requests"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/duet_bench.py", description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["record", "replay", "confirm"])
    parser.add_argument("--runs", type=int, default=24, help="record: runs of each design (a side)")
    parser.add_argument("--seconds", type=float, default=8.0, help="record: length of each run")
    parser.add_argument("--draws", type=int, default=1000, help="replay: sessions drawn per cell")
    parser.add_argument("--sessions", default="6,10", help="replay: runs a side per session")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.what == "record":
        data = record(args.runs, args.seconds)
        print(f"recorded in {data['recorded_seconds']:.0f} s -> {RECORDING}; {describe(data)}")
        return 0
    print(describe(json.loads(RECORDING.read_text())))
    if args.what == "confirm":
        print(
            "| duet sessions judged by | metric | runs a side (mean) | load (s) | change | draws | flagged |"
        )
        print("|---|---|---|---|---|---|---|")
        for row in confirm(args.draws, seed=args.seed):
            print(
                f"| {row['design']} | {row['metric']} | {row['runs']:.1f} | {row['load_seconds']:.0f} "
                f"| {row['change']} | {row['draws']} | {row['rate']:.1%} "
                f"[{row['ci'][0]:.1%}, {row['ci'][1]:.1%}] |"
            )
        return 0
    print("| design | metric | runs a side | load (s) | change | draws | flagged |")
    print("|---|---|---|---|---|---|---|")
    for row in replay(args.draws, tuple(int(k) for k in args.sessions.split(",")), args.seed):
        print(
            f"| {row['design']} | {row['metric']} | {row['runs']} | {row['load_seconds']:.0f} "
            f"| {row['change']} | {row['draws']} | {row['rate']:.1%} "
            f"[{row['ci'][0]:.1%}, {row['ci'][1]:.1%}] |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
