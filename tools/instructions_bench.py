"""Instruction counts vs wall time on this machine: A/A spread, a +2% compute change, a real change.

    python tools/instructions_bench.py [--trials 8]   # -> docs/replay/instructions.json and a table

Each trial counts (callgrind, ``mlgate.asv_suite.instructions``) and times (in-process, the two
versions alternating) the diabetes gradient-boosted model of the tests (``model_specs:counted``) at
v1 and at ``more_trees`` (2% more trees: +2% compute in the fit). Consecutive trials of one version
are the A/A pairs. Then the reference model's v1 vs v2 (extra feature steps) once, the same way.
Every pair is judged with mlgate's rule for instruction counts (change above the policy's minimum
effect: a regression).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # model_specs

from mlgate import stats
from mlgate.checks.asv_timing import asv_findings
from mlgate.evidence.asv_results import CommitResults, Measurement
from mlgate.policy import DEFAULTS, read_policy

THETA = float(DEFAULTS["timing"]["instructions"])
OUT = Path(__file__).resolve().parent.parent / "docs" / "replay" / "instructions.json"
TIMED_CALLS = {"predict 1": 300, "predict 100": 100, "fit": 5}


def counts(version: str) -> dict[str, float]:
    """Instructions per call of every region, each side counted in its own callgrind process."""
    from mlgate.asv_suite.instructions import FitInstructions, PredictInstructions

    os.environ["MLGATE_BENCH_VERSION"] = version
    found = {**PredictInstructions().setup_cache()["counts"], **FitInstructions().setup_cache()["counts"]}
    return {name: value for name, value in found.items() if name != "empty"}


def wall_ratios(versions: tuple[str, str]) -> dict[str, float]:
    """Median wall time of the second version over the first, calls alternating, one thread."""
    from threadpoolctl import threadpool_limits

    from mlgate.asv_suite import spec

    model_spec = spec()
    train = model_spec.load_train()
    features, target = model_spec.features(train), train[model_spec.target]
    holdout = model_spec.features(model_spec.load_holdout())
    fitted = [model_spec.build(v).fit(features, target) for v in versions]
    calls: dict[str, list[Callable[[], object]]] = {
        "predict 1": [partial(m.predict, holdout.iloc[:1]) for m in fitted],
        "predict 100": [partial(m.predict, holdout.iloc[:100]) for m in fitted],
        "fit": [partial(model_spec.build(v).fit, features, target) for v in versions],
    }
    ratios = {}
    with threadpool_limits(limits=1):
        for name, (first, second) in calls.items():
            times: list[list[float]] = [[], []]
            for _ in range(TIMED_CALLS[name]):
                for side, call in enumerate((first, second)):
                    start = time.perf_counter()
                    call()
                    times[side].append(time.perf_counter() - start)
            ratios[name] = float(np.median(times[1]) / np.median(times[0]))
    return ratios


def record(trials: int) -> dict[str, Any]:
    os.environ["MLGATE_BENCH_SPEC"] = "model_specs:counted"
    rows = []
    for trial in range(trials):
        started = time.perf_counter()
        rows.append({"v1": counts("v1"), "more_trees": counts("more_trees")})
        rows[-1]["wall"] = wall_ratios(("v1", "more_trees"))
        print(
            f"trial {trial + 1}/{trials}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True
        )
    # The reference model in a process of its own (the spec is cached per process).

    code = (
        "import json, os, sys; sys.path.insert(0, 'tools'); import instructions_bench as b; "
        "print(json.dumps({'v1': b.counts('v1'), 'v2': b.counts('v2'), 'wall': b.wall_ratios(('v1', 'v2'))}))"
    )
    env = {**os.environ, "MLGATE_BENCH_SPEC": "mlgate.reference:spec"}
    reference = json.loads(
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    from mlgate.asv_suite.instructions import _fixed_addresses

    return {
        "trials": rows,
        "reference": reference,
        "theta": THETA,
        "fixed_addresses": bool(_fixed_addresses()),
    }


def summarise(data: dict[str, Any]) -> list[str]:
    """The table of docs/verdict-quality.md: A/A spread, changes found, instructions beside wall time."""
    rows = data["trials"]
    lines = [
        "| pair | region | instructions: change, median (min to max) | caught | wall time change (same) |",
        "|---|---|---|---|---|",
    ]
    for label, pairs, wall in (
        (
            "A/A (v1, consecutive trials)",
            [(r["v1"], s["v1"]) for r, s in itertools.pairwise(rows)],
            None,
        ),
        (
            "A/A (more_trees)",
            [(r["more_trees"], s["more_trees"]) for r, s in itertools.pairwise(rows)],
            None,
        ),
        ("+2% trees", [(r["v1"], r["more_trees"]) for r in rows], [r["wall"] for r in rows]),
        (
            "reference v1 -> v2",
            [(data["reference"]["v1"], data["reference"]["v2"])],
            [data["reference"]["wall"]],
        ),
    ):
        for region in pairs[0][0]:
            found = np.array([b[region] / a[region] - 1 for a, b in pairs])
            caught = sum(flagged(region, a[region], b[region]) for a, b in pairs)
            low, high = stats.wilson(caught, len(found))
            shown = f"{np.median(found):+.2%} ({found.min():+.2%} to {found.max():+.2%})"
            walls = "" if wall is None else _spread(np.array([w[region] - 1 for w in wall if region in w]))
            lines.append(
                f"| {label} | {region} | {shown} | {caught}/{len(found)} [{low:.0%}, {high:.0%}] | {walls} |"
            )
    return lines


def flagged(region: str, baseline: float, candidate: float) -> bool:
    """Whether mlgate's comparator fails this pair of counts, as it would from two asv results."""
    track = "fit_instructions" if region == "fit" else "predict_instructions"
    key = f"bench_instructions.Counted.track_{track}"

    def commit(name: str, value: float) -> CommitResults:
        found = {key: Measurement(f"{key}({region})", key, "track", "instructions", {}, value)}
        return CommitResults(name, "box", "py", Path(name), found, {})

    (finding,) = asv_findings(commit("a", baseline), commit("b", candidate), read_policy())
    return finding.status == "fail"


def _spread(values: np.ndarray) -> str:
    if not values.size:
        return "not timed"
    return f"{np.median(values):+.1%} ({values.min():+.1%} to {values.max():+.1%})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--table-only", action="store_true", help="print the table of the saved recording")
    args = parser.parse_args()
    if not args.table_only:
        data = record(args.trials)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        tmp = OUT.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(OUT)
    print("\n".join(summarise(json.loads(OUT.read_text()))))


if __name__ == "__main__":
    main()
