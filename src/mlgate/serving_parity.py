"""Training/serving skew: the served model's answers against the same artifact offline."""

from __future__ import annotations

from urllib.parse import urlparse

import pandas as pd

from mlgate import threads
from mlgate.artifacts import Artifact
from mlgate.checks.parity import prediction_parity
from mlgate.errors import MlgateError
from mlgate.evidence.served import fetch_predictions
from mlgate.policy import load_policy
from mlgate.predicting import model_input, predict
from mlgate.report import Finding


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


def served_parity(artifact: Artifact, frame: pd.DataFrame, api: str, batch_size: int, source: str) -> Finding:
    """Exact, then tolerance parity of served vs offline predictions; differences always fail."""
    features = model_input(artifact, frame, source)
    with threads.pinned():
        offline = predict(artifact, features, source).set_index(artifact.id_column)
    served = fetch_predictions(api, frame, artifact.id_column, batch_size)
    policy = load_policy()
    policy["parity"]["required"] = True  # serving must not change a model's answers
    task = str(artifact.manifest.get("task") or "regression")
    missing = sorted(set(offline.columns) - set(served.columns))
    if missing:
        raise MlgateError(
            f"--api: {api} sent no {', '.join(missing)} while the model offline has them; "
            "serve this artifact with `mlgate serve`"
        )
    findings = prediction_parity(offline, served.loc[offline.index, offline.columns], task, policy)
    # Served values (and, for classifiers, the labels) must equal the offline ones: one finding.
    failed = [f for f in findings if f.status != "pass"]
    finding = failed[0] if failed else findings[0]
    finding.name, finding.kind = "served parity", "parity"
    finding.message = f"{api} vs offline {artifact.version}: " + "; ".join(f.message for f in findings)
    return finding
