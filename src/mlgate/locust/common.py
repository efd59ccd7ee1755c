"""What every mlgate locust user shares (imported by the locustfiles; locust never runs this module).

- request bodies built once, up front, from real rows (a data file, or the project's spec holdout);
- every request's raw latency in microseconds written to a samples file per process;
- latency and error budgets turned into locust's exit code when the run ends, for plain
  ``locust -f locustfiles/`` runs (``mlgate load`` judges its budgets from the raw samples itself).
"""

from __future__ import annotations

import csv
import logging
import math
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import orjson

# pandas and scikit-learn are imported here, not when the bodies are built: with --processes locust
# imports this file before it forks the workers, so they share these modules instead of each spending
# seconds importing them while it cannot answer the master's heartbeat (a busy machine then lost every
# worker before the first request).
import sklearn.pipeline  # noqa: F401
from locust import FastHttpUser, events
from locust.env import Environment

from mlgate.infra import atomic
from mlgate.locust import run_end  # noqa: F401  (registers how a run ends: --requests, a lossless distributed end)
from mlgate.model.spec import load_spec
from mlgate.model.tables import json_records, read_table
from mlgate.serving.api import read_api

log = logging.getLogger("mlgate.locust")
API = read_api()  # [tool.mlgate.api] of the project locust runs in: path, body and answer shapes
# side and pair: which server of a duet run answered, and which request pair it belongs to (else empty)
SAMPLE_FIELDS = ("start", "name", "status", "latency_us", "service_us", "bytes", "ok", "side", "pair")


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    group = parser.add_argument_group("mlgate")
    group.add_argument(
        "--data-file",
        default="",
        help="CSV/Parquet rows to send (default: the holdout of the project's [tool.mlgate] model)",
    )
    group.add_argument("--batch-size", type=int, default=100, help="Rows per batch request")
    group.add_argument(
        "--think-ms", type=float, default=0.0, help="Pause after each request (closed-loop users)"
    )
    group.add_argument(
        "--samples-dir",
        default=os.environ.get("MLGATE_SAMPLES_DIR", ""),
        help="Write raw per-request samples here (one file per process)",
    )
    group.add_argument(
        "--p95-ms", type=float, default=0.0, help="Fail the run if p95 exceeds this (0: no budget)"
    )
    group.add_argument(
        "--p99-ms", type=float, default=0.0, help="Fail the run if p99 exceeds this (0: no budget)"
    )
    group.add_argument(
        "--max-error-rate", type=float, default=1.0, help="Fail the run above this share of errors"
    )
    group.add_argument("--rate", type=float, default=0.0, help="Open loop: total requests per second")
    group.add_argument("--step-rates", default="", help="Step load: comma-separated rates, one per step")
    group.add_argument("--step-seconds", type=float, default=10.0, help="Step load: seconds per step")


def _records(path: str) -> list[dict[str, Any]]:
    """The rows to send, from --data-file or the spec's holdout (id and features), missing values as null."""
    if path:
        return json_records(read_table(Path(path), "--data-file"))
    spec = load_spec()
    holdout = spec.load_holdout()
    return json_records(holdout[[spec.id_column, *spec.features(holdout).columns]])


