"""Serving overhead on this machine: the model in-process against `mlgate serve` and a naive
FastAPI endpoint (tests/perf/naive_api.py) of the same artifact, side by side in one run.

    python tools/serving_overhead.py [--calls 300] [--rounds 5]

The model is the tests' `fast` spec (scaler + ridge on scikit-learn's diabetes data, well under a
millisecond a call), so what is left of a served call is the serving. Each round times ``--calls``
calls of every way at 1 and 100 rows, one after another; one client, a kept-alive loopback
connection, one BLAS thread everywhere. Overhead = served minus in-process, p50 and p99 over all
rounds; "parse" is the Server-Timing parse time `mlgate serve` reports for the same calls. A
second `mlgate serve` with ``--record`` (into a temporary file) is timed in the same rounds: the
last lines give what recording adds to a call.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "perf")]
SPEC = "model_specs:fast"


def poster(url: str, body: bytes, timings: list[float]) -> Callable[[], object]:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)

    def call() -> object:
        try:
            connection.request("POST", "/predict", body=body, headers={"content-type": "application/json"})
        except (BrokenPipeError, ConnectionResetError):  # idle past uvicorn's keep-alive: reconnect
            connection.close()
            connection.request("POST", "/predict", body=body, headers={"content-type": "application/json"})
        answer = connection.getresponse()
        data = answer.read()
        header = answer.getheader("Server-Timing") or ""
        if header.startswith("parse;dur="):
            timings.append(float(header.split(",")[0].split("=")[1]) / 1000)
        if answer.status != 200:
            raise RuntimeError(f"{url}: {answer.status} {data[:200]!r}")
        return data

    return call


def measure(calls: int, rounds: int) -> dict[str, dict[str, np.ndarray]]:
    import model_specs  # type: ignore[import-not-found]  # tests/, on sys.path above
    from conftest import running_app  # type: ignore[import-not-found]
    from mlgate.cli import main
    from mlgate.infra import threads
    from mlgate.model import artifacts
    from mlgate.model.predicting import model_input, predict_arrays
    from mlgate.serving import server as serve

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    holdout = model_specs.fast.load_holdout()
    rows = holdout.drop(columns="target").to_dict(orient="records")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "v1"
        assert main(["-q", "train", "--spec", SPEC, "--version", "v1", "--out", str(folder)]) == 0
        artifact = artifacts.load(folder, model_specs.fast.trusted_types)
        found: dict[str, dict[str, list[float]]] = {}
        naive_env = {**env, "MLGATE_NAIVE_ARTIFACT": str(folder)}
        naive_api = running_app("naive_api:create_app", naive_env, "the naive API")
        record = ("--record", str(Path(tmp) / "traffic.jsonl"), "--record-max", "100000000")
        with (
            serve.background(folder, "--spec", SPEC, env=env) as served,
            serve.background(folder, "--spec", SPEC, *record, env=env) as recording,
            naive_api as naive,
        ):
            ways: dict[str, dict[str, Callable[[], object]]] = {}
            for size in (1, 100):
                body = orjson.dumps({"records": rows[:size]})
                features = model_input(artifact, holdout.iloc[:size], "benchmark")
                parse: list[float] = []
                found[f"parse {size}"] = {"mlgate serve": parse}
                ways[str(size)] = {
                    "in-process": partial(predict_arrays, artifact, features, "benchmark"),
                    "mlgate serve": poster(served, body, parse),
                    "naive FastAPI": poster(naive, body, []),
                    "mlgate serve --record": poster(recording, body, []),
                }
            with threads.pinned(1):
                for _ in range(rounds):
                    for n, calls_of in ways.items():
                        for way, call in calls_of.items():
                            for _ in range(20):  # warm the connection and caches, untimed
                                call()
                            times = found.setdefault(n, {}).setdefault(way, [])
                            for _ in range(calls):
                                start = time.perf_counter()
                                call()
                                times.append(time.perf_counter() - start)
    return {n: {way: np.asarray(t) * 1000 for way, t in ways.items()} for n, ways in found.items()}


def table(found: dict[str, dict[str, np.ndarray]]) -> list[str]:
    lines = [
        "| rows | in-process p50 / p99 | mlgate serve p50 / p99 | overhead p50 / p99 "
        "| naive FastAPI p50 / p99 | overhead p50 / p99 | mlgate parse p50 |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in ("1", "100"):
        ways = found[n]
        base = np.percentile(ways["in-process"], [50, 99])
        cells = [f"{base[0]:.2f} / {base[1]:.2f} ms"]
        for way in ("mlgate serve", "naive FastAPI"):
            q = np.percentile(ways[way], [50, 99])
            cells += [f"{q[0]:.2f} / {q[1]:.2f} ms", f"+{q[0] - base[0]:.2f} / +{q[1] - base[1]:.2f} ms"]
        parse = np.median(found[f"parse {n}"]["mlgate serve"])
        lines.append(f"| {n} | {' | '.join(cells)} | {parse:.2f} ms |")
    for n in ("1", "100"):
        plain, recording = (
            np.percentile(found[n][way], [50, 99]) for way in ("mlgate serve", "mlgate serve --record")
        )
        lines.append(
            f"recording, {n} row(s): p50 {recording[0]:.3f} vs {plain[0]:.3f} ms "
            f"({recording[0] - plain[0]:+.3f} ms), p99 {recording[1]:.3f} vs {plain[1]:.3f} ms "
            f"({recording[1] - plain[1]:+.3f} ms)"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print("\n".join(table(measure(args.calls, args.rounds))))


if __name__ == "__main__":
    main()
