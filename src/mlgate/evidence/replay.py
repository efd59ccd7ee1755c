"""A replay folder (``mlgate replay``) read back: each request, and both servers' answers to it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from mlgate.infra.errors import MlgateError
from mlgate.serving.api import ApiShape
from mlgate.serving.replay_run import META, PAIRS, REQUESTS
from mlgate.serving.traffic import records_of

SIDES = ("baseline", "candidate")


@dataclass(frozen=True)
class Replay:
    """The pairs of one replay, in request order, with the traffic's feature rows.

    ``pairs`` has per request ``i`` and, per side, ``status``, ``latency_us``, ``version`` (the
    answer's model_version, when it names one) and ``predictions`` (a list, None if unreadable).
    ``rows`` holds every record the replayed requests sent, indexed by the request ``i`` it came in;
    ``training`` the spec's training features, when the input checks can run."""

    folder: Path
    meta: dict[str, Any]
    pairs: pd.DataFrame
    probabilities: dict[str, list[dict[str, list[Any]]]]  # side -> per pair {label: [...]}
    rows: pd.DataFrame | None
    training: pd.DataFrame | None = None

    def labels(self) -> tuple[str, str]:
        """What the two servers call themselves (model_version), else their URLs."""
        names = []
        for side in SIDES:
            versions = self.pairs[f"{side}_version"].dropna().unique()
            names.append(str(versions[0]) if len(versions) == 1 else str(self.meta.get(side, side)))
        if names[0] == names[1]:
            names = [f"{names[0]} ({side})" for side in SIDES]
        return names[0], names[1]


def read_replay(folder: Path, api: ApiShape, flag: str = "--replay") -> Replay:
    """The folder's requests and pairs; a one-line error naming what is missing or broken."""
    if not (folder / PAIRS).is_file() or not (folder / META).is_file():
        raise MlgateError(
            f"{flag}: {folder} is not a replay folder (no {PAIRS}/{META}); make one with mlgate replay"
        )
    try:
        meta = json.loads((folder / META).read_text())
        pairs = [orjson.loads(line) for line in (folder / PAIRS).read_bytes().splitlines() if line.strip()]
        bodies = {
            int(line["i"]): line["body"].encode()
            for line in map(orjson.loads, (folder / REQUESTS).read_bytes().splitlines())
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise MlgateError(f"{flag}: {folder} is damaged ({exc}); replay again") from exc
    if not pairs:
        raise MlgateError(f"{flag}: {folder} holds no answered pairs; replay again")
    table: dict[str, list[Any]] = {"i": [int(p["i"]) for p in pairs]}
    probabilities: dict[str, list[dict[str, list[Any]]]] = {}
    for side in SIDES:
        answers = [p[side] for p in pairs]
        table[f"{side}_status"] = [int(a["status"]) for a in answers]
        table[f"{side}_latency_us"] = [int(a["latency_us"]) for a in answers]
        parsed = [_json(a.get("body", "")) if a["status"] == 200 else None for a in answers]
        table[f"{side}_version"] = [a.get("model_version") if isinstance(a, dict) else None for a in parsed]
        table[f"{side}_predictions"] = [api.read_predictions(a) if a is not None else None for a in parsed]
        probabilities[side] = [api.read_probabilities(a) if a is not None else {} for a in parsed]
    frame = pd.DataFrame(table)
    return Replay(folder, meta, frame, probabilities, _rows(bodies, api))


def _json(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def _rows(bodies: dict[int, bytes], api: ApiShape) -> pd.DataFrame | None:
    """Every record of every replayed request (the input checks' traffic), or None if unreadable."""
    records, origin = [], []
    for i in sorted(bodies):
        found = records_of(bodies[i], api)
        if found is None:
            continue
        records += found
        origin += [i] * len(found)
    if not records:
        return None
    return pd.DataFrame.from_records(records, index=pd.Index(origin, name="request"))