class Bodies:
    """Serialised request bodies, made once per process and handed out round-robin."""

    _cache: ClassVar[dict[tuple[str, int], Bodies]] = {}
    _lock = threading.Lock()

    def __init__(self, data_file: str, batch_size: int) -> None:
        rows = _records(data_file)
        if not rows:
            raise SystemExit(f"--data-file {data_file}: no rows to send")
        self.single = [orjson.dumps(API.body([row]), option=orjson.OPT_SERIALIZE_NUMPY) for row in rows]
        batches = max(1, len(rows) // batch_size)
        self.batch = [
            orjson.dumps(
                API.body(rows[k * batch_size : (k + 1) * batch_size]), option=orjson.OPT_SERIALIZE_NUMPY
            )
            for k in range(batches)
        ]
        self.batch_size = min(batch_size, len(rows))
        self._next = {"single": 0, "batch": 0}

    @classmethod
    def of(cls, environment: Environment) -> Bodies:
        options = environment.parsed_options
        key = (getattr(options, "data_file", ""), getattr(options, "batch_size", 100))
        with cls._lock:
            if key not in cls._cache:
                cls._cache[key] = cls(*key)
            return cls._cache[key]

    def take(self, kind: str) -> bytes:
        pool = self.single if kind == "single" else self.batch
        k = self._next[kind]
        self._next[kind] = (k + 1) % len(pool)
        return pool[k]


class Samples:
    """Raw per-request samples of this process, written to one CSV when the process quits."""

    rows: ClassVar[list[tuple[Any, ...]]] = []
    written: ClassVar[int] = -1

    @classmethod
    def add(
        cls,
        start: float,
        name: str,
        status: int,
        latency_us: int,
        service_us: int,
        size: int,
        ok: bool,
        side: str,
        pair: str,
    ) -> None:
        cls.rows.append((f"{start:.6f}", name, status, latency_us, service_us, size, int(ok), side, pair))

    @classmethod
    def write(cls, environment: Environment) -> None:
        folder = getattr(environment.parsed_options, "samples_dir", "") if environment.parsed_options else ""
        if not folder or type(environment.runner).__name__ == "MasterRunner":
            return  # the master of a distributed run sends no requests; its workers write the samples
        if cls.written == len(cls.rows):
            return  # written when the users stopped; nothing came after
        path = Path(folder) / f"samples-{socket.gethostname()}-{os.getpid()}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        Cost.write(path.with_name(path.name.replace("samples-", "cost-")).with_suffix(".json"))
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(SAMPLE_FIELDS)
            writer.writerows(cls.rows)
        tmp.replace(path)
        cls.written = len(cls.rows)
        log.info("wrote %d raw samples to %s", len(cls.rows), path)


class Cost:
    """This process's CPU while its users ran: the generator's steady-state cost per request, apart
    from its start-up (imports, request bodies, spawning), which a short run would otherwise drown in."""

    started: ClassVar[tuple[float, float, int] | None] = None
    stopped: ClassVar[tuple[float, float, int] | None] = None

    @staticmethod
    def now() -> tuple[float, float, int]:
        return time.process_time(), time.monotonic(), len(Samples.rows)

    @classmethod
    def write(cls, path: Path) -> None:
        if cls.started is None:
            return
        end = cls.stopped or cls.now()
        cpu, wall, requests = (b - a for a, b in zip(cls.started, end, strict=True))
        atomic.write_bytes(
            path,
            orjson.dumps({"cpu_seconds": cpu, "wall_seconds": wall, "requests": requests}),
            "--samples-dir",
        )


@events.spawning_complete.add_listener
def _spawned(**_: Any) -> None:
    """The users are all up: the generator's steady state starts here."""
    if Cost.started is None:
        Cost.started = Cost.now()


@events.init.add_listener
def _prepare(environment: Environment, **_: Any) -> None:
    """Build the request bodies before the clock starts, not in the first user's on_start."""
    if environment.parsed_options is not None and type(environment.runner).__name__ != "MasterRunner":
        Bodies.of(environment)


@events.request.add_listener
def _record(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    response: Any = None,
    exception: Any = None,
    start_time: float | None = None,
    context: Any = None,
    **_: Any,
) -> None:
    """Every request, from locust's own request event: microseconds, not locust's rounded stats."""
    status = getattr(response, "status_code", 0) or 0
    context = context or {}
    service_us = round(response_time * 1000)
    intended = context.get("intended_start")
    began = start_time if start_time is not None else time.time() - response_time / 1000
    latency_us = service_us if intended is None else round((began - intended) * 1e6) + service_us
    Samples.add(
        began,
        context.get("endpoint", name),  # a duet names locust's entries per side; the samples say the side
        int(status),
        latency_us,
        service_us,
        int(response_length or 0),
        exception is None,
        context.get("side", ""),
        context.get("pair", ""),
    )


@events.test_stop.add_listener
def _stopped(environment: Environment, **_: Any) -> None:
    """Write the samples as soon as the users stop: a distributed run's master waits for them."""
    Cost.stopped = Cost.stopped or Cost.now()
    Samples.write(environment)


@events.quitting.add_listener
def _finish(environment: Environment, **_: Any) -> None:
    Samples.write(environment)
    options = environment.parsed_options
    if options is None or environment.runner is None or type(environment.runner).__name__ == "WorkerRunner":
        return
    total = environment.stats.total
    broken = []
    if total.num_requests:
        error_rate = total.num_failures / total.num_requests
        if error_rate > options.max_error_rate:
            broken.append(f"error rate {error_rate:.2%} > {options.max_error_rate:.2%}")
        for share, budget in ((0.95, options.p95_ms), (0.99, options.p99_ms)):
            value = total.get_response_time_percentile(share)
            if budget and value is not None and value > budget:
                broken.append(f"p{share * 100:g} {value:.0f} ms > {budget:g} ms")
    if broken:
        log.error("budget broken: %s", "; ".join(broken))
        environment.process_exit_code = 3


def check_predictions(response: Any, expected: int) -> None:
    """Mark a response failed unless it holds ``expected`` predictions: finite numbers or labels."""
    if response.status_code != 200:
        response.failure(f"status {response.status_code}: {response.text[:200] if response.text else ''}")
        return
    try:
        predictions = API.read_predictions(orjson.loads(response.content))
    except orjson.JSONDecodeError:
        predictions = None
    if predictions is None:
        response.failure(f"the answer holds no list at {API.predictions!r} (see [tool.mlgate.api])")
        return
    if len(predictions) != expected or not all(_is_prediction(p) for p in predictions):
        response.failure(f"expected {expected} predictions, got {str(predictions)[:100]}")


def _is_prediction(value: Any) -> bool:
    """A finite number (regression, numeric labels) or a class label given as text or a boolean."""
    if isinstance(value, bool | str):
        return True
    return isinstance(value, int | float) and math.isfinite(value)


class PredictUser(FastHttpUser):
    """Base of the /predict users: bodies ready before the first request, optional think time."""

    abstract = True
    headers: ClassVar[dict[str, str]] = {"content-type": "application/json"}

    def on_start(self) -> None:
        self.bodies = Bodies.of(self.environment)
        options = self.environment.parsed_options
        self.think = options.think_ms / 1000 if options is not None else 0.0

    def wait_time(self) -> float:
        return self.think

    def send(self, kind: str, name: str, context: dict[str, Any] | None = None) -> None:
        """POST one prepared body and check the answer; timing covers the request only."""
        self.post(self.client, self.bodies.take(kind), kind, name, context or {})

    def post(self, client: Any, body: bytes, kind: str, name: str, context: dict[str, Any]) -> None:
        """POST ``body`` through ``client`` and mark the answer failed unless it holds the predictions."""
        expected = 1 if kind == "single" else self.bodies.batch_size
        with client.post(
            API.path,
            data=body,  # bytes go out as they are
            headers=self.headers,
            name=name,
            catch_response=True,
            context=context,
        ) as response:
            check_predictions(response, expected)
