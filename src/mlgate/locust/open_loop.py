"""Open-loop load: requests at a constant arrival rate, latency measured from the intended send time.

Closed-loop users wait for each answer before sending the next, so a slow server is asked less and
looks faster than it is (coordinated omission). Here every user keeps a schedule; when an answer
comes late, the next request goes out at once and its latency counts from when it was due.

    locust -f locustfiles/_open_loop.py --headless -u 8 -t 60s --rate 40 --host URL
    locust -f locustfiles/_open_loop.py --headless -u 8 --step-rates 20,40,60 --step-seconds 15 --host URL

``--step-rates`` adds a step-load shape (this file only, so plain `locust -f locustfiles/` runs are
never reshaped); ``mlgate load`` reports the highest step that met the p95 budget. Users must be
enough to keep the rate when answers are slow: about rate x p99 latency in seconds, plus margin.
"""

from __future__ import annotations

import random
import time
from typing import Any

from locust import LoadTestShape, task
from locust.exception import StopUser

from mlgate.locust.common import API, PredictUser


class Schedule:
    """The target rate now (the step shape moves it) and when it started."""

    rate = 0.0
    step = 0
    started = 0.0


class OpenLoopUser(PredictUser):
    """Single-row requests on a fixed schedule shared by all users (rate / users each)."""

    def on_start(self) -> None:
        super().on_start()
        options = self.environment.parsed_options
        if not Schedule.rate:
            Schedule.rate = float(options.rate) if options is not None else 0.0
        if Schedule.rate <= 0:
            raise StopUser("open loop needs --rate or --step-rates")
        self.rate = Schedule.rate
        self.next_due = self._phase()

    def wait_time(self) -> float:
        return 0.0

    def _phase(self) -> float:
        """A random start within one interval: users sharing a schedule must not fire in bursts."""
        users = max(1, self.environment.runner.user_count if self.environment.runner else 1)
        return time.time() + random.random() * users / Schedule.rate

    @task
    def predict_on_schedule(self) -> None:
        users = max(1, self.environment.runner.user_count if self.environment.runner else 1)
        interval = users / Schedule.rate
        now = time.time()
        if Schedule.rate != self.rate:  # a new step: the old, slower schedule must not carry over
            self.rate = Schedule.rate
            self.next_due = min(self.next_due, self._phase())
        if self.next_due > now:
            time.sleep(self.next_due - now)
        due = self.next_due
        self.next_due = max(due + interval, time.time() - interval)  # never build an unbounded backlog
        self.send("single", f"{API.path} [open loop {Schedule.rate:g}/s]", context={"intended_start": due})


class StepRateShape(LoadTestShape):
    """Fixed users, the arrival rate stepping through --step-rates every --step-seconds."""

    def tick(self) -> tuple[int, float] | None:
        options: Any = self.runner.environment.parsed_options if self.runner else None
        rates = [float(r) for r in (options.step_rates or "").split(",") if r.strip()] if options else []
        users = options.num_users or 1 if options else 1
        if not rates:  # no steps asked for: behave like a plain run
            Schedule.rate = float(options.rate) if options else 0.0
            return (users, users) if self.get_run_time() < (options.run_time or 1e12) else None
        step = int(self.get_run_time() // options.step_seconds)
        if step >= len(rates):
            return None
        Schedule.rate, Schedule.step = rates[step], step
        return users, users
