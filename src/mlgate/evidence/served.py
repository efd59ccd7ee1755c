"""Predictions from a running API (`mlgate serve` or one described in [tool.mlgate.api]), for the
training/serving skew check."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from mlgate.evidence.outputs import PREDICTION, PROBA_PREFIX
from mlgate.infra.errors import MlgateError
from mlgate.model.tables import json_records
from mlgate.serving.api import ApiShape, read_api


def check_api(api: str) -> None:
    """An http(s) URL with a host, checked before the model loads."""
    parsed = urlparse(api)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or any(c.isspace() for c in api):
        raise MlgateError(f"--api: {api!r} is not an http(s) URL; write it like http://127.0.0.1:8000")
    try:
        parsed.port  # noqa: B018 - reading it validates it
    except ValueError as exc:
        raise MlgateError(
            f"--api: {api!r} has a bad port ({exc}); write it like http://127.0.0.1:8000"
        ) from exc


def fetch_predictions(
    api: str,
    frame: pd.DataFrame,
    id_column: str,
    batch_size: int = 500,
    timeout: float = 60.0,
    shape: ApiShape | None = None,
) -> pd.DataFrame:
    """POST ``frame``'s rows to ``{api}/predict`` in batches; predictions (and ``proba_<class>``
    columns when the API sends class probabilities) indexed by id."""
    shape = shape or read_api()
    url = api.rstrip("/") + shape.path
    records = json_records(frame)
    predictions: list[Any] = []
    probabilities: dict[str, list[Any]] = {}
    for start in range(0, len(records), batch_size):
        body = json.dumps(shape.body(records[start : start + batch_size]), default=_plain).encode()
        request = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer = json.loads(response.read())
        except ValueError as exc:  # the body is not JSON (or the URL is malformed)
            raise MlgateError(
                f"--api: {url} did not answer JSON ({str(exc)[:100]}); check the URL is a `mlgate serve` API"
            ) from exc
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:300]
            raise MlgateError(
                f"--api: {url} answered {exc.code} for rows {start}-{start + batch_size - 1}: "
                f"{detail}; check the API serves this model"
            ) from exc
        except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as exc:
            raise MlgateError(f"--api: cannot reach {url} ({exc}); is `mlgate serve` running there?") from exc
        batch = shape.read_predictions(answer)
        if batch is None or len(batch) != len(records[start : start + batch_size]):
            raise MlgateError(
                f"--api: {url} did not answer with one prediction per record at {shape.predictions!r}; "
                "describe the API in [tool.mlgate.api] (path, records, predictions)"
            )
        predictions += batch
        for label, column in shape.read_probabilities(answer).items():
            probabilities.setdefault(label, []).extend(column)
    columns = {PREDICTION: predictions} | {f"{PROBA_PREFIX}{k}": v for k, v in probabilities.items()}
    return pd.DataFrame(columns, index=pd.Index(frame[id_column].to_numpy(), name=id_column))


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot send {type(value).__name__}")
