"""`mlgate replay`: recorded traffic through the baseline and the candidate API, request by request.

A replay folder is self-contained evidence for ``mlgate compare --replay``:

- ``requests.jsonl``: every body replayed, ``{"i": k, "body": "..."}``, in the recorded order;
- ``pairs.jsonl``: one line per body answered by both servers (see mlgate.locust.replay);
- ``replay.json``: the traffic file, both hosts, the plan, and how many bodies were sent;
- locust's own ``locust.html``, ``locust.log`` and CSV tables.

Replay is load: both hosts must be loopback unless ``--allow-remote``, the run is bounded in time and
users, and ``--rate`` caps the pairs a second.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from mlgate.infra import atomic, interrupts
from mlgate.infra.errors import MlgateError
from mlgate.serving.locust_run import MAX_RUN_SECONDS, MAX_USERS, MIN_RUN_SECONDS
from mlgate.serving.traffic import Traffic

LOCUSTFILE = Path(__file__).parent.parent / "locust" / "replay.py"
REQUESTS, PAIRS, META = "requests.jsonl", "pairs.jsonl", "replay.json"


@dataclass(frozen=True)
class ReplayPlan:
    """How a replay is driven: users, an optional cap on pairs a second, and the time bound."""

    users: int = 4
    rate: float = 0.0  # pairs a second over all users; 0: as fast as the users go
    run_seconds: float = 300.0


def check_replay_plan(plan: ReplayPlan) -> None:
    """Refuse an unbounded or impossible replay before anything starts."""
    if not 1 <= plan.users <= MAX_USERS:
        raise MlgateError(f"--users: {plan.users} is outside 1 to {MAX_USERS}")
    if not math.isfinite(plan.rate) or plan.rate < 0:
        raise MlgateError(
            f"--rate: {plan.rate:g} is not a rate; give pairs a second above 0, or 0 for no cap"
        )
    if not MIN_RUN_SECONDS <= plan.run_seconds <= MAX_RUN_SECONDS:
        raise MlgateError(
            f"--run-time: {plan.run_seconds:g} s is outside {MIN_RUN_SECONDS} s to {MAX_RUN_SECONDS} s; "
            "a replay is always bounded"
        )


def replay(
    traffic: Traffic,
    baseline: str,
    candidate: str,
    plan: ReplayPlan,
    out: Path,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Replay ``traffic`` to both hosts into the new folder ``out``; returns what replay.json holds."""
    with atomic.new_directory(out, replaceable=False, keep=f"the replay in {out}") as tmp:
        lines = (
            orjson.dumps({"i": k, "body": body.decode("utf-8", "replace")})
            for k, body in enumerate(traffic.bodies)
        )
        (tmp / REQUESTS).write_bytes(b"".join(line + b"\n" for line in lines))
        if progress:
            progress(f"{len(traffic.bodies):,} requests to {baseline} and {candidate}")
        started = datetime.now(UTC)
        result = interrupts.run_child(
            _command(baseline, candidate, plan, tmp),
            timeout=plan.run_seconds + 120,
            what=f"the replay to {baseline} and {candidate}",
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        (tmp / "locust.stdout").write_text(result.stdout + result.stderr)
        pairs, jsonl = _merge(tmp / "pairs")
        if not pairs:
            log = tmp / "locust.log"
            tail = (log.read_text() if log.exists() else result.stderr).strip().splitlines()
            raise MlgateError(
                f"--baseline-host/--candidate-host: no request was answered by both (locust exit "
                f"{result.returncode}); are both servers up? {tail[-1] if tail else ''}"
            )
        (tmp / PAIRS).write_bytes(jsonl)
        shutil.rmtree(tmp / "pairs")  # merged into pairs.jsonl
        meta = {
            "traffic": str(traffic.path),
            "traffic_kind": traffic.source,
            "baseline": baseline,
            "candidate": candidate,
            "plan": {"users": plan.users, "rate": plan.rate, "run_seconds": plan.run_seconds},
            "started": started.isoformat(timespec="seconds"),
            "requests": len(traffic.bodies),
            "pairs": len(pairs),
            "complete": len(pairs) == len(traffic.bodies),
            "refused": _refused(pairs),
            "locust_exit_code": result.returncode,
        }
        (tmp / META).write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def _command(baseline: str, candidate: str, plan: ReplayPlan, folder: Path) -> list[str]:
    spawn = max(plan.users, 1)  # all users at once: a replay has no ramp to measure
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        baseline,
        "--candidate-host",
        candidate,
        "-u",
        str(plan.users),
        "-r",
        str(spawn),
        "-t",
        f"{math.ceil(plan.run_seconds)}s",
        "--stop-timeout",
        "10",
        "--only-summary",
        "--csv",
        str(folder / "locust"),
        "--html",
        str(folder / "locust.html"),
        "--requests-file",
        str(folder / REQUESTS),
        "--pairs-dir",
        str(folder / "pairs"),
        "--rate",
        str(plan.rate),
        "--exit-code-on-error",
        "0",
        "--loglevel",
        "WARNING",
        "--logfile",
        str(folder / "locust.log"),
    ]


def _refused(pairs: list[dict[str, Any]]) -> dict[str, int]:
    """Per side, the requests not answered 200: all of them on both sides is traffic the API
    cannot read (another shape, missing fields), not a comparison."""
    return {side: sum(p[side]["status"] != 200 for p in pairs) for side in ("baseline", "candidate")}


def _merge(folder: Path) -> tuple[list[dict[str, Any]], bytes]:
    """Every process's pairs in the order of the recorded requests: parsed, and as JSON Lines."""
    lines = [
        line
        for path in sorted(folder.glob("pairs-*.jsonl"))
        for line in path.read_bytes().splitlines()
        if line
    ]
    ordered = sorted(((orjson.loads(line), line) for line in lines), key=lambda pair: int(pair[0]["i"]))
    return [parsed for parsed, _ in ordered], b"".join(line + b"\n" for _, line in ordered)
