"""The reference data: deterministic, Ames-shaped, with structured missingness and rare levels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mlgate import reference
from mlgate.model.tables import read_table, write_table
from mlgate.reference.data import NOMINAL


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    write_table(reference.generate(500, seed=7), tmp_path / "a.csv")
    write_table(reference.generate(500, seed=7), tmp_path / "b.csv")
    write_table(reference.generate(500, seed=8), tmp_path / "c.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "c.csv").read_bytes()


def test_shape_and_column_kinds() -> None:
    train, holdout = reference.train_frame(), reference.holdout_frame()
    assert (len(train), len(holdout)) == (1460, 1459)
    assert train["Id"].is_unique and set(train["Id"]).isdisjoint(holdout["Id"])
    features = train.drop(columns=["Id", "SalePrice"])
    assert features.shape[1] >= 30
    strings = [c for c in features if not pd.api.types.is_numeric_dtype(features[c])]
    assert len(set(strings) & (set(NOMINAL) | {"Neighborhood"})) >= 8
    assert set(train["ExterQual"].dropna()) <= {"Ex", "Gd", "TA", "Fa", "Po"}
    assert (train["SalePrice"] > 0).all()
    assert 100_000 < train["SalePrice"].median() < 250_000


def test_missing_values_have_structure() -> None:
    frame = reference.generate(5000, seed=3)
    garage = ["GarageType", "GarageYrBlt", "GarageFinish", "GarageQual"]
    no_garage = frame["GarageType"].isna()
    assert no_garage.any()
    assert frame.loc[no_garage, garage].isna().all().all()
    assert frame.loc[~no_garage, garage].notna().all().all()
    assert (frame.loc[no_garage, ["GarageCars", "GarageArea"]] == 0).all().all()
    basement = ["BsmtQual", "BsmtCond", "BsmtExposure", "BsmtFinType1"]
    no_basement = frame["BsmtQual"].isna()
    assert frame.loc[no_basement, basement].isna().all().all()
    assert (frame.loc[no_basement, "TotalBsmtSF"] == 0).all()
    assert frame["FireplaceQu"].isna().equals(frame["Fireplaces"] == 0)
    share = frame["LotFrontage"].isna().mean()
    assert 0.12 < share < 0.23


def test_rare_levels_exist() -> None:
    frame = reference.train_frame()
    shares = frame["Neighborhood"].value_counts(normalize=True)
    assert (shares < 0.01).sum() >= 2
    assert frame["Neighborhood"].nunique() >= 20


def test_none_level_survives_a_csv_round_trip(tmp_path: Path) -> None:
    frame = reference.train_frame()
    assert (frame["MasVnrType"] == "None").sum() > 100
    path = tmp_path / "train.csv"
    write_table(frame, path)
    naive = pd.read_csv(path)
    assert naive["MasVnrType"].isna().sum() > 100  # what a default reader does
    back = read_table(path)
    assert (back["MasVnrType"] == "None").sum() == (frame["MasVnrType"] == "None").sum()
    assert back["GarageType"].isna().sum() == frame["GarageType"].isna().sum()


def test_parquet_round_trip_is_exact(tmp_path: Path) -> None:
    frame = reference.generate(300, seed=1)
    write_table(frame, tmp_path / "d.parquet")
    back = read_table(tmp_path / "d.parquet")
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)


def test_size_parameter_scales() -> None:
    frame = reference.generate(20_000, seed=0)
    assert len(frame) == 20_000 and frame["Id"].iloc[-1] == 20_000
    assert np.isfinite(frame["SalePrice"]).all()
