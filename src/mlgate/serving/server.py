"""`mlgate serve`: a FastAPI app that serves any artifact, with little overhead around the model.

Where the time of a naive FastAPI + pydantic + pandas endpoint goes, and what this one does:
pydantic models per record (validation in Python, then a dict per row) -> one pass over the raw
JSON checking each field against the training schema; ``pd.DataFrame(records)`` (row-wise, dtype
inference) -> columns built directly with the trained dtypes; a thread-pool hop for a sync handler
-> the CPU-bound predict runs inline (one process per core does the parallelism, see --workers);
``json.dumps`` -> orjson. Predictions are the offline ones bit for bit: a test sends the whole holdout.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson
import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from mlgate.infra import interrupts, threads
from mlgate.infra.errors import MlgateError
from mlgate.model import artifacts
from mlgate.model.artifacts import Artifact
from mlgate.model.predicting import predict_arrays

log = logging.getLogger(__name__)

MAX_RECORDS = 1000
MAX_BODY_BYTES = 4 * 1024 * 1024  # 1,000 records of the reference model are about 1.3 MB of JSON
ENV_ARTIFACT = "MLGATE_SERVE_ARTIFACT"
ENV_SPEC = "MLGATE_SERVE_SPEC"
ENV_TRUST_PICKLE = "MLGATE_SERVE_TRUST_PICKLE"
ENV_MAX_RECORDS = "MLGATE_SERVE_MAX_RECORDS"
ENV_MAX_BODY_BYTES = "MLGATE_SERVE_MAX_BODY_BYTES"
INT64 = (-(2**63), 2**63 - 1)
# A value further than this many training spans outside the training range is refused (422): it is
# almost surely a unit or typing error, and it keeps schema-valid input from overflowing the model.
WIDEN = 10


class InvalidRecords(Exception):
    """A client error: the problems, each with the record index, field and reason."""

    def __init__(self, problems: list[dict[str, Any]], status: int = 422) -> None:
        super().__init__(problems[0]["msg"] if problems else "invalid request")
        self.problems, self.status = problems, status


@dataclass(frozen=True)
class Field:
    """What one input field accepts, from the artifact's training schema (docs/design.md)."""

    name: str
    kind: str  # integer, number or string
    nullable: bool  # only where training saw missing values
    low: float | None = None
    high: float | None = None
    above_zero: bool = False  # training saw only positive values: 0 and below are refused
    below_zero: bool = False

    def schema(self) -> dict[str, Any]:
        """This field as JSON Schema."""
        out: dict[str, Any] = {"type": [self.kind, "null"] if self.nullable else self.kind}
        if self.low is not None:
            out["minimum"] = self.low
        if self.high is not None:
            out["maximum"] = self.high
        if self.above_zero:
            out["exclusiveMinimum"] = 0
        if self.below_zero:
            out["exclusiveMaximum"] = 0
        seen = "seen" if self.nullable else "never seen"
        out["description"] = f"{self.kind}; missing values {seen} in training"
        return out

    def problem(self, value: Any) -> str:
        """Why ``value`` cannot go to the model, or "" when it can."""
        if value is None:
            return "" if self.nullable else "must not be null: training saw no missing values here"
        if self.kind == "string":
            return "" if isinstance(value, str) else f"must be a string, got {type(value).__name__}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a number, got {type(value).__name__}"
        if isinstance(value, float) and not math.isfinite(value):
            return "must be a finite number"
        if self.kind == "integer" and isinstance(value, float) and not value.is_integer():
            return "must be a whole number"
        low = (self.low is not None and value < self.low) or (self.above_zero and value <= 0)
        high = (self.high is not None and value > self.high) or (self.below_zero and value >= 0)
        return f"must be {self.bounds()} (the training range, widened)" if low or high else ""

    def bounds(self) -> str:
        """The accepted numbers in words, e.g. 'at least 1 and at most 654309'."""
        parts = []
        if self.low is not None or self.above_zero:
            parts.append("above 0" if self.low is None else f"at least {self.low:g}")
        if self.high is not None or self.below_zero:
            parts.append("below 0" if self.high is None else f"at most {self.high:g}")
        return " and ".join(parts)


