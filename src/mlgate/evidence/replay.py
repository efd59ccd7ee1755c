"""A replay folder (``mlgate replay``) read back: each request, and both servers' answers to it."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from mlgate.evidence.outputs import PREDICTION, PROBA_PREFIX
from mlgate.infra.errors import MlgateError
from mlgate.serving.api import ApiShape
from mlgate.serving.replay_run import META, PAIRS, REQUESTS
from mlgate.serving.traffic import records_of

SIDES = ("baseline", "candidate")


@dataclass(frozen=True)
class Replay:
    """The pairs of one replay, in request order, and what the records of the replayed requests were.

    ``pairs``: per request ``i``, ``first`` (the side the coin sent first) and per side ``status``,
    ``latency_us``, ``version`` (the answer's model_version, if any) and ``predictions`` (a list,
    None when the answer held none). ``outputs``: both sides' answers to every record of the
    requests both answered with as many predictions, in the outputs format (``prediction``,
    ``proba_<label>``), indexed alike; ``record_request`` is the request each of those records came
    in. ``rows``: the records the replayed requests sent, indexed by request; ``training`` the
    spec's training features, when the input checks can run."""

    folder: Path
    meta: dict[str, Any]
    pairs: pd.DataFrame
    outputs: dict[str, pd.DataFrame]
    record_request: np.ndarray
    rows: pd.DataFrame | None
    training: pd.DataFrame | None = None
    no_training: str = "no model spec to take training data from"  # why, when training is None

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
        table: dict[str, list[Any]] = {
            "i": [int(p["i"]) for p in pairs],
            "first": [p["first"] for p in pairs],
        }
        answers: dict[str, list[Any]] = {}
        for side in SIDES:
            table[f"{side}_status"] = [int(p[side]["status"]) for p in pairs]
            table[f"{side}_latency_us"] = [int(p[side]["latency_us"]) for p in pairs]
            answers[side] = [
                _json(p[side].get("body", "")) if p[side]["status"] == 200 else None for p in pairs
            ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise MlgateError(f"{flag}: {folder} is damaged ({exc}); replay again") from exc
    if not pairs:
        raise MlgateError(f"{flag}: {folder} holds no answered pairs; replay again")
    for side in SIDES:
        table[f"{side}_version"] = [
            a.get("model_version") if isinstance(a, dict) else None for a in answers[side]
        ]
        table[f"{side}_predictions"] = [
            api.read_predictions(a) if a is not None else None for a in answers[side]
        ]
    frame = pd.DataFrame(table)
    outputs, record_request = _outputs(frame, answers, api)
    replayed = {i: bodies[i] for i in frame["i"] if i in bodies}  # a replay cut short sent no more
    return Replay(folder, meta, frame, outputs, record_request, _rows(replayed, api))


def _outputs(
    frame: pd.DataFrame, answers: dict[str, list[Any]], api: ApiShape
) -> tuple[dict[str, pd.DataFrame], np.ndarray]:
    """Both sides' answers, record by record, for the requests both answered with as many
    predictions; class probabilities kept only when every such answer gives them record by record."""
    both = [
        k
        for k, (b, c) in enumerate(
            zip(frame["baseline_predictions"], frame["candidate_predictions"], strict=True)
        )
        if b is not None and c is not None and len(b) == len(c)
    ]
    requests: list[int] = []
    names: list[str] = []
    for k in both:
        i = int(frame["i"].iloc[k])
        for row in range(len(frame["baseline_predictions"].iloc[k])):
            requests.append(i)
            names.append(f"{i}.{row}")  # request i, its record row
    index = pd.Index(names, name="record")
    outputs = {}
    for side in SIDES:
        columns: dict[str, list[Any]] = {
            PREDICTION: [p for k in both for p in frame[f"{side}_predictions"].iloc[k]]
        }
        probabilities = [api.read_probabilities(answers[side][k]) for k in both]
        labels = sorted({label for p in probabilities for label in p})
        if labels and all(
            _per_record(p, labels, len(frame[f"{side}_predictions"].iloc[k]))
            for p, k in zip(probabilities, both, strict=True)
        ):
            for label in labels:
                columns[PROBA_PREFIX + label] = [float(v) for p in probabilities for v in p[label]]
        outputs[side] = pd.DataFrame(columns, index=index)
    if not all(any(c.startswith(PROBA_PREFIX) for c in out.columns) for out in outputs.values()):
        outputs = {side: out[[PREDICTION]] for side, out in outputs.items()}  # one side only: compare labels
    return outputs, np.asarray(requests, dtype=int)


def _per_record(probabilities: dict[str, Any], labels: list[str], records: int) -> bool:
    """Every label's probabilities are a list of finite numbers, one per record."""
    return set(probabilities) == set(labels) and all(
        isinstance(p, list)
        and len(p) == records
        and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in p)
        for p in probabilities.values()
    )


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
