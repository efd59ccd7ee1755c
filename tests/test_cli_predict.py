"""`mlgate predict`: predictions keyed by id, every step's output, and one-line input errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlgate import reference
from mlgate.cli import main
from mlgate.model import artifacts
from mlgate.model.tables import read_table, write_table


def test_predictions_are_keyed_by_id(tmp_path: Path, models: dict[str, Path], holdout: pd.DataFrame) -> None:
    shuffled = holdout.sample(frac=1.0, random_state=1)
    data = tmp_path / "shuffled.parquet"
    write_table(shuffled, data)
    out = tmp_path / "p.csv"
    assert main(["-q", "predict", str(models["v1"]), "--data", str(data), "--out", str(out)]) == 0
    written = pd.read_csv(out)
    assert list(written.columns) == ["Id", "prediction"]
    assert written["Id"].tolist() == shuffled["Id"].tolist()
    pipeline = artifacts.load(models["v1"], reference.TRUSTED_TYPES).pipeline
    expected = pipeline.predict(reference.spec.features(shuffled))
    np.testing.assert_array_equal(written["prediction"].to_numpy(), expected)  # CSV keeps bits


def test_column_order_does_not_matter(tmp_path: Path, models: dict[str, Path], holdout: pd.DataFrame) -> None:
    reordered = holdout[list(reversed(holdout.columns))]
    write_table(reordered, tmp_path / "r.csv")
    write_table(holdout, tmp_path / "h.csv")
    for name in ("r", "h"):
        assert (
            main(
                [
                    "-q",
                    "predict",
                    str(models["v2"]),
                    "--data",
                    str(tmp_path / f"{name}.csv"),
                    "--out",
                    str(tmp_path / f"{name}.parquet"),
                ]
            )
            == 0
        )
    a, b = (pd.read_parquet(tmp_path / f"{n}.parquet") for n in "rh")
    pd.testing.assert_frame_equal(a, b)


def test_steps_writes_every_step_keyed_by_id(
    tmp_path: Path, models: dict[str, Path], holdout_csv: Path
) -> None:
    out = tmp_path / "p.parquet"
    assert (
        main(
            [
                "-q",
                "predict",
                str(models["v2"]),
                "--data",
                str(holdout_csv),
                "--out",
                str(out),
                "--steps",
            ]
        )
        == 0
    )
    folder = tmp_path / "p.steps"
    index = json.loads((folder / "steps.json").read_text())
    pipeline = artifacts.load(models["v2"], reference.TRUSTED_TYPES).pipeline
    names = [name for name, _ in pipeline.steps[:-1]]
    assert [s["name"] for s in index["steps"]] == ["input", *names]
    features = reference.spec.features(read_table(holdout_csv))
    for step in index["steps"]:
        written = pd.read_parquet(folder / step["file"])
        assert written.columns[0] == "Id" and len(written) == 1459
        k = step["index"]
        expected = pipeline[:k].transform(features) if k else features
        pd.testing.assert_frame_equal(
            written.drop(columns="Id"), expected.reset_index(drop=True), check_dtype=False
        )
    assert "TotalSF" in pd.read_parquet(folder / index["steps"][-1]["file"]).columns


def _run(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err.strip()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda f: f.drop(columns=["GrLivArea", "LotArea"]),
            "missing column(s) LotArea, GrLivArea",
        ),
        (lambda f: f.assign(LotArea="big"), "column 'LotArea' must be numeric"),
        (lambda f: f.drop(columns=["Id"]), "no id column 'Id'"),
        (lambda f: f.assign(Id=1), "id column 'Id' has missing or repeated values"),
        (lambda f: f.iloc[:0], "has no rows"),
    ],
)
def test_bad_data_is_one_line_exit_2(
    tmp_path: Path,
    models: dict[str, Path],
    holdout: pd.DataFrame,
    capsys: pytest.CaptureFixture[str],
    edit: object,
    expected: str,
) -> None:
    data = tmp_path / "bad.csv"
    edit_frame = edit  # a callable from the table above
    assert callable(edit_frame)
    edit_frame(holdout).to_csv(data, index=False)
    out = tmp_path / "p.csv"
    code, err = _run(capsys, ["predict", str(models["v1"]), "--data", str(data), "--out", str(out)])
    assert code == 2, err
    assert expected in err and str(data) in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["predict", "{model}", "--data", "missing.csv", "--out", "{tmp}/p.csv"],
            "--data: file missing.csv does not exist",
        ),
        (
            ["predict", "{model}", "--data", "{tmp}/garbage.parquet", "--out", "{tmp}/p.csv"],
            "--data: cannot read",
        ),
        (["predict", "{model}", "--data", "{tmp}/empty.csv", "--out", "{tmp}/p.csv"], "is empty"),
        (
            ["predict", "{model}", "--data", "{tmp}/garbage.parquet", "--out", "{tmp}/p.txt"],
            "--out: {tmp}/p.txt has suffix '.txt'",
        ),
        (
            ["predict", "{tmp}", "--data", "{tmp}/empty.csv", "--out", "{tmp}/p.csv"],
            "manifest.json is missing",
        ),
        (
            ["train", "--version", "v1", "--out", "{tmp}/m", "--spec", "nocolon"],
            "--spec: 'nocolon' is not MODULE:OBJECT",
        ),
        (
            ["train", "--version", "v1", "--out", "{tmp}/m", "--spec", "no_such_module_x:spec"],
            "--spec: cannot import module 'no_such_module_x'",
        ),
        (
            ["train", "--version", "v1", "--out", "{tmp}/m", "--spec", "mlgate.reference:nothing"],
            "--spec: module 'mlgate.reference' has no 'nothing'",
        ),
        (
            ["train", "--version", "v1", "--out", "{tmp}/m", "--spec", "mlgate.reference:TARGET"],
            "is a str, not a mlgate.ModelSpec",
        ),
        (["train", "--version", "v9", "--out", "{tmp}/m"], "--version: ames-house-prices has no"),
        (["train", "--version", "v1"], "Missing option '--out'"),
    ],
)
def test_usage_errors_are_one_line_exit_2(
    tmp_path: Path,
    models: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expected: str,
) -> None:
    (tmp_path / "garbage.parquet").write_bytes(b"not parquet at all")
    (tmp_path / "empty.csv").write_bytes(b"")
    filled = [a.format(model=models["v1"], tmp=tmp_path) for a in args]
    code, err = _run(capsys, filled)
    assert code == 2
    assert expected.format(tmp=tmp_path) in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "p.csv").exists() and not (tmp_path / "m").exists()


def test_verbose_shows_the_traceback(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, err = _run(capsys, ["-v", "train", "--version", "v9", "--out", str(tmp_path / "m")])
    assert code == 2 and "Traceback" in err


def test_existing_predictions_are_kept(
    tmp_path: Path, models: dict[str, Path], holdout_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p.csv"
    out.write_text("precious\n")
    code, err = _run(capsys, ["predict", str(models["v1"]), "--data", str(holdout_csv), "--out", str(out)])
    assert code == 2 and "--force" in err
    assert out.read_text() == "precious\n"
