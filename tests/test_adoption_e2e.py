"""A new user's whole path on a model mlgate does not ship: init, asv on two commits, serve, plain locust
against their own API, and `mlgate check` deciding four kinds of change (issue: adoption)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import CHROMIUM, check_pictures, running_app
from mlgate.infra.errors import EXIT_OK, EXIT_REGRESSION
from mlgate.serving.locust_run import read_samples
from scratch_repo import SPEC, git, make_repo, mlgate
from test_load import USER_API

pytestmark = pytest.mark.slow
# Small, request-sized load: enough for the machinery and for a 5 ms-a-call slowdown, not a p95 verdict.
SMALL_LOAD = ["--load-seconds", "40", "--load-runs", "3"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The user's repo after `mlgate init`, committed and tagged v0.1."""
    root = make_repo(tmp_path_factory.mktemp("user") / "digits")
    result = mlgate(root, "init", "--spec", SPEC)
    assert result.returncode == 0, result.stderr
    git(root, "add", "-A")
    git(root, "commit", "-qm", "mlgate init")
    git(root, "tag", "v0.1")
    return root


def check(repo: Path, name: str, *args: str) -> tuple[int, dict[str, Any]]:
    """`mlgate check ARGS` with its report in REPO/reports/NAME; the exit code and report.json."""
    result = mlgate(repo, "check", *args, "--report", f"reports/{name}")
    report_file = repo / "reports" / name / "report.json"
    assert report_file.is_file(), result.stdout[-3000:] + result.stderr[-3000:]
    return result.returncode, json.loads(report_file.read_text())


def failed(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["checks"] if f["status"] == "fail"]


def test_identical_retrain_passes(repo: Path) -> None:
    code, report = check(repo, "retrain", "v1", "retrain", "--skip", "asv", *SMALL_LOAD)
    assert code == EXIT_OK, failed(report)
    parity = [f for f in report["checks"] if f["name"].startswith("served parity")]
    assert len(parity) == 2 and all(f["status"] == "pass" for f in parity)


def test_much_worse_multiclass_model_is_a_regression_named_by_log_loss(repo: Path) -> None:
    code, report = check(repo, "worse", "v1", "worse", "--skip", "asv", "--skip", "load")
    assert code == EXIT_REGRESSION
    assert any("log_loss" in f["name"] for f in failed(report)), failed(report)
    skipped = {f["name"] for f in report["checks"] if f["status"] == "skip"}
    assert {"asv", "load"} <= skipped and any("roc_auc" in n for n in skipped)


def test_added_preprocessing_step_is_named_by_parity(repo: Path) -> None:
    code, report = check(repo, "extra-step", "v1", "extra_step", "--skip", "asv", "--skip", "load")
    assert code == EXIT_REGRESSION  # every class probability shifted
    parity = next(f for f in report["checks"] if f["name"] == "feature parity")
    assert "step 3 'standardise': added step" in parity["message"], parity


def test_slower_model_is_never_better(repo: Path, tmp_path: Path) -> None:
    code, report = check(repo, "slow", "v1", "slow", "--skip", "asv", *SMALL_LOAD)
    latency = [f for f in report["checks"] if f["kind"] == "latency" and not f["name"].startswith("canary")]
    assert latency, report["checks"]
    for finding in latency:
        assert "better" not in finding["message"] or finding["status"] != "pass", finding
    p50 = [f for f in latency if f["name"].endswith("p50")]
    assert all(f["status"] in ("fail", "warn") for f in p50), p50
    assert code in (EXIT_OK, EXIT_REGRESSION)
    if CHROMIUM is not None:  # the release check's own report, drawn in a real browser
        pictures = check_pictures(repo / "reports" / "slow" / "report.html", tmp_path / "shots")
        assert {"forest", "latency-profile", "run-order"} <= set(pictures), pictures


def test_asv_on_two_commits_in_the_repos_environment(repo: Path) -> None:
    """The last tag vs a new commit: asv builds its environment, interleaves both commits, publishes."""
    spec_file = repo / "digits_model" / "spec.py"
    spec_file.write_text(spec_file.read_text().replace('("worse", "v2")', '("worse", "v2", "v1")'))
    git(repo, "commit", "-qam", "v1: much stronger regularisation")
    code, report = check(repo, "v0.1-vs-head", "--version", "v1", "--skip", "load")
    assert code == EXIT_REGRESSION
    assert any("log_loss" in f["name"] for f in failed(report))
    asv = {f["name"]: f for f in report["checks"] if f["name"].startswith("asv ")}
    assert any("ClassLogLoss" in name for name in asv), sorted(asv)
    assert not any(name.startswith("asv Quality.") for name in asv)  # the quick plan runs the task's tracks
    head, tag = git(repo, "rev-parse", "HEAD"), git(repo, "rev-parse", "v0.1")
    stored = {p.name[:8] for p in (repo / "results" / "asv").glob("*/*.json") if p.name != "machine.json"}
    assert {head[:8], tag[:8]} <= stored
    assert (repo / "results" / "html" / "index.html").is_file()


@pytest.fixture
def user_api(repo: Path, tmp_path: Path) -> Iterator[str]:
    """The user's own API (tests/user_api.py) serving the digits v1 model."""
    result = mlgate(repo, "train", "--version", "v1", "--out", str(tmp_path / "v1"))
    assert result.returncode == 0, result.stderr
    env = {
        **os.environ,
        "MLGATE_TEST_ARTIFACT": str(tmp_path / "v1"),
        "PYTHONPATH": str(Path(__file__).parent),
    }
    with running_app("user_api:create_app", env, "user API") as url:
        yield url


def test_plain_locust_from_the_repo_against_the_users_api(repo: Path, user_api: str, tmp_path: Path) -> None:
    """`locust -f locustfiles/` in the user's repo sends the spec's holdout in the API's own shape."""
    pyproject = repo / "pyproject.toml"
    original = pyproject.read_text()
    pyproject.write_text(original + "\n" + USER_API)
    try:
        command = [sys.executable, "-m", "locust", "-f", "locustfiles/", "--headless", "--host", user_api]
        options = [
            "-u",
            "2",
            "-r",
            "2",
            "-t",
            "180s",
            "--requests",
            "80",
            "--samples-dir",
            str(tmp_path / "s"),
        ]
        options += ["--csv", str(tmp_path / "locust")]
        result = subprocess.run(
            [*command, *options], cwd=repo, capture_output=True, text=True, timeout=300, check=False
        )
    finally:
        pyproject.write_text(original)
    assert result.returncode == 0, result.stderr[-2000:]
    stats = (tmp_path / "locust_stats.csv").read_text()
    assert "/v1/predictions/regression [1 row]" in stats, result.stderr[-3000:]
    samples = read_samples(tmp_path / "s")
    assert len(samples) >= 80 and set(samples["status"]) == {200}
