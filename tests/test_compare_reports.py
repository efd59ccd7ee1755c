"""`mlgate compare`: input errors, the four report files, and prediction files as inputs."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from mlgate.cli import main


@pytest.fixture(scope="module")
def predictions(
    models: dict[str, Path], holdout_csv: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("predictions")
    files = {}
    for version, model in models.items():
        files[version] = folder / f"{version}.parquet"
        assert (
            main(
                [
                    "-q",
                    "predict",
                    str(model),
                    "--data",
                    str(holdout_csv),
                    "--out",
                    str(files[version]),
                    "--steps",
                ]
            )
            == 0
        )
    return files


def test_report_files_follow_the_contract(tmp_path: Path, models: dict[str, Path]) -> None:
    out = tmp_path / "r"
    assert main(["compare", str(models["v1"]), str(models["v2"]), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "report.md", "report.xml"]
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"] == "pass"
    for check in report["checks"]:
        assert set(check) >= {
            "name",
            "kind",
            "status",
            "metric",
            "baseline",
            "candidate",
            "change",
            "ci",
            "threshold",
            "message",
        }
        assert check["status"] in {"pass", "fail", "warn", "skip", "error"}
    parity = next(c for c in report["checks"] if c["name"] == "feature parity")
    assert parity["details"]["first_difference"] == "total_area"
    markdown = (out / "report.md").read_text()
    assert markdown.startswith("## mlgate: v2 vs v1: no regression") and "| check | result |" in markdown
    suite = ET.parse(out / "report.xml").getroot().find("testsuite")
    assert suite is not None and int(suite.get("tests", "0")) == len(report["checks"])
    assert int(suite.get("failures", "-1")) == 0
    html = (out / "report.html").read_text()
    # Quality changes as a forest plot (relative) and as differences (R²), the scatter, the residuals.
    plots = re.findall(r"data-plot='([a-z-]+)'", html)
    assert plots == ["forest", "differences", "scatter", "residuals"] and "Feature parity by step" in html


@pytest.mark.slow
def test_regression_is_a_failure_in_junit(tmp_path: Path, models: dict[str, Path]) -> None:
    out = tmp_path / "r"
    policy = tmp_path / "p.toml"
    policy.write_text("[parity]\nrequired = true\n")
    assert (
        main(["compare", str(models["v1"]), str(models["v2"]), "--out", str(out), "--policy", str(policy)])
        == 1
    )
    failures = ET.parse(out / "report.xml").getroot().iter("failure")
    assert {f.get("type") for f in failures} == {"regression"}


def test_prediction_files_compare_like_artifacts(
    tmp_path: Path, predictions: dict[str, Path], holdout_csv: Path
) -> None:
    out = tmp_path / "r"
    code = main(
        [
            "compare",
            str(predictions["v1"]),
            str(predictions["v2"]),
            "--data",
            str(holdout_csv),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    parity = next(c for c in report["checks"] if c["name"] == "feature parity")
    assert parity["details"]["first_difference"] == "total_area"
    assert any(c["name"] == "quality rmse" and c["status"] == "pass" for c in report["checks"])


def test_without_labels_quality_is_skipped(tmp_path: Path, predictions: dict[str, Path]) -> None:
    out = tmp_path / "r"
    assert main(["compare", str(predictions["v1"]), str(predictions["v1"]), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert next(c for c in report["checks"] if c["kind"] == "quality")["status"] == "skip"


def test_ids_on_one_side_only_are_reported(tmp_path: Path, predictions: dict[str, Path]) -> None:
    partial = tmp_path / "partial.csv"
    frame = pd.read_parquet(predictions["v1"])
    frame.iloc[10:].to_csv(partial, index=False)
    out = tmp_path / "r"
    assert main(["compare", str(predictions["v1"]), str(partial), "--out", str(out)]) == 0
    join = json.loads((out / "report.json").read_text())["checks"][0]
    assert join["status"] == "warn" and "10 only in baseline" in join["message"]


@pytest.mark.slow
def test_default_report_folders_never_overwrite(
    tmp_path: Path, models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert main(["-q", "compare", str(models["v1"]), str(models["v2"])]) == 0
    folders = sorted((tmp_path / "results" / "reports").iterdir())
    assert len(folders) == 2 and all(f.name.endswith(("-v1-vs-v2", "-v1-vs-v2-2")) for f in folders)


def _bad_inputs(
    tmp: Path, models: dict[str, Path], predictions: dict[str, Path]
) -> dict[str, tuple[list[str], str]]:
    other_ids = tmp / "other-ids.csv"
    pd.DataFrame({"Id": [1, 2, 3], "prediction": [1.0, 2.0, 3.0]}).to_csv(other_ids, index=False)
    labels = tmp / "labels.csv"
    pd.DataFrame({"Id": [1], "prediction": ["yes"], "proba_yes": [0.9], "proba_no": [0.1]}).to_csv(
        labels, index=False
    )
    no_target = tmp / "no-target.csv"
    pd.read_parquet(predictions["v1"]).to_csv(no_target, index=False)
    policy = tmp / "policy.toml"
    policy.write_text("[quality]\nmargin = 0.02\n")
    v1, v2 = str(models["v1"]), str(models["v2"])
    p1 = str(predictions["v1"])
    return {
        "missing file": ([v1, str(tmp / "nope.parquet")], "CANDIDATE: file"),
        "no common ids": ([p1, str(other_ids)], "no common ids"),
        "target missing": ([v1, v2, "--data", str(no_target)], "--target: column 'SalePrice' is not in"),
        "mismatched kinds": ([p1, str(labels)], "one file holds class predictions"),
        "bad policy key": ([v1, v2, "--policy", str(policy)], "unknown key 'quality.margin'"),
        "missing policy file": ([v1, v2, "--policy", str(tmp / "none.toml")], "--policy: file"),
        "not an artifact": ([v1, str(tmp)], "is a folder without manifest.json"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing file",
        "no common ids",
        "target missing",
        "mismatched kinds",
        "bad policy key",
        "missing policy file",
        "not an artifact",
    ],
)
def test_input_errors_exit_2_with_one_line_and_write_nothing(
    tmp_path: Path,
    models: dict[str, Path],
    predictions: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    args, expected = _bad_inputs(inputs, models, predictions)[case]
    out = tmp_path / "report"
    code = main(["compare", *args, "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert expected in err and len(err.splitlines()) == 1
    assert not out.exists()
    assert not list(tmp_path.glob(".report*"))


def test_existing_report_folder_is_refused(
    tmp_path: Path, models: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r"
    out.mkdir()
    (out / "keep.txt").write_text("earlier")
    assert main(["compare", str(models["v1"]), str(models["v2"]), "--out", str(out)]) == 2
    assert "never overwritten" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "earlier"
