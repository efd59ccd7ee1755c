"""schemathesis against a real `mlgate serve`: every generated request, valid or not, gets a documented
answer that matches the OpenAPI schema, and no 5xx."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import running_server, train_versions

pytestmark = pytest.mark.slow  # a real server and about 1,000 requests

SCHEMATHESIS = Path(sys.executable).with_name("st")
WINE = "model_specs:wine"


@pytest.fixture(scope="module")
def wine_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_versions(WINE, tmp_path_factory.mktemp("wine"))["v1"]


@pytest.mark.parametrize(
    ("model", "examples", "least_cases"),
    [("reference", 500, 1000), ("wine", 150, 300)],
    ids=["reference-regressor", "wine-multiclass"],
)
def test_schemathesis_finds_no_failure_in_a_seeded_bounded_run(
    model: str,
    examples: int,
    least_cases: int,
    models: dict[str, Path],
    wine_model: Path,
    tmp_path: Path,
) -> None:
    artifact, extra = (models["v1"], []) if model == "reference" else (wine_model, ["--spec", WINE])
    with running_server(artifact, *extra) as url:
        result = subprocess.run(
            [
                str(SCHEMATHESIS),
                "run",
                f"{url}/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                str(examples),
                "--seed",
                "20261201",
                "--workers",
                "1",
                "--generation-database",
                "none",
                "--request-timeout",
                "30",
                "--report",
                "json",
                "--report-json-path",
                str(tmp_path / "run.json"),
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            cwd=tmp_path,  # schemathesis keeps a crash cache in its working folder
        )
    assert result.returncode == 0, result.stdout[-5000:]
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["complete"] and run["failures"] == [] and run["errors"] == []
    assert run["operations"]["tested"] == 3
    assert run["test_cases"]["generated"] >= least_cases
    # Schema-valid records are answered with predictions, not only refused.
    accepted = sum(phase["accepted"] for phase in run["valid_rates"]["POST /predict"].values())
    assert accepted >= 50, run["valid_rates"]
