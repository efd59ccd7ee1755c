"""A real asv run of our suite (existing environment, quick plan), its reader, verdicts and HTML."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from conftest import screenshot
from mlgate.asv_integration import runner as asv_runner
from mlgate.asv_suite import instructions
from mlgate.checks.asv_timing import asv_findings
from mlgate.cli import main
from mlgate.evidence.asv_results import CommitResults, Measurement, read_commit
from mlgate.infra.errors import MlgateError
from mlgate.policy import read_policy

pytestmark = pytest.mark.slow  # real asv runs

REPO = Path(__file__).resolve().parent.parent
FAKE = "f" * 40  # a second "commit" made by editing the real result file


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def asv_run(tmp_path_factory: pytest.TempPathFactory, models: dict[str, Path]) -> dict[str, Any]:
    """One real `asv run -E existing` of the inference and model benchmarks on HEAD (quick plan)."""
    folder = tmp_path_factory.mktemp("asv")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, text=True, capture_output=True, check=True)
    commit = head.stdout.strip()
    results = asv_runner.run_existing(
        REPO,
        folder,
        "Inference.time_predict|PredictInstructions|ModelSize|Quality",
        commit,
        env={"HOME": str(folder)},
    )
    machine = next(p.parent.name for p in results.glob("*/machine.json"))
    return {
        "config": folder / "asv.conf.json",
        "results": results,
        "commit": commit,
        "folder": folder,
        "machine": machine,
    }


def test_private_config_forks_rounds_from_one_import_unless_the_repo_says_otherwise(tmp_path: Path) -> None:
    """A repo whose asv.conf.json predates launch_method gets the forkserver; an explicit choice stays."""
    for written, expected in (({}, "forkserver"), ({"launch_method": "spawn"}, "spawn")):
        repo = tmp_path / expected
        repo.mkdir()
        (repo / "asv.conf.json").write_text(json.dumps({"version": 1, **written}))
        config = asv_runner.private_config(repo, repo / "private")
        assert json.loads(config.read_text())["launch_method"] == expected


def test_reader_splits_real_samples_into_rounds(asv_run: dict[str, Any]) -> None:
    results = read_commit(asv_run["results"], asv_run["commit"], "--asv-baseline", repo=REPO)
    timing = results.measurements["Inference.time_predict(rows=100)"]
    assert (
        timing.kind == "time" and timing.unit == "seconds" and len(timing.rounds) == 3 and timing.samples == 9
    )
    assert 0.001 < timing.result < 5  # type: ignore[operator]
    size = results.measurements["ModelSize.track_model_bytes"]
    assert size.kind == "track" and size.result is not None and size.result > 100_000
    counted = [
        results.measurements[f"PredictInstructions.track_predict_instructions(rows={n})"] for n in (1, 10000)
    ]
    if instructions.missing_counter():
        assert all(c.skipped for c in counted)  # asv's n/a: the machine cannot count
    else:
        assert all(c.unit == "instructions" and c.result for c in counted)
        assert counted[0].result < counted[1].result  # type: ignore[operator]


def _fake_commit(asv_run: dict[str, Any], edit: Any, machine: str | None = None) -> None:
    """Copy the real result file as commit FAKE, with ``edit`` applied to its results."""
    home = asv_run["machine"]
    machine = machine or home
    source = next((asv_run["results"] / home).glob(f"{asv_run['commit'][:8]}-*.json"))
    data = json.loads(source.read_text())
    data["commit_hash"] = FAKE
    edit(data)
    target = asv_run["results"] / machine
    target.mkdir(exist_ok=True)
    for old in target.glob(f"{FAKE[:8]}-*.json"):
        old.unlink()
    if machine != home:
        shutil.copy(asv_run["results"] / home / "machine.json", target / "machine.json")
    (target / source.name.replace(asv_run["commit"][:8], FAKE[:8])).write_text(json.dumps(data))


def _scale_timings(factor: float) -> Any:
    def edit(data: dict[str, Any]) -> None:
        columns = data["result_columns"]
        row = data["results"]["bench_inference.Inference.time_predict"]
        row[columns.index("samples")] = [
            [s * factor for s in samples] for samples in row[columns.index("samples")]
        ]
        row[columns.index("result")] = [r * factor for r in row[columns.index("result")]]

    return edit


def _judge(asv_run: dict[str, Any], machine: str | None = None) -> dict[str, Any]:
    base = read_commit(
        asv_run["results"],
        asv_run["commit"],
        "--asv-baseline",
        repo=REPO,
        machine=machine or asv_run["machine"],
    )
    cand = read_commit(asv_run["results"], FAKE, "--asv-candidate", repo=REPO, machine=machine)
    return {f.name: f for f in asv_findings(base, cand, read_policy())}


def test_same_results_are_no_regression(asv_run: dict[str, Any]) -> None:
    _fake_commit(asv_run, lambda data: None)
    findings = _judge(asv_run)
    assert not [f.message for f in findings.values() if f.status == "fail"]
    assert findings["asv per-call overhead"].status == "pass"


def test_slower_predict_fails_and_names_overhead(asv_run: dict[str, Any]) -> None:
    _fake_commit(asv_run, _scale_timings(1.3))
    findings = _judge(asv_run)
    assert findings["asv Inference.time_predict(rows=1)"].status == "fail"
    assert findings["asv per-call overhead"].status == "fail"
    assert "slower" in findings["asv per-call overhead"].message


def test_directions_failures_and_one_sided_benchmarks(asv_run: dict[str, Any]) -> None:
    def edit(data: dict[str, Any]) -> None:
        columns = data["result_columns"]
        data["results"]["bench_model.Quality.track_holdout_r2"][columns.index("result")] = [0.5]  # worse
        data["results"]["bench_model.Quality.track_holdout_rmse"][columns.index("result")] = [1.0]  # better
        data["results"]["bench_model.ModelSize.track_model_bytes"][columns.index("result")] = [None]  # failed
        data["results"]["bench_model.Extra.track_new"] = copy.deepcopy(
            data["results"]["bench_model.ModelSize.track_model_bytes"]
        )

    _fake_commit(asv_run, edit)
    findings = _judge(asv_run)
    assert findings["asv Quality.track_holdout_r2"].status == "fail"
    assert findings["asv Quality.track_holdout_rmse"].status == "pass"
    assert findings["asv ModelSize.track_model_bytes"].status == "error"
    assert "candidate only" in findings["asv Extra.track_new"].message
    # The classification tracks do not apply to this regression model: asv's n/a is a skip, not a failure.
    assert findings["asv ClassQuality.track_holdout_accuracy"].status == "skip"


def test_machine_mismatch_is_said_and_blocks_failures(asv_run: dict[str, Any]) -> None:
    for old in (asv_run["results"] / asv_run["machine"]).glob(f"{FAKE[:8]}-*.json"):
        old.unlink()
    _fake_commit(asv_run, _scale_timings(1.3), machine="other-machine")
    base = read_commit(asv_run["results"], asv_run["commit"], "--asv-baseline", repo=REPO)
    cand = read_commit(asv_run["results"], FAKE, "--asv-candidate", repo=REPO)
    findings = {f.name: f for f in asv_findings(base, cand, read_policy())}
    assert findings["asv machine"].status == "warn"
    assert not [f for f in findings.values() if f.status == "fail"]
    shutil.rmtree(asv_run["results"] / "other-machine")


def test_compare_cli_reads_asv_results(
    asv_run: dict[str, Any], models: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "report"
    code = main(
        [
            "-q",
            "compare",
            str(models["v1"]),
            str(models["v1"]),
            "--asv-results",
            str(asv_run["results"]),
            "--asv-baseline",
            asv_run["commit"],
            "--asv-candidate",
            asv_run["commit"],
            "--out",
            str(out),
        ]
    )
    assert code == 0
    kinds = [c["kind"] for c in json.loads((out / "report.json").read_text())["checks"]]
    assert kinds.count("timing") >= 7


def test_asv_input_errors(
    asv_run: dict[str, Any], models: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["compare", str(models["v1"]), str(models["v1"]), "--asv-results", str(asv_run["results"])]
    assert main([*args, "--asv-baseline", "0" * 40, "--asv-candidate", asv_run["commit"]]) == 2
    assert "no asv results for" in capsys.readouterr().err
    assert main([*args, "--asv-baseline", "no-such-rev", "--asv-candidate", asv_run["commit"]]) == 2
    assert "is not a revision" in capsys.readouterr().err
    assert main([*args, "--asv-baseline", asv_run["commit"]]) == 2
    assert "give all three" in capsys.readouterr().err


@pytest.mark.skipif(
    shutil.which("npm") is None or shutil.which("chromium") is None,
    reason="needs npm (for asv's scripts, offline) and Chromium: apt-get install nodejs npm chromium",
)
def test_published_graphs_page_loads_offline(asv_run: dict[str, Any]) -> None:
    asv_runner.asv(asv_run["config"], "publish", env={"HOME": str(asv_run["folder"])})
    html = asv_run["folder"] / "html"
    assert (
        subprocess.run(
            [sys.executable, "-m", "mlgate.asv_integration.html", str(html)], cwd=REPO, check=False
        ).returncode
        == 0
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(html)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    shot = asv_run["folder"] / "graphs.png"
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/#bench_inference.Inference.time_predict"
        console = screenshot(url, shot, asv_run["folder"] / "profile", size="1200,900")
    finally:
        server.shutdown()
        server.server_close()
    assert console == []
    colours = Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 20) or []
    # The page draws the graph frame and axis labels; the offline failure page is plain black on white.
    assert len(colours) > 50


def _results(env: str, samples: int) -> CommitResults:
    rounds = Measurement(
        "Inference.time_predict(rows=1)", "b.Inference.time_predict", "time", "seconds", {}, 0.1
    )
    rounds.samples = samples
    return CommitResults("abc", "box", env, Path(f"abc-{env}.json"), {rounds.name: rounds}, {})


@pytest.mark.parametrize(
    ("base", "cand", "says"),
    [
        (("existing-py", 9), ("virtualenv-py3.11", 9), "asv environment 'existing-py'"),
        (("existing-py", 9), ("existing-py", 100), "9 vs 100 samples"),
    ],
)
def test_results_measured_differently_are_never_paired(
    base: tuple[str, int], cand: tuple[str, int], says: str
) -> None:
    with pytest.raises(MlgateError, match=says):
        asv_findings(_results(*base), _results(*cand), read_policy())
    assert asv_findings(_results(*base), _results(*base), read_policy())
