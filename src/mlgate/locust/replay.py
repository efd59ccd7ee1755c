"""Shadow replay: each recorded body to both servers, back to back in random order, once.

A locustfile of its own (``mlgate replay`` runs it; it needs no model spec): users take the next
body of ``--requests-file`` (what ``mlgate replay`` wrote: one ``{"i": k, "body": "..."}`` a
line), send it to the baseline (``--host``) and the candidate (``--candidate-host``) in an order a
coin picks, as a duet does (docs/design.md, duet load), and keep both answers. The run ends when
every body has been answered by both, or at the run time, whichever comes first. ``--rate`` caps
the pairs a second (over all users), so a replay never loads a server harder than asked.

Each process writes its pairs to ``--pairs-dir`` as JSON Lines when its users stop:

    {"i": 0, "first": "candidate", "baseline": {"status": 200, "latency_us": 1843, "body": "..."},
     "candidate": {...}}
"""

from __future__ import annotations

import itertools
import os
import random
import time
from pathlib import Path
from typing import Any, ClassVar

import gevent
import orjson
from locust import FastHttpUser, events, task
from locust.env import Environment
from locust.exception import StopUser

from mlgate.locust.sessions import second_session
from mlgate.serving.api import read_api

API = read_api()
SIDES = ("baseline", "candidate")
MAX_ANSWER = 1_000_000  # bytes of an answer kept; a longer one is cut (and marked)


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    group = parser.add_argument_group("mlgate replay")
    group.add_argument("--candidate-host", default="", help="The candidate server (the baseline is --host)")
    group.add_argument("--requests-file", default="", help="Bodies to replay: JSON Lines of {i, body}")
    group.add_argument("--pairs-dir", default="", help="Write the answered pairs here")
    group.add_argument("--rate", type=float, default=0.0, help="Pairs a second over all users (0: no cap)")


class ReplayState:
    """This process's bodies, the next one to send, and the pairs answered so far."""

    bodies: ClassVar[list[tuple[int, bytes]]] = []
    next_body: ClassVar[itertools.count[int]] = itertools.count()
    pairs: ClassVar[list[bytes]] = []
    written: ClassVar[bool] = False

    @classmethod
    def load(cls, path: str) -> None:
        with Path(path).open("rb") as handle:
            lines = [orjson.loads(line) for line in handle if line.strip()]
        cls.bodies = [(int(line["i"]), line["body"].encode()) for line in lines]

    @classmethod
    def take(cls) -> tuple[int, bytes] | None:
        k = next(cls.next_body)
        return cls.bodies[k] if k < len(cls.bodies) else None

    @classmethod
    def write(cls, environment: Environment) -> None:
        folder = getattr(environment.parsed_options, "pairs_dir", "")
        if cls.written or not folder:
            return
        cls.written = True
        path = Path(folder) / f"pairs-{os.getpid()}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(b"".join(line + b"\n" for line in cls.pairs))
        tmp.replace(path)


@events.init.add_listener
def _prepare(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    if options is not None and options.requests_file:
        ReplayState.load(options.requests_file)


@events.test_stop.add_listener
def _stopped(environment: Environment, **_: Any) -> None:
    ReplayState.write(environment)


@events.quitting.add_listener
def _quitting(environment: Environment, **_: Any) -> None:
    ReplayState.write(environment)


class ReplayUser(FastHttpUser):
    """Sends each body it takes to both servers and keeps both answers."""

    headers: ClassVar[dict[str, str]] = {"content-type": "application/json"}

    def on_start(self) -> None:
        options = self.environment.parsed_options
        candidate = getattr(options, "candidate_host", "")
        if not candidate:
            raise StopUser("replay needs --candidate-host (the baseline is --host)")
        self.sessions = {"baseline": self.client, "candidate": second_session(self, candidate)}
        self.coin = random.Random()
        rate = getattr(options, "rate", 0.0) or 0.0
        users = max(1, getattr(options, "num_users", 1) or 1)
        self.pause = users / rate if rate > 0 else 0.0  # seconds between one user's pairs
        self.last = 0.0

    def wait_time(self) -> float:
        # Constant throughput: the next pair starts `pause` after the last one started.
        return max(0.0, self.pause - (time.monotonic() - self.last))

    @task
    def replay(self) -> None:
        taken = ReplayState.take()
        if taken is None:
            if len(ReplayState.pairs) >= len(ReplayState.bodies):  # every pair answered: the run is over
                gevent.spawn(self.environment.runner.quit)
            raise StopUser()
        self.last = time.monotonic()
        index, body = taken
        order = list(SIDES) if self.coin.random() < 0.5 else list(reversed(SIDES))
        answers = {side: self._send(side, body) for side in order}
        ReplayState.pairs.append(orjson.dumps({"i": index, "first": order[0], **answers}))

    def _send(self, side: str, body: bytes) -> dict[str, Any]:
        with self.sessions[side].post(
            API.path,
            data=body,  # type: ignore[arg-type]  # bytes go out as they are
            headers=self.headers,
            name=f"{API.path} ({side})",
            catch_response=True,
        ) as response:
            # locust's own clock for the request, as every load sample's (locust/common.py)
            latency_us = round(response.request_meta["response_time"] * 1000)
            status = int(response.status_code or 0)
            if status != 200:
                response.failure(f"status {status}")
            else:
                response.success()
            content = response.content or b""
            error = str(response.error) if getattr(response, "error", None) and not status else ""
        text = content[:MAX_ANSWER].decode("utf-8", errors="replace")
        answer: dict[str, Any] = {"status": status, "latency_us": latency_us, "body": text}
        if len(content) > MAX_ANSWER:
            answer["cut"] = True
        if error:
            answer["error"] = error
        return answer
