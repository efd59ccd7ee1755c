"""The endpoint a team writes first, for `make bench` to measure `mlgate serve` against: FastAPI, a
pydantic model per record, ``pd.DataFrame(records)``, a sync handler (a thread-pool hop) and
FastAPI's default JSON response. Same artifact, same uvicorn; only the serving code differs.

    MLGATE_NAIVE_ARTIFACT=DIR uvicorn --factory naive_api:create_app
"""

# No `from __future__ import annotations`: FastAPI must see the body model itself, not its name.
import os
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import FastAPI
from pydantic import ConfigDict, create_model

from mlgate.model import artifacts
from mlgate.model.spec import spec_for_artifact

KINDS: dict[str, Any] = {"integer": int, "number": float, "string": str}


def create_app() -> FastAPI:
    folder = Path(os.environ["MLGATE_NAIVE_ARTIFACT"])
    artifact = artifacts.load(folder, spec_for_artifact(None, folder).trusted_types)
    fields: dict[str, Any] = {
        column["name"]: (KINDS[column["kind"]] | None if column["nullable"] else KINDS[column["kind"]], ...)
        for column in artifact.schema
    }
    record = create_model("Record", __config__=ConfigDict(extra="ignore"), **fields)
    body = create_model("Body", records=(list[record], ...))  # type: ignore[valid-type]
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/predict")
    def predict(request: body) -> dict[str, Any]:  # type: ignore[valid-type]
        frame = pd.DataFrame([r.model_dump() for r in request.records])  # type: ignore[attr-defined]
        return {"predictions": artifact.pipeline.predict(frame).tolist()}

    return app
