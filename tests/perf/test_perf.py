"""pytest-benchmark micro-benchmarks; `make bench` times them, `make test` runs each once.

Numbers from these runs go into the docs with the command that made them, never into asserts on
time. Memory is asserted: tracemalloc counts allocations, which does not depend on machine load.
"""

from __future__ import annotations

import http.client
import os
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest

from conftest import FAST, running_app, running_server
from mlgate import compare, reference
from mlgate.evidence import Evidence
from mlgate.infra import threads
from mlgate.model import artifacts
from mlgate.model.predicting import model_input, predict
from mlgate.model.tables import json_records, read_table
from mlgate.policy import read_policy

pytestmark = pytest.mark.slow  # micro-benchmarks on large data

MILLION = 1_000_000


def test_generate_a_million_rows(benchmark: Any) -> None:
    frame = benchmark.pedantic(reference.generate, args=(MILLION,), rounds=3, iterations=1)
    assert len(frame) == MILLION


@pytest.mark.parametrize("rows", [1, 10_000])
def test_predict_rows_per_call(benchmark: Any, models: dict[str, Path], rows: int) -> None:
    artifact = artifacts.load(models["v1"], reference.TRUSTED_TYPES)
    frame = reference.generate(rows, seed=11)
    features = model_input(artifact, frame, "benchmark")
    with threads.pinned(1):
        result = benchmark(predict, artifact, features, "benchmark")
    assert len(result) == rows
    if benchmark.stats:  # only when timing is enabled
        benchmark.extra_info["rows_per_second"] = rows / benchmark.stats.stats.median


@pytest.fixture(scope="module")
def million_row_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, int]:
    folder = tmp_path_factory.mktemp("million")
    rng = np.random.default_rng(0)
    truth = np.exp(rng.normal(12, 0.4, MILLION))
    ids = np.arange(1, MILLION + 1)
    base = truth * np.exp(rng.normal(0, 0.1, MILLION))
    cand = base * np.exp(rng.normal(0, 0.01, MILLION))
    paths = folder / "baseline.parquet", folder / "candidate.parquet", folder / "labels.parquet"
    pd.DataFrame({"Id": ids, "prediction": base}).to_parquet(paths[0])
    pd.DataFrame({"Id": ids, "prediction": cand}).to_parquet(paths[1])
    pd.DataFrame({"Id": ids, "SalePrice": truth}).to_parquet(paths[2])
    data_bytes = 6 * 8 * MILLION  # three id columns, two prediction columns and the labels
    return *paths, data_bytes


def test_compare_two_million_row_prediction_files(
    benchmark: Any, million_row_files: tuple[Path, Path, Path, int]
) -> None:
    base, cand, labels, data_bytes = million_row_files
    inputs = Evidence(base, cand, reference.spec, labels)
    policy = read_policy()
    report = benchmark.pedantic(compare.run, args=(inputs, policy), rounds=3, iterations=1)
    assert report.verdict == "pass" and report.meta["rows_compared"] == MILLION
    tracemalloc.start()
    compare.run(inputs, policy)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    benchmark.extra_info["peak_bytes"] = peak
    assert peak <= 2 * data_bytes, f"peak {peak / 1e6:.0f} MB for {data_bytes / 1e6:.0f} MB of data"


@pytest.fixture(scope="module")
def one_and_hundred_rows(holdout: pd.DataFrame) -> dict[int, bytes]:
    rows = (
        holdout.drop(columns="SalePrice")
        .astype(object)
        .where(holdout.notna(), None)
        .to_dict(orient="records")
    )
    return {n: orjson.dumps({"records": rows[:n]}) for n in (1, 100)}


@pytest.mark.parametrize("rows", [1, 100])
def test_predict_in_process(
    benchmark: Any, models: dict[str, Path], holdout: pd.DataFrame, rows: int
) -> None:
    """The model alone, as the server calls it: the baseline for the serving overhead."""
    artifact = artifacts.load(models["v1"], reference.TRUSTED_TYPES)
    features = model_input(artifact, holdout.iloc[:rows], "benchmark")
    with threads.pinned(1):
        result = benchmark(predict, artifact, features, "benchmark")
    assert len(result) == rows
    _percentiles(benchmark)


@pytest.fixture(scope="module")
def served_naive(models: dict[str, Path]) -> Iterator[str]:
    """The same model behind the endpoint a team writes first (naive_api.py), on the same uvicorn."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path]),
        "MLGATE_NAIVE_ARTIFACT": str(models["v1"]),
    }
    with running_app("naive_api:create_app", env, "the naive API") as url:
        yield url


@pytest.mark.parametrize("server", ["mlgate serve", "naive FastAPI"])
@pytest.mark.parametrize("rows", [1, 100])
def test_predict_served(
    benchmark: Any,
    request: pytest.FixtureRequest,
    one_and_hundred_rows: dict[int, bytes],
    rows: int,
    server: str,
) -> None:
    """POST /predict over a kept-alive loopback connection, one client: model + serving overhead,
    for `mlgate serve` and for a naive FastAPI endpoint of the same model."""
    url = request.getfixturevalue("served_v1" if server == "mlgate serve" else "served_naive")
    answer = _timed_posts(benchmark, url, one_and_hundred_rows[rows])
    assert len(answer["predictions"]) == rows


@pytest.fixture(scope="module")
def served_fast_recording(
    fast_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    traffic = tmp_path_factory.mktemp("record") / "traffic.jsonl"
    with running_server(
        fast_models["v1"], "--spec", FAST, "--record", str(traffic), "--record-max", "10000000"
    ) as url:
        yield url


@pytest.mark.parametrize("server", ["served_fast", "served_fast_recording"], ids=["plain", "record"])
@pytest.mark.parametrize("rows", [1, 100])
def test_record_overhead(
    benchmark: Any, request: pytest.FixtureRequest, fast_models: dict[str, Path], rows: int, server: str
) -> None:
    """What `mlgate serve --record` adds to a request, on a model of well under a millisecond a call
    (on the reference model's 40 ms it is lost in the noise): the same server with and without it."""
    frame = read_table(fast_models["holdout"], "data").drop(columns="target").head(rows)
    answer = _timed_posts(
        benchmark, request.getfixturevalue(server), orjson.dumps({"records": json_records(frame)})
    )
    assert len(answer["predictions"]) == rows


def _timed_posts(benchmark: Any, url: str, body: bytes) -> Any:
    """POST /predict with ``body`` over one kept-alive loopback connection, timed by ``benchmark``;
    the last answer, and p50/p99 of the timings kept next to pytest-benchmark's summary."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)

    def call() -> bytes:
        connection.request("POST", "/predict", body=body, headers={"content-type": "application/json"})
        return connection.getresponse().read()

    try:
        answer = orjson.loads(benchmark(call))
    finally:
        connection.close()
    _percentiles(benchmark)
    return answer


def _percentiles(benchmark: Any) -> None:
    if benchmark.stats:  # timing enabled: keep p50/p99 of the raw timings next to the summary
        data = np.asarray(benchmark.stats.stats.data)
        benchmark.extra_info["p50_ms"] = float(np.percentile(data, 50) * 1000)
        benchmark.extra_info["p99_ms"] = float(np.percentile(data, 99) * 1000)
