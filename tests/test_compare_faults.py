"""The comparator's fault matrix: every case a really retrained change with a known right answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlgate.cli import main
from mlgate.model.tables import write_table

pytestmark = pytest.mark.slow  # each fault is a real retrain

TRAINED = {
    "faults": ["v1", "imputer_mean", "encoder_arbitrary", "strong_dropped", "over_regularised"],
    "reordered": ["v1"],
    "breast_cancer": ["v1", "weak"],
}


@pytest.fixture(scope="module")
def fault_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("fault-models")
    paths = {}
    for spec, versions in TRAINED.items():
        for version in versions:
            out = folder / f"{spec}-{version}"
            args = ["-q", "train", "--spec", f"model_specs:{spec}", "--version", version, "--out", str(out)]
            assert main(args) == 0
            paths[f"{spec}-{version}"] = out
    # The identical retrain: the same spec and version trained a second time.
    again = folder / "faults-v1-again"
    assert main(["-q", "train", "--spec", "model_specs:faults", "--version", "v1", "--out", str(again)]) == 0
    paths["faults-v1-again"] = again
    return paths


def compare(
    tmp_path: Path, baseline: Path, candidate: Path, *extra: str, spec: str = "faults"
) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "report"
    code = main(
        ["compare", str(baseline), str(candidate), "--spec", f"model_specs:{spec}", "--out", str(out), *extra]
    )
    return code, json.loads((out / "report.json").read_text())


def check(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["name"] == name)


def test_identical_retrain_passes_with_exact_parity(tmp_path: Path, fault_models: dict[str, Path]) -> None:
    code, report = compare(tmp_path, fault_models["faults-v1"], fault_models["faults-v1-again"])
    assert code == 0 and report["verdict"] == "pass"
    assert check(report, "prediction parity")["message"].startswith("all 1459 predictions are bit-identical")
    assert check(report, "feature parity")["status"] == "pass"
    assert all(c["status"] == "pass" for c in report["checks"])


def test_changed_imputation_names_the_step_and_columns(tmp_path: Path, fault_models: dict[str, Path]) -> None:
    code, report = compare(tmp_path, fault_models["faults-v1"], fault_models["faults-imputer_mean"])
    parity = check(report, "feature parity")
    assert parity["status"] == "warn"
    assert parity["details"]["first_difference"] == "numeric_imputer"
    steps = parity["details"]["steps"]
    first = next(s for s in steps if s["status"] == "differs")
    assert {c["column"] for c in first["columns"]} == {"LotFrontage", "MasVnrArea", "GarageYrBlt"}
    assert first["rows"] > 0 and len(first["columns"][0]["worst_ids"]) == 5
    later = steps[steps.index(first) + 1 :]
    assert later and all(s["status"] in ("downstream", "same") for s in later)
    assert any(s["status"] == "downstream" for s in later)
    assert [s["status"] for s in steps[: steps.index(first)]] == ["same"] * steps.index(first)
    assert code == 0  # outputs changed, quality did not get worse: not a regression by default


def test_parity_can_be_required(tmp_path: Path, fault_models: dict[str, Path]) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[parity]\nrequired = true\n")
    code, report = compare(
        tmp_path, fault_models["faults-v1"], fault_models["faults-imputer_mean"], "--policy", str(policy)
    )
    assert code == 1 and check(report, "feature parity")["status"] == "fail"


def test_changed_encoder_is_found_at_the_encoder(tmp_path: Path, fault_models: dict[str, Path]) -> None:
    _, report = compare(tmp_path, fault_models["faults-v1"], fault_models["faults-encoder_arbitrary"])
    parity = check(report, "feature parity")
    assert parity["details"]["first_difference"] == "ordinal_encoder"
    assert "Neighborhood" in {c["column"] for s in parity["details"]["steps"] for c in s["columns"]}


def test_input_columns_in_another_order_make_no_difference(
    tmp_path: Path, fault_models: dict[str, Path], holdout: pd.DataFrame
) -> None:
    reordered = tmp_path / "reordered.csv"
    write_table(holdout[list(reversed(holdout.columns))], reordered)
    preds = tmp_path / "from-reordered.parquet"
    args = ["-q", "predict", str(fault_models["faults-v1"]), "--data", str(reordered), "--out", str(preds)]
    assert main([*args, "--steps"]) == 0
    code, report = compare(tmp_path, fault_models["faults-v1"], preds, "--data", str(reordered))
    assert code == 0
    assert check(report, "prediction parity")["message"].startswith("all 1459 predictions are bit-identical")
    assert check(report, "feature parity")["status"] == "pass"


def test_model_trained_on_reordered_columns_is_no_regression(
    tmp_path: Path, fault_models: dict[str, Path]
) -> None:
    code, report = compare(tmp_path, fault_models["faults-v1"], fault_models["reordered-v1"])
    assert code == 0
    parity = check(report, "feature parity")
    assert parity["status"] == "pass" and "column order differs" in parity["message"]
    assert check(report, "quality rmse")["status"] == "pass"


def test_dropping_strong_features_is_a_quality_regression(
    tmp_path: Path, fault_models: dict[str, Path]
) -> None:
    code, report = compare(tmp_path, fault_models["faults-v1"], fault_models["faults-strong_dropped"])
    assert code == 1 and report["verdict"] == "regression"
    rmse = check(report, "quality rmse")
    assert rmse["status"] == "fail" and rmse["ci"][0] > 0.01
    parity = check(report, "feature parity")
    assert parity["details"]["first_difference"] == "drop_strong"
    assert "removes column(s)" in parity["message"] and "OverallQual" in parity["message"]


def test_a_better_model_passes_and_says_better(tmp_path: Path, fault_models: dict[str, Path]) -> None:
    code, report = compare(tmp_path, fault_models["faults-over_regularised"], fault_models["faults-v1"])
    assert code == 0
    for metric in ("rmse", "mae", "r2"):
        finding = check(report, f"quality {metric}")
        assert finding["status"] == "pass" and "better" in finding["message"]


def test_classifier_path_uses_delong_and_mcnemar(tmp_path: Path, fault_models: dict[str, Path]) -> None:
    code, report = compare(
        tmp_path, fault_models["breast_cancer-v1"], fault_models["breast_cancer-weak"], spec="breast_cancer"
    )
    assert code == 1
    accuracy, auc = check(report, "quality accuracy"), check(report, "quality roc_auc")
    assert accuracy["status"] == "fail" and "McNemar exact" in accuracy["details"]["test"]
    assert auc["status"] == "fail" and auc["details"]["test"] == "DeLong"
    assert check(report, "quality log_loss")["status"] == "fail"
    assert check(report, "decision parity")["status"] == "warn"

    code, report = compare(
        tmp_path / "same",
        fault_models["breast_cancer-v1"],
        fault_models["breast_cancer-v1"],
        spec="breast_cancer",
    )
    assert code == 0 and check(report, "decision parity")["message"] == "no predicted label changed"


def test_numeric_parity_names_the_largest_differences_first_and_ignores_equal_infinities() -> None:
    from mlgate.checks.parity import compare_frames
    from mlgate.policy import Parity

    ids = pd.Index(range(100, 112), name="Id")
    base = pd.DataFrame({"x": [1.0] * 8 + [float("inf"), float("nan"), 5.0, 5.0]}, index=ids)
    # rows 101, 103, 105 and 107 differ by 3; 102 by 5; 109 is missing on one side only
    cand = base.copy()
    cand.loc[[101, 103, 105, 107], "x"] += 3.0
    cand.loc[102, "x"] += 5.0
    cand.loc[109, "x"] = 2.0
    rules = Parity(required=False, rtol=0.0, atol=0.0, max_flip_rate=0.0, columns={})
    diff = compare_frames(base, cand, rules)
    (column,) = diff.columns
    assert column.rows == 6  # the equal infinities (108) and equal fives are not differences
    assert column.worst_ids == [109, 102, 101, 103, 105]  # largest first, ties in row order
