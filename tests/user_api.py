"""A prediction API that is not mlgate's, shaped like a team's production one.

`POST /v1/predictions/regression` takes a JSON list of records and answers
`{"predictions": [...], "version": ..., "errors": null}`. Run: `uvicorn user_api:create_app --factory`
with MLGATE_TEST_ARTIFACT naming an artifact folder (its model is loaded with skops' defaults).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import FastAPI

from mlgate.model import artifacts


def create_app() -> FastAPI:
    artifact = artifacts.load(Path(os.environ["MLGATE_TEST_ARTIFACT"]), ())
    columns = [c["name"] for c in artifact.schema]
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/predictions/regression")
    def predict(records: list[dict[str, Any]]) -> dict[str, Any]:
        frame = pd.DataFrame(records)[columns]
        predictions = artifact.pipeline.predict(frame)
        return {"predictions": predictions.tolist(), "version": artifact.version, "errors": None}

    return app
