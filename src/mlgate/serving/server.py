"""`mlgate serve`: a FastAPI app that serves any artifact, with little overhead around the model.

Where the time of a naive FastAPI + pydantic + pandas endpoint goes, and what this one does:
pydantic models per record (validation in Python, then a dict per row) -> the raw JSON checked
against the training schema (a whole request at once from 6 records); ``pd.DataFrame(records)``
(row-wise, dtype inference) -> columns built directly with the trained dtypes; a thread-pool hop
for a sync handler
-> the CPU-bound predict runs inline (one process per core does the parallelism, see --workers);
``json.dumps`` -> orjson. Predictions are the offline ones bit for bit: a test sends the whole holdout.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from mlgate.infra import interrupts, threads
from mlgate.infra.errors import MlgateError
from mlgate.model import artifacts
from mlgate.model.artifacts import Artifact
from mlgate.model.predicting import predict_arrays
from mlgate.serving import records
from mlgate.serving.recorder import MAX_RECORDED, Recorder

log = logging.getLogger(__name__)

MAX_RECORDS = 1000
MAX_BODY_BYTES = 4 * 1024 * 1024  # 1,000 records of the reference model are about 1.3 MB of JSON
ENV_ARTIFACT = "MLGATE_SERVE_ARTIFACT"
ENV_SPEC = "MLGATE_SERVE_SPEC"
ENV_TRUST_PICKLE = "MLGATE_SERVE_TRUST_PICKLE"
ENV_MAX_RECORDS = "MLGATE_SERVE_MAX_RECORDS"
ENV_MAX_BODY_BYTES = "MLGATE_SERVE_MAX_BODY_BYTES"
ENV_RECORD = "MLGATE_SERVE_RECORD"
ENV_RECORD_MAX = "MLGATE_SERVE_RECORD_MAX"


@dataclass(frozen=True)
class Limits:
    """What one request may hold."""

    max_records: int = MAX_RECORDS
    max_body_bytes: int = MAX_BODY_BYTES


def create_app(artifact: Artifact, limits: Limits = Limits(), recorder: Recorder | None = None) -> FastAPI:
    """The app for one loaded artifact; with a recorder, every /predict request is appended to it."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if recorder is not None:
                recorder.close()

    app = FastAPI(
        title=f"mlgate: {artifact.manifest.get('name', 'model')} {artifact.version}",
        version=str(artifact.version),
        description="Predictions from an mlgate artifact. Records follow the training schema.",
        lifespan=lifespan,
    )
    # One BLAS/OpenMP thread per worker process: stable latency, and the offline predictions.
    threads.pin_process()
    accepted = records.fields(artifact)
    layout = records.Layout.of(accepted)
    target = str(artifact.manifest.get("target", ""))
    error = {"application/json": {"schema": records.ERROR_SCHEMA}}

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
                        "schema": records.request_schema(
                            accepted, artifact.id_column, target, limits.max_records
                        )
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "predictions in record order",
                    "content": {"application/json": {"schema": records.response_schema(artifact)}},
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
        read: list[bytes] = []
        response = await answer(request, started, read)
        if recorder is not None:
            body = read[0] if read else b""
            recorder.record(response.status_code, time.perf_counter() - started, body, bytes(response.body))
        return response

    async def answer(request: Request, started: float, read: list[bytes]) -> Response:
        """The answer to one /predict request; the body, once read, is appended to ``read``."""
        content_type = request.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            return _error(
                415, [records.problem(["header", "content-type"], "send application/json", "content_type")]
            )
        try:
            body = await _read_body(request, limits.max_body_bytes)
            read.append(body)
            features, ids = records.parse_records(
                body, layout, artifact.id_column, target, limits.max_records
            )
            parsed = time.perf_counter()
            values, probabilities = predict_arrays(artifact, features, "request")
            _check_finite(values, probabilities)
        except records.InvalidRecords as exc:
            return _error(exc.status, exc.problems)
        except MlgateError as exc:  # the model itself rejected the values
            return _error(422, [records.problem(["body", "records"], str(exc), "value_error")])
        except Exception as exc:  # a bug: answer it (the connection stays usable) and log it
            log.exception("predict failed")
            return _error(
                500, [records.problem(["server"], f"internal error: {type(exc).__name__}", "internal")]
            )
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
    too_large = records.InvalidRecords([records.problem(["body"], message, "too_large")], status=413)
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
        raise records.InvalidRecords(
            [
                records.problem(
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
    record = os.environ.get(ENV_RECORD)
    recorder = (
        Recorder(Path(record), int(os.environ.get(ENV_RECORD_MAX, MAX_RECORDED)), str(artifact.version))
        if record
        else None
    )
    return create_app(artifact, limits, recorder)


def run(
    artifact_dir: Path,
    host: str,
    port: int,
    workers: int,
    spec_ref: str | None,
    trust_pickle: bool,
    limits: Limits,
    announce: Callable[[str], None],
    record: tuple[Path, int] | None = None,
) -> None:
    """Check the artifact loads and the address binds, say so, then hand over to uvicorn.

    ``record``: (JSON Lines file, most requests) to append every /predict request to."""
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
    os.environ[ENV_RECORD] = str(record[0].resolve()) if record else ""
    os.environ[ENV_RECORD_MAX] = str(record[1]) if record else ""
    announce(
        f"serving {artifact_dir} on http://{host}:{port} with {workers} worker(s)"
        + (f", recording /predict to {record[0]}" if record else "")
    )
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
