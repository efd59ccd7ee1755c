"""Soak traffic for `tests/perf/soak.py`: 90% good single rows, 10% bad payloads, each kind with the
status it must get. Every request is recorded (time, kind, status, latency) to MLGATE_SOAK_SAMPLES."""

from __future__ import annotations

import csv
import os
import random
import time
from pathlib import Path
from typing import Any

import orjson
from locust import FastHttpUser, constant_throughput, events, task

from mlgate.model.tables import json_records, read_table

ROWS = json_records(read_table(Path(os.environ["MLGATE_SOAK_DATA"])))
RATE = float(os.environ["MLGATE_SOAK_RATE"])
USERS = int(os.environ["MLGATE_SOAK_USERS"])
BAD_SHARE = 0.10
JSON = "application/json"


def _body(records: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"records": records})


def _bad_payloads() -> list[tuple[str, bytes, str, int]]:
    row = ROWS[0]
    return [
        ("invalid json", b'{"records": [', JSON, 422),
        ("wrong type", _body([{**row, "LotArea": "big"}]), JSON, 422),
        ("null never seen", _body([{**row, "GrLivArea": None}]), JSON, 422),
        ("past int64", _body([{**row, "YearBuilt": 2**63}]), JSON, 422),
        ("far out of range", _body([{**row, "OverallQual": 10**18}]), JSON, 422),
        ("unknown field", _body([{**row, "Pool": "yes"}]), JSON, 422),
        ("empty records", b'{"records": []}', JSON, 422),
        ("too many records", _body([row] * 1001), JSON, 422),
        ("wrong content type", _body([row]), "text/plain", 415),
        ("body over the limit", b'{"records": [' + b" " * (5 * 1024 * 1024) + b"]}", JSON, 413),
    ]


GOOD = [_body([row]) for row in ROWS]
BAD = _bad_payloads()
SAMPLES: list[tuple[float, str, int, float, int]] = []


class SoakUser(FastHttpUser):
    """Open loop: each user paces itself to RATE / USERS requests a second."""

    wait_time = constant_throughput(RATE / USERS)

    @task
    def call(self) -> None:
        if random.random() < BAD_SHARE:
            kind, body, content_type, expected = random.choice(BAD)
        else:
            kind, body, content_type, expected = "good", random.choice(GOOD), JSON, 200
        started, clock = time.time(), time.perf_counter()
        with self.client.post(
            "/predict", data=body, headers={"content-type": content_type}, name=kind, catch_response=True
        ) as response:
            status = int(response.status_code or 0)
            if status == expected:
                response.success()
            else:
                response.failure(f"{status}, expected {expected}")
        SAMPLES.append((started, kind, status, (time.perf_counter() - clock) * 1000, int(status == expected)))


@events.quitting.add_listener
def _write(**_: Any) -> None:
    with Path(os.environ["MLGATE_SOAK_SAMPLES"]).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["start", "kind", "status", "latency_ms", "ok"])
        writer.writerows(SAMPLES)