def fields(artifact: Artifact) -> list[Field]:
    """The accepted values of every input field (ranges need artifacts that recorded min and max)."""
    out = []
    for col in artifact.schema:
        low: float | None = None
        high: float | None = None
        above = below = False
        if col["kind"] != "string" and col.get("min") is not None and col.get("max") is not None:
            least, most = float(col["min"]), float(col["max"])
            span = most - least or max(abs(most), 1.0)
            low, high = least - WIDEN * span, most + WIDEN * span
            above, below = least > 0, most < 0
        if col["kind"] == "integer":  # whole bounds, and never outside int64
            low = INT64[0] if low is None else max(math.ceil(low), INT64[0])
            high = INT64[1] if high is None else min(math.floor(high), INT64[1])
            low, high = (max(low, 1) if above else low), (min(high, -1) if below else high)
            above = below = False
        # A sign bound says more than a range bound that crosses zero; keep the stricter one only.
        if above and low is not None:
            low, above = (low, False) if low > 0 else (None, True)
        if below and high is not None:
            high, below = (high, False) if high < 0 else (None, True)
        out.append(Field(col["name"], col["kind"], bool(col["nullable"]), low, high, above, below))
    return out


def request_schema(accepted: list[Field], id_column: str, target: str, max_records: int) -> dict[str, Any]:
    """JSON schema of the request body: exactly what the artifact accepts."""
    properties = {field.name: field.schema() for field in accepted}
    properties[id_column] = {"description": "optional row id, echoed back in `ids`"}
    if target:  # rows straight from a labelled file may carry it; it is ignored
        properties[target] = {"description": "optional label, ignored"}
    record = {
        "type": "object",
        "properties": properties,
        "required": [field.name for field in accepted],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"records": {"type": "array", "items": record, "minItems": 1, "maxItems": max_records}},
        "required": ["records"],
        "additionalProperties": False,
    }


def response_schema(artifact: Artifact) -> dict[str, Any]:
    """JSON schema of a 200 answer."""
    label = {"type": "number"}
    classes = getattr(artifact.pipeline[-1], "classes_", None)
    if artifact.manifest.get("task") == "classification" and classes is not None:
        kinds = {"i": "integer", "u": "integer", "b": "boolean", "f": "number"}
        label = {"type": kinds.get(np.asarray(classes).dtype.kind, "string")}
    column = {"type": "array", "items": label}
    return {
        "type": "object",
        "properties": {
            "predictions": column,
            "model_version": {"type": "string"},
            "ids": {"type": "array", "description": "the records' ids, when they sent any"},
            "probabilities": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "number"}},
                "description": "classifiers: the probability of each class label, per record",
            },
        },
        "required": ["predictions", "model_version"],
    }


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array"},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
                "required": ["loc", "msg", "type"],
            },
        }
    },
    "required": ["detail"],
}


