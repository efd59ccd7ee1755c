"""Served parity (training/serving skew): does the API answer what the same artifact predicts offline?"""

from __future__ import annotations

import dataclasses

import pandas as pd

from mlgate.checks.parity import prediction_parity
from mlgate.evidence import Served
from mlgate.infra.errors import MlgateError
from mlgate.policy import Parity
from mlgate.report import Finding


def served_parity(
    offline: pd.DataFrame, served: Served, version: str, task: str, rules: Parity, name: str
) -> Finding:
    """Exact, then tolerance parity of served vs offline outputs; any difference fails, whatever the
    policy says of parity between versions: serving must not change a model's answers."""
    rules = dataclasses.replace(rules, required=True)
    missing = sorted(set(offline.columns) - set(served.predictions.columns))
    if missing:
        raise MlgateError(
            f"--api: {served.url} sent no {', '.join(missing)} while the model offline has them; "
            "serve this artifact with `mlgate serve`"
        )
    unanswered = offline.index.difference(served.predictions.index)
    if len(unanswered):
        raise MlgateError(
            f"--api: {served.url} answered no prediction for {len(unanswered)} row(s) (e.g. id "
            f"{unanswered[0]}); send it the same rows"
        )
    findings = prediction_parity(offline, served.predictions.loc[offline.index, offline.columns], task, rules)
    # Served values (and, for classifiers, the labels) must equal the offline ones: one finding.
    failed = [f for f in findings if f.status != "pass"]
    return dataclasses.replace(
        failed[0] if failed else findings[0],
        name=name,
        kind="parity",
        message=f"{served.url} vs offline {version}: " + "; ".join(f.message for f in findings),
    )
