"""Duet load: every request body goes to both servers back to back, in random order.

Two servers measured in separate runs see a different machine: on a shared runner another job, the
CPU's clock or the page cache moves between the runs, and that noise swamps a 10% change. In a duet
(after duet benchmarking, Bulej et al., 2020) both versions serve at the same time and each user
sends the same body to the baseline (``--host``) and the candidate (``--candidate-host``) one after
the other, which first decided by a coin, so the two latencies of a pair share the machine's state
of that instant. Each sample names its side and its pair; ``mlgate load --duet`` splits a run into
one summary per side and the paired log ratios (docs/design.md, duet load).

    locust -f locustfiles/_duet.py --headless -u 4 -t 60s --host A --candidate-host B
"""

from __future__ import annotations

import itertools
import os
import random

from locust import events, task
from locust.exception import StopUser

from mlgate.locust.common import API, PredictUser
from mlgate.locust.sessions import second_session

SIDES = ("baseline", "candidate")
_pairs = itertools.count(1)


@events.init_command_line_parser.add_listener
def _arguments(parser: object) -> None:
    parser.add_argument_group("mlgate duet").add_argument(  # type: ignore[attr-defined]
        "--candidate-host", default="", help="Duet: the candidate server (the baseline is --host)"
    )


class DuetUser(PredictUser):
    """Base of the duet users: one connection to each server, a fair coin for the order."""

    abstract = True

    def on_start(self) -> None:
        super().on_start()
        candidate = getattr(self.environment.parsed_options, "candidate_host", "")
        if not candidate:
            raise StopUser("duet load needs --candidate-host (the baseline is --host)")
        self.sessions = {
            "baseline": self.client,
            "candidate": second_session(self, candidate),
        }
        self.coin = random.Random()

    def send_pair(self, kind: str, name: str) -> None:
        """The same body to both servers, back to back, in an order the coin picks."""
        body = self.bodies.take(kind)
        pair = f"{os.getpid()}-{next(_pairs)}"
        order = list(SIDES) if self.coin.random() < 0.5 else list(reversed(SIDES))
        for side in order:
            context = {"side": side, "pair": pair, "endpoint": name}
            self.post(self.sessions[side], body, kind, f"{name} ({side})", context)


class DuetSingleRowUser(DuetUser):
    """One row per request pair, the typical online call."""

    weight = 3

    @task
    def predict_one(self) -> None:
        self.send_pair("single", f"{API.path} [1 row]")


class DuetBatchUser(DuetUser):
    """A batch of rows (--batch-size) per request pair."""

    weight = 1

    @task
    def predict_batch(self) -> None:
        self.send_pair("batch", f"{API.path} [batch]")
