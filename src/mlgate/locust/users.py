"""Closed-loop users of POST /predict: single rows (most traffic) and batches, bodies from real rows.

A locustfile imports them (`from mlgate.locust.users import BatchUser, SingleRowUser`); then
`locust -f locustfiles/ --host http://127.0.0.1:8000` (web UI) or add
`--headless -u 4 -r 4 -t 30s --samples-dir results/load/samples` (see `mlgate load`).
"""

from __future__ import annotations

from locust import task

from mlgate.locust.common import API, PredictUser


class SingleRowUser(PredictUser):
    """One house per request, the typical online call."""

    weight = 3

    @task
    def predict_one(self) -> None:
        self.send("single", f"{API.path} [1 row]")


class BatchUser(PredictUser):
    """A batch of rows per request (--batch-size), as a scoring job would send."""

    weight = 1

    @task
    def predict_batch(self) -> None:
        self.send("batch", f"{API.path} [batch]")
