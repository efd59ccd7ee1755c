"""`mlgate serve` on a real uvicorn: exact offline predictions, and clear 4xx for anything a client sends."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import model_specs
from conftest import running_server, train_versions
from mlgate.cli import main
from mlgate.tables import json_records

pytestmark = pytest.mark.slow  # real uvicorn servers


def post(
    url: str, body: bytes, content_type: str = "application/json"
) -> tuple[int, dict[str, Any], dict[str, str]]:
    request = urllib.request.Request(f"{url}/predict", data=body, headers={"content-type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), dict(exc.headers)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json_records(frame)


def test_health_version_and_openapi(served_v1: str) -> None:
    with urllib.request.urlopen(f"{served_v1}/health") as response:
        assert json.loads(response.read()) == {"status": "ok", "model_version": "v1"}
    with urllib.request.urlopen(f"{served_v1}/version") as response:
        assert json.loads(response.read())["version"] == "v1"
    with urllib.request.urlopen(f"{served_v1}/openapi.json") as response:
        spec = json.loads(response.read())
    body = spec["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    record = body["properties"]["records"]["items"]
    assert record["properties"]["LotArea"]["type"] == ["integer", "null"]
    assert record["properties"]["MasVnrType"]["type"] == ["string", "null"]
    assert "GrLivArea" in record["required"]


def test_served_predictions_equal_offline_bit_for_bit(
    served_v1: str, holdout: pd.DataFrame, tmp_path: Path, models: dict[str, Path], holdout_csv: Path
) -> None:
    offline = tmp_path / "offline.parquet"
    assert main(["-q", "predict", str(models["v1"]), "--data", str(holdout_csv), "--out", str(offline)]) == 0
    served = []
    rows = records(holdout)
    for start in range(0, len(rows), 400):
        status, answer, headers = post(served_v1, json.dumps({"records": rows[start : start + 400]}).encode())
        assert status == 200, answer
        assert "model;dur=" in headers["server-timing"]
        served += answer["predictions"]
    expected = pd.read_parquet(offline)["prediction"].to_numpy()
    assert np.asarray(served).tobytes() == expected.tobytes()


def test_parity_command_finds_skew_and_its_absence(
    served_v1: str, models: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["parity", str(models["v1"]), "--api", served_v1]) == 0
    assert "bit-identical" in capsys.readouterr().out
    assert main(["parity", str(models["v2"]), "--api", served_v1]) == 1  # another version: skew
    assert "outputs changed" in capsys.readouterr().out


def _bad_bodies(row: dict[str, Any]) -> list[tuple[str, bytes, str, int, str]]:
    def body(**change: Any) -> bytes:
        return json.dumps({"records": [{**row, **change}]}).encode()

    without = {k: v for k, v in row.items() if k != "GrLivArea"}
    return [
        ("not json", b"{nope", "application/json", 422, "body is not valid JSON"),
        ("no records key", b'{"rows": []}', "application/json", 422, "records"),
        ("records not a list", b'{"records": 3}', "application/json", 422, "records"),
        ("empty records", b'{"records": []}', "application/json", 422, "empty"),
        ("record not an object", b'{"records": [1]}', "application/json", 422, "object"),
        ("string for a number", body(LotArea="big"), "application/json", 422, "must be a number"),
        ("number for a string", body(MasVnrType=3), "application/json", 422, "must be a string"),
        ("bool for a number", body(GarageCars=True), "application/json", 422, "must be a number"),
        ("fraction for an integer", body(GarageCars=1.5), "application/json", 422, "whole number"),
        (
            "missing field",
            json.dumps({"records": [without]}).encode(),
            "application/json",
            422,
            "field required",
        ),
        ("unknown field", body(Pool="yes"), "application/json", 422, "unknown field"),
        ("huge number", b'{"records": [' + body()[13:-2] + b', "x": 1e999}]}', "application/json", 422, ""),
        ("wrong content type", body(), "text/plain", 415, "application/json"),
        (
            "too many records",
            json.dumps({"records": [row] * 1001}).encode(),
            "application/json",
            413,
            "limit",
        ),
    ]


def test_bad_requests_are_4xx_with_index_and_field_never_500(served_v1: str, holdout: pd.DataFrame) -> None:
    row = records(holdout.iloc[:1])[0]
    for label, body, content_type, expected, text in _bad_bodies(row):
        status, answer, _ = post(served_v1, body, content_type)
        assert status == expected, (label, status, answer)
        assert text in json.dumps(answer), (label, answer)
    status, answer, _ = post(served_v1, json.dumps({"records": [row, {**row, "LotArea": "x"}]}).encode())
    assert status == 422 and answer["detail"][0]["loc"] == ["body", "records", 1, "LotArea"]


def test_null_where_the_model_cannot_take_it_is_422(served_v1: str, holdout: pd.DataFrame) -> None:
    row = records(holdout.iloc[:1])[0]
    status, answer, _ = post(served_v1, json.dumps({"records": [{**row, "GrLivArea": None}]}).encode())
    assert status == 422 and "rejected the data" in json.dumps(answer)


WINE = "model_specs:wine"


@pytest.fixture(scope="module")
def wine_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return train_versions(WINE, tmp_path_factory.mktemp("wine"))


@pytest.mark.parametrize("version", ["v1", "no_proba"], ids=["multiclass-proba", "labels-only"])
def test_classifier_served_equals_offline_labels_and_probabilities(
    wine_models: dict[str, Path], version: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """String class labels, with and without predict_proba: 200s, and the offline answers exactly."""
    offline_file = tmp_path / "offline.parquet"
    data = ["--data", str(wine_models["holdout"])]
    assert (
        main(["-q", "predict", str(wine_models[version]), *data, "--out", str(offline_file), "--spec", WINE])
        == 0
    )
    offline = pd.read_parquet(offline_file)
    rows = records(model_specs.wine.load_holdout())
    with running_server(wine_models[version], "--spec", WINE) as url:
        answers = [
            post(url, json.dumps({"records": rows[k : k + size]}).encode()) for k, size in ((0, 1), (1, 77))
        ]
        assert [status for status, _, _ in answers] == [200, 200], answers
        served = [p for _, answer, _ in answers for p in answer["predictions"]]
        assert served == offline["prediction"].tolist()
        probabilities = [answer.get("probabilities") for _, answer, _ in answers]
        if version == "v1":
            for label in ("barolo", "grignolino", "barbera"):
                column = [p for chunk in probabilities for p in chunk[label]]  # type: ignore[index]
                assert np.asarray(column).tobytes() == offline[f"proba_{label}"].to_numpy().tobytes()
        else:
            assert probabilities == [None, None]
        capsys.readouterr()
        assert main(["parity", str(wine_models[version]), "--api", url, *data, "--spec", WINE]) == 0
        assert "bit-identical" in capsys.readouterr().out
        # Another version behind the API is skew; an API without the probabilities the model has is an error.
        assert main(["parity", str(wine_models["weak"]), "--api", url, *data, "--spec", WINE]) == (
            1 if version == "v1" else 2
        )


@pytest.mark.parametrize("version", ["v1", "no_proba"], ids=["multiclass-proba", "labels-only"])
def test_classifier_health_bad_requests_and_nulls_are_never_500(
    wine_models: dict[str, Path], version: str
) -> None:
    """The reference model's health, bad-request and null tests, for both kinds of classifier."""
    row = records(model_specs.wine.load_holdout().iloc[:1])[0]

    def body(**change: Any) -> bytes:
        return json.dumps({"records": [{**row, **change}]}).encode()

    without = {k: v for k, v in row.items() if k != "alcohol"}
    bad = [
        ("not json", b"{nope", "application/json", 422),
        ("empty records", b'{"records": []}', "application/json", 422),
        ("record not an object", b'{"records": [1]}', "application/json", 422),
        ("string for a number", body(alcohol="strong"), "application/json", 422),
        ("missing field", json.dumps({"records": [without]}).encode(), "application/json", 422),
        ("unknown field", body(vintage=1999), "application/json", 422),
        ("null the model cannot take", body(alcohol=None), "application/json", 422),
        ("wrong content type", body(), "text/plain", 415),
        ("too many records", json.dumps({"records": [row] * 1001}).encode(), "application/json", 413),
    ]
    with running_server(wine_models[version], "--spec", WINE) as url:
        with urllib.request.urlopen(f"{url}/health") as response:
            assert json.loads(response.read()) == {"status": "ok", "model_version": version}
        for label, payload, content_type, expected in bad:
            status, answer, _ = post(url, payload, content_type)
            assert status == expected, (label, status, answer)
        status, answer, _ = post(url, body())
        assert status == 200 and answer["predictions"][0] in ("barolo", "grignolino", "barbera")
