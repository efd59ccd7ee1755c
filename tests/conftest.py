"""Shared fixtures: the reference data and trained artifacts, made once per session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mlgate import reference
from mlgate.cli import main
from mlgate.tables import write_table


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Reference train and holdout as CSV files."""
    folder = tmp_path_factory.mktemp("data")
    write_table(reference.train_frame(), folder / "train.csv")
    write_table(reference.holdout_frame(), folder / "holdout.csv")
    return folder


@pytest.fixture(scope="session")
def holdout_csv(data_dir: Path) -> Path:
    return data_dir / "holdout.csv"


@pytest.fixture(scope="session")
def holdout() -> pd.DataFrame:
    return reference.holdout_frame()


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """v1 and v2 of the reference model trained through the CLI."""
    folder = tmp_path_factory.mktemp("models")
    paths = {}
    for version in reference.VERSIONS:
        paths[version] = folder / version
        assert main(["-q", "train", "--version", version, "--out", str(paths[version])]) == 0
    return paths
