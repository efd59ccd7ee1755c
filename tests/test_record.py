"""`mlgate serve --record`: every /predict request and answer appended as JSON Lines, bounded."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import running_server, train_versions
from mlgate.cli import main
from mlgate.model.tables import json_records, read_table
from test_serve import WINE, post

pytestmark = pytest.mark.slow  # real uvicorn servers


def test_recording_keeps_each_request_its_answer_and_stops_at_its_limit(tmp_path: Path) -> None:
    models = train_versions(WINE, tmp_path / "wine")
    rows = json_records(read_table(models["holdout"], "data").head(7))
    traffic = tmp_path / "traffic" / "staging.jsonl"
    sent = []
    with running_server(models["v1"], "--spec", WINE, "--record", str(traffic), "--record-max", "5") as url:
        for k in range(4):
            body = json.dumps({"records": rows[k : k + 1 + k]}).encode()
            status, answer, _ = post(url, body)
            assert status == 200
            sent.append((body, answer))
        assert post(url, b"{not json")[0] == 422
        assert post(url, json.dumps({"records": rows[:1]}).encode())[0] == 200  # beyond --record-max
    lines = [json.loads(line) for line in traffic.read_text().splitlines()]
    assert len(lines) == 5
    for line, (body, answer) in zip(lines, sent, strict=False):
        assert line["request"] == json.loads(body) and line["response"] == answer
        assert line["status"] == 200 and line["model_version"] == "v1" and line["latency_ms"] > 0
    assert lines[-1]["status"] == 422 and lines[-1]["request_text"] == "{not json"
    assert lines[-1]["response"]["detail"]
    assert pd.Series([line["time"] for line in lines]).is_monotonic_increasing


def test_record_refuses_a_folder_and_several_workers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    for extra, named in (
        (["--record", str(tmp_path)], "is a folder"),
        (["--record", "t.jsonl", "--workers", "2"], "one worker"),
    ):
        assert main(["serve", str(folder), *extra]) == 2
        err = capsys.readouterr().err
        assert "--record" in err and named in err
