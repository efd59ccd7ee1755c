"""Shadow replay: traffic files read, request pairs judged, and the whole loop on real servers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from conftest import CHROMIUM, check_pictures, running_server, train_versions
from mlgate.checks.replay import replay_findings
from mlgate.cli import main
from mlgate.evidence.replay import Replay, read_replay
from mlgate.infra.errors import MlgateError
from mlgate.model.tables import json_records, read_table, write_table
from mlgate.policy import read_policy
from mlgate.serving.api import ApiShape
from mlgate.serving.traffic import read_traffic, records_of
from test_serve import WINE

API = ApiShape()


def _lines(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_traffic_comes_from_a_recording_from_bare_bodies_or_from_rows(tmp_path: Path) -> None:
    body = {"records": [{"x": 1.5, "city": "a"}]}
    recorded = [
        {"time": 1.0, "status": 200, "request": body, "response": {}},
        {"time": 2.0, "status": 422, "request_text": "{not json", "response": {}},
    ]
    recording = read_traffic(_lines(tmp_path / "rec.jsonl", recorded), API)
    assert recording.source == "recording" and recording.bodies == [
        json.dumps(body, separators=(",", ":")).encode(),
        b"{not json",
    ]
    bare = read_traffic(_lines(tmp_path / "bodies.jsonl", [body, body]), API)
    assert bare.source == "bodies" and len(bare.bodies) == 2
    write_table(pd.DataFrame({"x": [1.0, None], "city": ["a", "b"]}), tmp_path / "rows.csv")
    rows = read_traffic(tmp_path / "rows.csv", API)
    assert rows.source == "rows"
    assert [records_of(b, API) for b in rows.bodies] == [
        [{"x": 1.0, "city": "a"}],
        [{"x": None, "city": "b"}],
    ]
    # The API's own shape: a bare list of records is read back as such; a hook's bodies cannot be.
    assert records_of(b'[{"x": 2}]', ApiShape(records="")) == [{"x": 2}]
    assert records_of(b"{not json", API) is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "is not a file; give a recording"),
        ("", "holds no requests; record some traffic first"),
        ('{"records": []}\n{oops\n', "line 2 is not JSON"),
        ('{"status": 200, "request": {}}\n{"records": []}\n', "mixes recorded requests"),
    ],
)
def test_bad_traffic_is_one_line_naming_the_file(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "traffic.jsonl"
    if content is not None:
        path.write_text(content)
    with pytest.raises(MlgateError, match=r"^TRAFFIC: ") as caught:
        read_traffic(path, API)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def _answer(
    predictions: list[Any] | None, status: int = 200, ms: float = 2.0, **extra: Any
) -> dict[str, Any]:
    """One side's answer as mlgate.locust.replay keeps it: status, latency and the body's text."""
    body = {"predictions": predictions, "model_version": "v", **extra} if status == 200 else {"detail": "no"}
    return {"status": status, "latency_us": int(ms * 1000), "body": json.dumps(body)}


def _replay(folder: Path, pairs: list[tuple[dict[str, Any], dict[str, Any]]], sent: int = 0) -> Replay:
    """A replay folder of these (baseline, candidate) answers, one single-record request each (``x``
    = the request number), ``sent`` requests in all (more than answered: the run time ended first)."""
    folder.mkdir()
    total = max(sent, len(pairs))
    requests = [{"i": k, "body": json.dumps({"records": [{"x": float(k)}]})} for k in range(total)]
    _lines(folder / "requests.jsonl", requests)
    firsts = ("baseline", "candidate")
    _lines(
        folder / "pairs.jsonl",
        [{"i": k, "first": firsts[k % 2], "baseline": b, "candidate": c} for k, (b, c) in enumerate(pairs)],
    )
    meta = {"requests": total, "pairs": len(pairs), "complete": total == len(pairs), "baseline": "A"}
    (folder / "replay.json").write_text(json.dumps(meta))
    return read_replay(folder, API)


def _findings(replay: Replay) -> dict[str, Any]:
    return {f.name: f for f in replay_findings(replay, read_policy())}


def test_identical_answers_pass_and_a_changed_request_is_named_with_its_inputs(tmp_path: Path) -> None:
    same = _findings(
        _replay(tmp_path / "same", [(_answer([100.0 + k]), _answer([100.0 + k])) for k in range(40)])
    )
    assert same["replay answers"].status == "pass" and same["replay prediction parity"].status == "pass"
    changed = [(_answer([100.0 + k]), _answer([100.0 + k + (5.0 if k == 7 else 0.0)])) for k in range(40)]
    changed[3] = (_answer([103.0]), _answer([103.0 + 1e-9]))  # within the parity tolerance
    found = _findings(_replay(tmp_path / "changed", changed))
    answers = found["replay answers"]
    assert answers.status == "warn" and answers.message.startswith("1 of 40 requests answered differently")
    assert "changed most: #7" in answers.message
    [most] = answers.details["changed_most"]
    assert most["request"] == 7 and most["change"] == pytest.approx(5.0) and most["records"] == [{"x": 7.0}]
    ruled = found["replay prediction parity"]  # the parity rule itself, as offline: record 7 of request 7
    assert ruled.status == "warn" and "1 of 40 rows" in ruled.message and "7.0" in ruled.message


def test_a_classifier_s_flipped_decisions_come_first_and_odd_probabilities_are_left_out(
    tmp_path: Path,
) -> None:
    def proba(p: float) -> dict[str, Any]:
        return {"probabilities": {"a": [p, 0.2], "b": [1 - p, 0.8]}}

    pairs = [
        (_answer(["a", "b"], **proba(0.9)), _answer(["a", "b"], **proba(0.9 - k / 100))) for k in range(30)
    ]
    pairs.append((_answer(["a", "b"], **proba(0.6)), _answer(["b", "b"], **proba(0.4))))
    replay = _replay(tmp_path / "labels", pairs)
    assert list(replay.outputs["baseline"].columns) == ["prediction", "proba_a", "proba_b"]
    found = _findings(replay)
    assert found["replay decision parity"].details["flipped"] == 1
    assert "1 of 62 labels changed" in found["replay decision parity"].message
    assert found["replay answers"].details["changed_most"][0]["request"] == 30  # the flip outranks
    # An API answering one probability per label, not a list per record: labels are still compared.
    odd = [
        (_answer(["a"], probabilities={"a": 0.7}), _answer(["b"], probabilities={"a": 0.2}))
        for _ in range(25)
    ]
    replay = _replay(tmp_path / "odd", odd)
    assert list(replay.outputs["baseline"].columns) == ["prediction"]
    assert _findings(replay)["replay decision parity"].details["flipped"] == 25


def test_candidate_only_errors_fail_and_latency_is_only_an_estimate(tmp_path: Path) -> None:
    pairs = [(_answer([1.0]), _answer([1.0], ms=6.0)) for _ in range(60)]
    for k in range(10):
        pairs[k] = (_answer([1.0]), _answer(None, status=500))
    found = _findings(_replay(tmp_path / "slow", pairs))
    errors = found["replay errors"]
    assert errors.status == "fail" and "10 failed on the candidate only" in errors.message
    assert "#0 (500)" in errors.message and errors.details["failed_on_candidate"][:2] == [0, 1]
    latency = found["replay latency"]  # three times slower, yet one replay gives no verdict
    assert latency.status == "warn" and latency.change == pytest.approx(2.0)
    assert (
        "an estimate, not a verdict" in latency.message and "mlgate load --duet --runs 5" in latency.message
    )
    assert latency.details["candidate_first"] == pytest.approx(0.5, abs=0.05)


def test_a_replay_the_run_time_cut_short_judges_only_what_was_sent(tmp_path: Path) -> None:
    replay = _replay(tmp_path / "cut", [(_answer([1.0]), _answer([1.0])) for _ in range(30)], sent=90)
    assert replay.rows is not None and len(replay.rows) == 30
    found = _findings(replay)["replay coverage"]
    assert found.status == "warn" and found.message.startswith(
        "only 30 of 90 recorded requests were replayed"
    )


def test_input_checks_need_a_named_spec_not_the_embedded_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _replay(tmp_path / "r", [(_answer([1.0]), _answer([1.0])) for _ in range(30)])
    monkeypatch.chdir(tmp_path)  # no pyproject here: nothing names a spec
    assert main(["-q", "compare", "--replay", "r", "--out", "report"]) == 0
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    [skipped] = [f for f in report["checks"] if f["kind"] == "inputs"]
    assert skipped["status"] == "skip" and "give --spec MODULE:OBJECT" in skipped["message"]
    page = (tmp_path / "report" / "report.html").read_text()
    assert "30 rows from 30 replayed requests of" in page and "task ;" not in page  # no task: no field


def test_replay_refuses_unbounded_plans_and_remote_hosts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    traffic = _lines(tmp_path / "t.jsonl", [{"records": [{"x": 1}]}])
    hosts = ["--baseline-host", "http://127.0.0.1:9", "--candidate-host", "http://127.0.0.1:9"]
    for extra, message in (
        (["--run-time", "1s"], "--run-time: 1 s is outside 5 s to 600 s"),
        (["--users", "0"], "--users: 0 is outside 1 to 200"),
        (["--rate", "-1"], "--rate: -1 is not a rate"),
        (["--baseline-host", "http://10.1.2.3:80"], "--baseline-host: 10.1.2.3 is not a loopback address"),
        ([], "--baseline-host: nothing answers at http://127.0.0.1:9"),
    ):
        assert main(["replay", str(traffic), *hosts, *extra, "--out", str(tmp_path / "r")]) == 2
        assert message in capsys.readouterr().err
    assert main(["compare", "--replay", str(tmp_path), "--out", str(tmp_path / "c")]) == 2
    assert "is not a replay folder" in capsys.readouterr().err
    assert not (tmp_path / "r").exists() and not (tmp_path / "c").exists()
    (tmp_path / "r").mkdir()
    assert main(["replay", str(traffic), *hosts, "--out", str(tmp_path / "r")]) == 2
    assert "--out: " in capsys.readouterr().err and not any((tmp_path / "r").iterdir())


def _compare(folder: Path, out: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code = main(["-q", "compare", "--replay", str(folder), "--out", str(out), *extra])
    report = json.loads((out / "report.json").read_text())
    return code, {f["name"]: f for f in report["checks"]}


@pytest.mark.slow  # real uvicorn servers and locust
def test_a_classifier_replayed_from_rows_names_its_flipped_requests(tmp_path: Path) -> None:
    models = train_versions(WINE, tmp_path / "wine")
    with (
        running_server(models["v1"], "--spec", WINE) as v1,
        running_server(models["weak"], "--spec", WINE) as weak,
    ):
        out = tmp_path / "replay"
        assert (
            main(
                [
                    "-q",
                    "replay",
                    str(models["holdout"]),
                    "--baseline-host",
                    v1,
                    "--candidate-host",
                    weak,
                    "--out",
                    str(out),
                    "--rate",
                    "40",
                ]
            )
            == 0
        )
    meta = json.loads((out / "replay.json").read_text())
    holdout = read_table(models["holdout"], "x")
    assert meta["requests"] == meta["pairs"] == len(holdout) and meta["traffic_kind"] == "rows"
    code, found = _compare(out, tmp_path / "report", "--spec", WINE)
    flips = found["replay decision parity"]
    assert flips["status"] == "warn" and flips["details"]["flipped"] > 0  # parity is not required
    answers = found["replay answers"]
    assert answers["status"] == "warn" and answers["details"]["changed"] == len(holdout)  # probabilities
    flipped = answers["details"]["changed_most"][0]  # a flipped decision comes first
    assert flipped["baseline"]["prediction"] != flipped["candidate"]["prediction"]
    sent = json_records(holdout.drop(columns=["wine_id", "target"]))[flipped["request"]]
    assert flipped["records"] == [sent] and flipped["record"] == 0
    assert found["replay errors"]["status"] == "pass"
    assert not [f for f in found.values() if f["kind"] == "inputs" and f["status"] == "fail"]
    # The weak version's answers move far (PSI): a regression by the shift rule, as offline.
    assert code == 1 and "fail" in {
        f["status"] for f in found.values() if "prediction shift PSI" in f["name"]
    }


def _drifted(recording: Path, out: Path) -> Path:
    """The recorded bodies with a neighbourhood the model never saw in every third record and living
    areas half as large again: what a changed client or market would send."""
    bodies = []
    for line in recording.read_text().splitlines():
        body = json.loads(line)["request"]
        for k, record in enumerate(body["records"]):
            record["GrLivArea"] = round(record["GrLivArea"] * 1.5)
            if k % 3 == 0:
                record["Neighborhood"] = "Atlantis"
        bodies.append(body)
    return _lines(out, bodies)


@pytest.mark.slow  # four real uvicorn servers, a locust load run and three replays
def test_recorded_load_replayed_to_the_same_and_to_a_new_version(
    tmp_path: Path, models: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    recording = tmp_path / "traffic.jsonl"
    with running_server(models["v1"], "--record", str(recording)) as live:
        load = ["-q", "load", "--host", live, "--users", "2", "--requests", "120", "--run-time", "60s"]
        main([*load, "--max-error-rate", "1", "--out", str(tmp_path / "load")])
    recorded = recording.read_text().splitlines()
    assert len(recorded) >= 120 and all(json.loads(line)["status"] == 200 for line in recorded)
    drifted = _drifted(recording, tmp_path / "drifted.jsonl")
    with (
        running_server(models["v1"]) as a,
        running_server(models["v1"]) as b,
        running_server(models["v2"]) as c,
    ):
        for name, baseline, candidate, traffic in (
            ("same", a, b, recording),
            ("new", a, c, recording),
            ("drift", a, b, drifted),
        ):
            hosts = ["--baseline-host", baseline, "--candidate-host", candidate]
            assert main(["-q", "replay", str(traffic), *hosts, "--out", str(tmp_path / name)]) == 0
        # Bodies of another API's shape: both servers refuse them all, and replay says so.
        other = _lines(tmp_path / "other.jsonl", [{"rows": [{"GrLivArea": 1000}]}] * 3)
        assert (
            main(
                [
                    "-q",
                    "replay",
                    str(other),
                    "--baseline-host",
                    a,
                    "--candidate-host",
                    b,
                    "--out",
                    str(tmp_path / "other"),
                ]
            )
            == 0
        )
        assert "the baseline answered 3 of 3 requests with an error" in capsys.readouterr().err
    for name in ("same", "new", "drift"):
        assert json.loads((tmp_path / name / "replay.json").read_text())["complete"]

    code, same = _compare(tmp_path / "same", tmp_path / "same-report")
    assert same["replay answers"]["status"] == "pass", same["replay answers"]["message"]
    assert "are bit-identical" in same["replay prediction parity"]["message"]
    assert same["replay errors"]["status"] == "pass" and same["replay latency"]["status"] == "warn"
    flagged = [f["message"] for f in same.values() if f["kind"] == "inputs" and f["status"] == "fail"]
    assert flagged == [] and code == 0

    _, new = _compare(tmp_path / "new", tmp_path / "new-report")
    answers = new["replay answers"]
    assert answers["status"] == "warn" and answers["details"]["changed"] > 0
    most = answers["details"]["changed_most"][0]
    assert f"changed most: #{most['request']}" in answers["message"] and "GrLivArea" in most["records"][0]
    assert most["change"] == max(c["change"] for c in answers["details"]["changed_most"])

    # The replay beside the artifacts it came from, but with the sides the wrong way round: refused.
    swapped = ["compare", str(models["v2"]), str(models["v1"]), "--replay", str(tmp_path / "new")]
    assert main([*swapped, "--out", str(tmp_path / "swapped")]) == 2
    assert "--replay: its baseline server answered as v1" in capsys.readouterr().err

    _, drift = _compare(tmp_path / "drift", tmp_path / "drift-report")
    unseen = drift["input Neighborhood unseen categories"]
    assert unseen["status"] == "fail" and "'Atlantis'" in unseen["message"]
    assert drift["input GrLivArea distribution"]["status"] == "fail"
    assert drift["input LotArea distribution"]["status"] != "fail"  # untouched features stay quiet

    page = tmp_path / "new-report" / "report.html"
    html = page.read_text()
    assert "<h2>Shadow replay</h2>" in html and "Records answered most differently" in html
    assert "Input checks by feature" in html
    if CHROMIUM is not None:
        pictures = check_pictures(page, tmp_path / "shots")
        assert {"replay-answers", "replay-latency"} <= set(pictures)
