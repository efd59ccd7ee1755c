"""Training/serving skew: the served model's answers against the same artifact offline."""

from __future__ import annotations

import pandas as pd

from mlgate import threads
from mlgate.artifacts import Artifact
from mlgate.checks.parity import prediction_parity
from mlgate.evidence.served import fetch_predictions
from mlgate.policy import load_policy
from mlgate.predicting import model_input, predict
from mlgate.report import Finding


def served_parity(artifact: Artifact, frame: pd.DataFrame, api: str, batch_size: int, source: str) -> Finding:
    """Exact, then tolerance parity of served vs offline predictions; differences always fail."""
    features = model_input(artifact, frame, source)
    with threads.pinned():
        offline = predict(artifact, features, source).set_index(artifact.id_column)
    served = fetch_predictions(api, frame, artifact.id_column, batch_size)
    policy = load_policy()
    policy["parity"]["required"] = True  # serving must not change a model's answers
    finding = prediction_parity(offline[["prediction"]], served.loc[offline.index], "regression", policy)[0]
    finding.name, finding.kind = "served parity", "parity"
    finding.message = f"{api} vs offline {artifact.version}: {finding.message}"
    return finding