def parse_records(
    body: bytes, accepted: list[Field], id_column: str, target: str, max_records: int
) -> tuple[pd.DataFrame, list[Any] | None]:
    """Validate ``{"records": [...]}`` and build the model input with the trained dtypes."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRecords([_problem(["body"], f"body is not valid JSON: {exc}", "json_invalid")]) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("records"), list):
        raise InvalidRecords([_problem(["body", "records"], 'body must be {"records": [...]}', "missing")])
    extra = [key for key in payload if key != "records"]
    if extra:
        raise InvalidRecords([_problem(["body", extra[0]], "unknown field", "extra_forbidden")])
    records = payload["records"]
    if not records:
        raise InvalidRecords(
            [_problem(["body", "records"], "records is empty; send at least one", "too_short")]
        )
    if len(records) > max_records:
        message = f"{len(records)} records is more than the limit of {max_records}; split the request"
        raise InvalidRecords([_problem(["body", "records"], message, "too_long")])
    # The id and the label may come along (rows straight from a data file); they are not features.
    allowed = {field.name for field in accepted} | {id_column, target}
    problems: list[dict[str, Any]] = []
    columns: dict[str, list[Any]] = {field.name: [] for field in accepted}
    ids: list[Any] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            problems.append(
                _problem(["body", "records", index], "each record must be an object", "model_type")
            )
            continue
        ids.append(record.get(id_column))
        for field in accepted:
            name = field.name
            if name not in record:
                problems.append(_problem(["body", "records", index, name], "field required", "missing"))
                continue
            value = record[name]
            reason = field.problem(value)
            if reason:
                problems.append(_problem(["body", "records", index, name], reason, "value_error"))
            columns[name].append(value)
        unknown = [key for key in record if key not in allowed]
        for key in unknown[:5]:
            problems.append(_problem(["body", "records", index, key], "unknown field", "extra_forbidden"))
        if len(problems) >= 20:  # enough to fix the request; do not build a huge error body
            break
    if problems:
        raise InvalidRecords(problems)
    arrays = [_column(columns[field.name], field.kind) for field in accepted]
    return _frame(arrays, [field.name for field in accepted]), ids if any(
        i is not None for i in ids
    ) else None


def _frame(arrays: list[np.ndarray], names: list[str]) -> pd.DataFrame:
    """A frame from ready-typed columns without pandas' per-column inference (0.04 ms, not 0.5 ms).

    ``DataFrame._from_arrays`` is what pyarrow's ``to_pandas`` uses; where it is missing, the
    public constructor gives the same values (strings then become pandas' str dtype).
    """
    from_arrays = getattr(pd.DataFrame, "_from_arrays", None)
    if from_arrays is not None:
        frame: pd.DataFrame = from_arrays(
            arrays, columns=pd.Index(names), index=pd.RangeIndex(len(arrays[0])), verify_integrity=False
        )
        return frame
    return pd.DataFrame(dict(zip(names, arrays, strict=True)))  # pragma: no cover


def _problem(loc: list[Any], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": kind}


def _column(values: list[Any], kind: str) -> np.ndarray:
    """Trained dtypes as plain arrays: categories as object (10x cheaper to build than pandas'
    string arrays; a test shows the predictions equal the offline ones bit for bit)."""
    if kind == "string":
        return np.array([np.nan if v is None else v for v in values], dtype=object)
    if kind == "integer" and None not in values:
        return np.asarray(values, dtype=np.int64)
    return np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)


@dataclass(frozen=True)
class Limits:
    """What one request may hold."""

    max_records: int = MAX_RECORDS
    max_body_bytes: int = MAX_BODY_BYTES


def create_app(artifact: Artifact, limits: Limits = Limits()) -> FastAPI:
    """The app for one loaded artifact."""
    app = FastAPI(
        title=f"mlgate: {artifact.manifest.get('name', 'model')} {artifact.version}",
        version=str(artifact.version),
        description="Predictions from an mlgate artifact. Records follow the training schema.",
    )
    # One BLAS/OpenMP thread per worker process: stable latency, and the offline predictions.
    threads.pin_process()
    accepted = fields(artifact)
    target = str(artifact.manifest.get("target", ""))
    error = {"application/json": {"schema": ERROR_SCHEMA}}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "model_version": str(artifact.version)}

    @app.get("/version")
    async def version() -> dict[str, Any]:
        return artifact.manifest

    @app.post(
        "/predict",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": request_schema(accepted, artifact.id_column, target, limits.max_records)
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "predictions in record order",
                    "content": {"application/json": {"schema": response_schema(artifact)}},
                },
                "413": {"description": f"body over {limits.max_body_bytes} bytes", "content": error},
                "415": {"description": "content type is not application/json", "content": error},
                "422": {
                    "description": "a record does not match the schema (index, field and reason), "
                    "or the model's prediction for it is not finite",
                    "content": error,
                },
                "500": {"description": "a bug in the model or in mlgate (never bad input)", "content": error},
            },
        },
    )
    async def predict_endpoint(request: Request) -> Response:
        started = time.perf_counter()
        content_type = request.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            return _error(
                415, [_problem(["header", "content-type"], "send application/json", "content_type")]
            )
        try:
            body = await _read_body(request, limits.max_body_bytes)
            features, ids = parse_records(body, accepted, artifact.id_column, target, limits.max_records)
            parsed = time.perf_counter()
            values, probabilities = predict_arrays(artifact, features, "request")
            _check_finite(values, probabilities)
        except InvalidRecords as exc:
            return _error(exc.status, exc.problems)
        except MlgateError as exc:  # the model itself rejected the values
            return _error(422, [_problem(["body", "records"], str(exc), "value_error")])
        except Exception as exc:  # a bug: answer it (the connection stays usable) and log it
            log.exception("predict failed")
            return _error(500, [_problem(["server"], f"internal error: {type(exc).__name__}", "internal")])
        done = time.perf_counter()
        result: dict[str, Any] = {"predictions": json_ready(values), "model_version": artifact.version}
        if probabilities:
            result["probabilities"] = {label: json_ready(p) for label, p in probabilities.items()}
        if ids is not None:
            result["ids"] = ids
        timing = f"parse;dur={(parsed - started) * 1000:.3f}, model;dur={(done - parsed) * 1000:.3f}"
        return Response(
            orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY),
            media_type="application/json",
            headers={"Server-Timing": timing},
        )

    return app


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused (413) from its Content-Length, or while streaming, once it passes ``limit``."""
    message = f"body is larger than {limit} bytes; send fewer records per request"
    too_large = InvalidRecords([_problem(["body"], message, "too_large")], status=413)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _check_finite(values: np.ndarray, probabilities: dict[str, np.ndarray] | None) -> None:
    """A prediction of inf or NaN is no answer: name the records (422) rather than send null."""
    columns = [values, *(probabilities or {}).values()]
    bad = np.zeros(len(values), dtype=bool)
    for column in columns:
        if column.dtype.kind == "f":
            bad |= ~np.isfinite(column)
    if bad.any():
        raise InvalidRecords(
            [
                _problem(
                    ["body", "records", int(index)],
                    "the model's prediction for this record is not finite; check its values",
                    "non_finite_prediction",
                )
                for index in np.flatnonzero(bad)[:20]
            ]
        )


def json_ready(values: np.ndarray) -> Any:
    """What orjson can write: numbers as a contiguous array, labels (strings, objects) as a list."""
    if values.dtype.kind in "biuf":
        return np.ascontiguousarray(values)
    return values.tolist()


def _error(status: int, problems: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"detail": problems}, status_code=status)


