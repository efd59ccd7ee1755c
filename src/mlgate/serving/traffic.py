"""Traffic to replay: request bodies from a recording, a JSON Lines file of bodies, or rows of a table.

Three sources, told apart by the file, not by a flag:

- a recording of ``mlgate serve --record`` (JSON Lines, each line with ``request`` or
  ``request_text`` beside ``status``): each request body exactly as it came;
- any other JSON Lines file: each line is one request body (what a gateway or a log shipper keeps);
- a CSV or Parquet file of rows: each row becomes a one-record body in the API's shape
  (``[tool.mlgate.api]``), as a single online call would send it.

The bodies are kept as bytes and replayed as they are; the records inside them (when the API's shape
says where they are) are what the input checks compare with the training data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from mlgate.infra.errors import MlgateError
from mlgate.serving.api import ApiShape

TABLES = (".csv", ".parquet")
MAX_REQUESTS = 1_000_000  # a replay of more is a job for sampling first, not for one run


@dataclass(frozen=True)
class Traffic:
    """Request bodies in the order they were recorded, and what they came from."""

    bodies: list[bytes]
    source: str  # "recording", "bodies" or "rows"
    path: Path


def read_traffic(path: Path, api: ApiShape, flag: str = "TRAFFIC") -> Traffic:
    """Every request body of ``path``; a one-line error naming the file and line when one is bad."""
    if not path.is_file():
        raise MlgateError(
            f"{flag}: {path} is not a file; give a recording (serve --record), a JSON Lines file of "
            "request bodies, or CSV/Parquet rows"
        )
    if path.suffix.lower() in TABLES:
        bodies, source = _rows(path, api, flag), "rows"
    else:
        bodies, source = _lines(path, flag)
    if not bodies:
        raise MlgateError(f"{flag}: {path} holds no requests; record some traffic first")
    if len(bodies) > MAX_REQUESTS:
        raise MlgateError(
            f"{flag}: {path} holds {len(bodies):,} requests, more than {MAX_REQUESTS:,}; replay a sample"
        )
    return Traffic(bodies, source, path)


def _lines(path: Path, flag: str) -> tuple[list[bytes], str]:
    bodies: list[bytes] = []
    kinds: set[str] = set()
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise MlgateError(
                    f"{flag}: {path} line {number} is not JSON ({exc}); each line must be one JSON value"
                ) from exc
            recorded = isinstance(value, dict) and "status" in value
            if recorded and "request" in value:
                bodies.append(orjson.dumps(value["request"]))
            elif recorded and isinstance(value.get("request_text"), str):
                bodies.append(value["request_text"].encode())  # sent as it came: it was answered 422
            else:
                recorded = False
                bodies.append(line.strip())
            kinds.add("recording" if recorded else "bodies")
    if len(kinds) > 1:
        raise MlgateError(
            f"{flag}: {path} mixes recorded requests (with 'status' and 'request') and bare bodies; "
            "keep one kind per file"
        )
    return bodies, kinds.pop() if kinds else "bodies"


def _rows(path: Path, api: ApiShape, flag: str) -> list[bytes]:
    from mlgate.model.tables import json_records, read_table

    records = json_records(read_table(path, flag))
    return [orjson.dumps(api.body([record]), option=orjson.OPT_SERIALIZE_NUMPY) for record in records]


def records_of(body: bytes, api: ApiShape) -> list[dict[str, Any]] | None:
    """The records a body sends, when the API's shape says where they are; None when it cannot tell
    (a hook, a body that is not JSON, or records that are not objects)."""
    if api.hook is not None:
        return None
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    found = value.get(api.records) if api.records and isinstance(value, dict) else value
    if not api.records and isinstance(found, dict):
        found = [found]
    if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
        return None
    return found
