"""Help and usage errors answer before the heavy libraries load (scikit-learn alone takes ~2 s to import)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlgate import stats

HEAVY = ("sklearn", "pandas", "fastapi", "locust", "scipy")
PROBE = """
import json, sys
from mlgate.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "heavy": sorted(m for m in %r if m in sys.modules)}))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["check", "--help"],
        ["check", "--plan", "nope"],
        ["check", "--load-design", "nope"],
        ["check", "--skip", "nope"],
        ["check", "--confirm-budget", "soon"],
        ["load", "--nope"],
        ["compare"],
        ["serve"],
    ],
    ids=lambda args: " ".join(args),
)
def test_help_and_usage_errors_import_no_heavy_library(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["code"] in (0, 2), result.stderr
    assert answer["heavy"] == [], f"mlgate {' '.join(args)} imported {answer['heavy']}"


def test_comparing_regression_prediction_files_imports_neither_scikit_learn_nor_scipy(tmp_path: Path) -> None:
    """Two predictions files need no model: scikit-learn and scipy (about a second of imports
    together) stay out of `mlgate compare`, as they do for a user's 1,000,000-row files."""
    rows = 2 * stats.KS_LIMIT_FROM  # small files would import scipy.stats for KS's exact p-value
    rng = np.random.default_rng(0)
    truth = rng.normal(100, 10, rows)
    frames = {"labels.csv": pd.DataFrame({"Id": range(rows), "SalePrice": truth})}
    for name, noise in (("old.csv", 1.0), ("new.csv", 1.1)):
        frames[name] = pd.DataFrame({"Id": range(rows), "prediction": truth + rng.normal(0, noise, rows)})
    for name, frame in frames.items():
        frame.to_csv(tmp_path / name, index=False)
    args = ["compare", "old.csv", "new.csv", "--data", "labels.csv", "--out", "report"]
    result = subprocess.run(
        [sys.executable, "-c", PROBE % (("sklearn", "scipy"),), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["code"] in (0, 1), result.stderr
    assert (tmp_path / "report" / "report.json").is_file()
    assert answer["heavy"] == [], f"mlgate compare imported {answer['heavy']}"