def create_app_from_env() -> FastAPI:
    """Factory for uvicorn (one call per worker process): the artifact comes from the environment."""
    from mlgate.model.spec import spec_for_artifact

    folder = Path(os.environ[ENV_ARTIFACT])
    spec = spec_for_artifact(os.environ.get(ENV_SPEC) or None, folder)
    artifact = artifacts.load(
        folder,
        spec.trusted_types,
        trust_pickle=os.environ.get(ENV_TRUST_PICKLE) == "1",
    )
    limits = Limits(
        int(os.environ.get(ENV_MAX_RECORDS, MAX_RECORDS)),
        int(os.environ.get(ENV_MAX_BODY_BYTES, MAX_BODY_BYTES)),
    )
    return create_app(artifact, limits)


def run(
    artifact_dir: Path,
    host: str,
    port: int,
    workers: int,
    spec_ref: str | None,
    trust_pickle: bool,
    limits: Limits,
    announce: Callable[[str], None],
) -> None:
    """Check the artifact loads and the address binds, say so, then hand over to uvicorn."""
    import uvicorn

    from mlgate.model.spec import spec_for_artifact

    artifacts.load(
        artifact_dir, spec_for_artifact(spec_ref, artifact_dir).trusted_types, trust_pickle=trust_pickle
    )
    check_bindable(host, port)
    os.environ[ENV_ARTIFACT] = str(artifact_dir.resolve())
    os.environ[ENV_SPEC] = spec_ref or ""
    os.environ[ENV_TRUST_PICKLE] = "1" if trust_pickle else ""
    os.environ[ENV_MAX_RECORDS] = str(limits.max_records)
    os.environ[ENV_MAX_BODY_BYTES] = str(limits.max_body_bytes)
    announce(f"serving {artifact_dir} on http://{host}:{port} with {workers} worker(s)")
    uvicorn.run(
        "mlgate.serving.server:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )


def check_bindable(host: str, port: int) -> None:
    """Refuse a host that does not resolve or a port in use before anything is announced."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise MlgateError(
            f"--host: {host!r} does not resolve ({exc}); give an address like 127.0.0.1"
        ) from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            raise MlgateError(
                f"--port: cannot listen on {host}:{port} ({exc.strerror or exc}); choose another port "
                "or stop what listens there"
            ) from exc


def free_port() -> int:
    """A loopback port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def background(
    artifact_dir: Path, *extra: str, env: dict[str, str] | None = None, startup_seconds: float = 60.0
) -> Iterator[str]:
    """`mlgate serve` in a child process on a free loopback port; yields its URL, stops it after."""
    port = free_port()
    # The server's output goes to a file: a pipe nobody reads while it serves would fill up (a
    # traceback per failed request) and freeze it.
    with tempfile.TemporaryFile() as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "mlgate", "serve", str(artifact_dir), "--port", str(port), *extra],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # ended with its process group (uvicorn's workers included)
        )
        try:
            _wait_until_up(process, f"http://127.0.0.1:{port}", startup_seconds, log_file, artifact_dir)
            yield f"http://127.0.0.1:{port}"
        finally:
            interrupts.stop_group(process, grace=15)


def _wait_until_up(
    process: subprocess.Popen[bytes], url: str, seconds: float, log_file: IO[bytes], artifact_dir: Path
) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                interrupts.stop_group(process)
                log_file.seek(0)
                output = log_file.read().decode(errors="replace").strip()
                raise MlgateError(
                    f"ARTIFACT {artifact_dir}: the server did not start: "
                    f"{output.splitlines()[-1] if output else 'no output'}"
                ) from None
            time.sleep(0.2)
