"""Artifacts: round trip, bit-exact retraining, and refusing what could run code."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio

import model_specs
from mlgate import reference
from mlgate.cli import main
from mlgate.infra.errors import MlgateError
from mlgate.model import artifacts
from mlgate.model.tables import write_table


def test_manifest_describes_the_model(models: dict[str, Path]) -> None:
    manifest = json.loads((models["v1"] / "manifest.json").read_text())
    assert manifest["name"] == "ames-house-prices" and manifest["version"] == "v1"
    for key in (
        "created",
        "git_commit",
        "data",
        "params",
        "training",
        "metrics",
        "environment",
        "threads",
        "input_schema",
    ):
        assert key in manifest
    assert manifest["data"]["train"]["fingerprint"].startswith("sha256:")
    assert manifest["training"]["wall_seconds"] > 0 and manifest["training"]["cpu_seconds"] > 0
    assert manifest["threads"]["limit"] == 1
    assert 0.5 < manifest["metrics"]["r2"] < 1
    assert manifest["environment"]["packages"]["scikit-learn"]
    assert manifest["params"]["model__regressor__alpha"] == 0.0005
    schema = {c["name"]: c for c in manifest["input_schema"]}
    assert schema["MasVnrType"]["kind"] == "string" and schema["LotFrontage"]["nullable"]


def test_round_trip_predicts_like_the_fitted_pipeline(models: dict[str, Path]) -> None:
    artifact = artifacts.load(models["v2"], reference.TRUSTED_TYPES)
    train = reference.train_frame()
    pipeline = reference.build("v2").fit(reference.spec.features(train), train["SalePrice"])
    holdout = reference.spec.features(reference.holdout_frame())
    np.testing.assert_array_equal(artifact.pipeline.predict(holdout), pipeline.predict(holdout))


def test_retraining_is_bit_exact(tmp_path: Path, holdout_csv: Path) -> None:
    outputs = []
    for run in ("a", "b"):
        assert main(["-q", "train", "--version", "v1", "--out", str(tmp_path / run)]) == 0
        out = tmp_path / f"{run}.parquet"
        assert (
            main(
                [
                    "-q",
                    "predict",
                    str(tmp_path / run),
                    "--data",
                    str(holdout_csv),
                    "--out",
                    str(out),
                ]
            )
            == 0
        )
        outputs.append(pd.read_parquet(out))
    assert outputs[0]["prediction"].to_numpy().tobytes() == outputs[1]["prediction"].to_numpy().tobytes()


def test_untrusted_type_is_refused_with_the_sorted_list(models: dict[str, Path]) -> None:
    with pytest.raises(MlgateError) as caught:
        artifacts.load(models["v1"], trusted_types=reference.TRUSTED_TYPES[2:])
    message = str(caught.value)
    assert "untrusted type(s): feature_engine.creation.relative_features.RelativeFeatures" in message
    assert "\n" not in message


def test_a_crafted_file_imports_and_runs_nothing(tmp_path: Path) -> None:
    module_dir = tmp_path / "mods"
    module_dir.mkdir()
    marker = tmp_path / "ran"
    (module_dir / "booby_trap.py").write_text(
        "from pathlib import Path\n"
        f"Path({str(marker)!r}).write_text('imported')\n"
        "class Trap:\n"
        "    def __setstate__(self, state):\n"
        f"        Path({str(marker)!r}).write_text('constructed')\n"
    )
    sys.path.insert(0, str(module_dir))
    try:
        import booby_trap  # type: ignore[import-not-found]

        folder = tmp_path / "artifact"
        folder.mkdir()
        sio.dump(booby_trap.Trap(), folder / "model.skops")
        (folder / "manifest.json").write_text(
            json.dumps({"name": "x", "version": "x", "id_column": "Id", "input_schema": []})
        )
    finally:
        sys.path.remove(str(module_dir))
        sys.modules.pop("booby_trap", None)
    marker.unlink()
    with pytest.raises(MlgateError, match=r"untrusted type\(s\): booby_trap.Trap"):
        artifacts.load(folder, reference.TRUSTED_TYPES)
    assert not marker.exists()
    assert "booby_trap" not in sys.modules


def test_pickle_needs_the_explicit_flag(
    tmp_path: Path, models: dict[str, Path], holdout_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "pickled"
    shutil.copytree(models["v1"], folder)
    pipeline = artifacts.load(folder, reference.TRUSTED_TYPES).pipeline
    (folder / "model.skops").unlink()
    joblib.dump(pipeline, folder / "model.joblib")
    args = ["predict", str(folder), "--data", str(holdout_csv), "--out", str(tmp_path / "p.csv")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "can run arbitrary code" in err and "--trust-pickle" in err
    assert not (tmp_path / "p.csv").exists()
    assert main([*args, "--trust-pickle"]) == 0
    assert len(pd.read_csv(tmp_path / "p.csv")) == 1459


def test_existing_artifact_is_not_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m"
    assert main(["-q", "train", "--version", "v1", "--out", str(out)]) == 0
    before = (out / "manifest.json").read_bytes()
    assert main(["-q", "train", "--version", "v2", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "manifest.json").read_bytes() == before
    assert main(["-q", "train", "--version", "v2", "--out", str(out), "--force"]) == 0
    assert json.loads((out / "manifest.json").read_text())["version"] == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temporary folders left


def test_train_refuses_a_pipeline_with_types_the_spec_does_not_trust(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found when training, with the exact names to add, and nothing written."""
    out = tmp_path / "boosted"
    code = main(["train", "--spec", "model_specs:boosted_untrusted", "--version", "v1", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "trusted_types" in err and "TreePredictor" in err, err
    assert not out.exists() and not list(tmp_path.iterdir())


def test_the_manifest_records_the_spec_used_and_later_commands_use_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A spec named in pyproject is recorded; predict then needs no --spec (its trusted types apply)."""
    (tmp_path / "pyproject.toml").write_text('[tool.mlgate]\nmodel = "model_specs:wine"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["-q", "train", "--version", "v1", "--out", "wine"]) == 0
    assert json.loads((tmp_path / "wine" / "manifest.json").read_text())["spec"] == "model_specs:wine"
    write_table(model_specs.wine.load_holdout(), tmp_path / "holdout.csv")
    (tmp_path / "pyproject.toml").unlink()  # the project's setting is gone: the artifact still knows
    assert main(["-q", "predict", "wine", "--data", "holdout.csv", "--out", "p.parquet"]) == 0
    capsys.readouterr()
    other = ["--spec", "model_specs:fast"]  # another spec is used as asked, with one line saying so
    assert main(["-q", "predict", "wine", "--data", "holdout.csv", "--out", "q.parquet", *other]) == 0
    assert "trained with spec model_specs:wine" in capsys.readouterr().err
