"""pytest-benchmark saves as evidence: the reader, the run-clustered rule, and real saves end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlgate.checks.benchmark_timing import benchmark_findings
from mlgate.cli import main
from mlgate.evidence.pytest_benchmark import read_pair, read_save
from mlgate.infra.errors import MlgateError
from mlgate.policy import read_policy
from mlgate.report.model import Report
from mlgate.report.summary import next_steps
from save_pairs import benchmark_save, prepare

MACHINE = {"node": "box", "machine": "x86_64", "cpu": {"brand_raw": "CPU", "count": 2}}


def _save(folder: Path, name: str, benchmarks: dict[str, Any], machine: dict[str, Any] = MACHINE) -> Path:
    """A file shaped like a pytest-benchmark save: each benchmark's rounds (a list) or a median (a float)."""
    entries = []
    for fullname, rounds in benchmarks.items():
        stats: dict[str, Any] = {"median": float(np.median(rounds)), "rounds": np.size(rounds)}
        if isinstance(rounds, list):
            stats["data"] = rounds
        entries.append({"name": fullname.split("::")[-1], "fullname": fullname, "stats": stats})
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"machine_info": machine, "benchmarks": entries}))
    return path


def _rounds(seconds: float, n: int = 200, noise: float = 0.02, seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    return list(seconds * np.exp(rng.normal(0, noise, n)))


def _judge(base: list[Path], cand: list[Path], history: dict[str, list[float]] | None = None) -> dict:
    return {f.metric: f for f in benchmark_findings(read_pair(base, cand), read_policy(), history)}


def test_one_save_a_side_gives_an_estimate_but_no_verdict_and_names_what_it_cannot_judge(
    tmp_path: Path,
) -> None:
    base = _save(
        tmp_path, "0001_old", {"t.py::fast": _rounds(1e-3), "t.py::gone": _rounds(1e-3), "t.py::point": 1e-3}
    )
    cand = _save(
        tmp_path,
        "0002_new",
        {"t.py::fast": _rounds(1.2e-3, seed=1), "t.py::new": _rounds(1e-3), "t.py::point": 1.3e-3},
    )
    found = _judge([base], [cand])
    slower = found["t.py::fast"]
    assert slower.status == "warn" and slower.name == "pytest-benchmark t.py::fast"
    assert 0.15 < (slower.change or 0) < 0.25 and (slower.ci or (0, 0))[0] > 0
    assert len(slower.details["baseline_runs"]) == 10  # one process a side: its rounds in 10 blocks
    assert "cannot tell the change from process-to-process noise" in slower.message
    assert found["t.py::gone"].status == "warn" and "baseline only" in found["t.py::gone"].message
    assert found["t.py::new"].status == "warn" and "candidate only" in found["t.py::new"].message
    point = found["t.py::point"]
    assert point.status == "warn" and "point comparison only: inconclusive" in point.message
    assert "--benchmark-save-data" in point.message and point.ci is None


def test_one_save_a_side_is_judged_once_aa_history_calibrates_it(tmp_path: Path) -> None:
    """A/A history of this design (mlgate calibrate) says how far two processes stray: then it judges."""
    base = _save(tmp_path, "old", {"t.py::f": _rounds(1e-3)})
    slow = _save(tmp_path, "slow", {"t.py::f": _rounds(1.3e-3, seed=1)})
    same = _save(tmp_path, "same", {"t.py::f": _rounds(1e-3, seed=2)})
    history = {"timing|t.py::f|10x10 blocks": [0.005, -0.01, 0.0, 0.008, -0.004]}
    assert _judge([base], [slow], history)["t.py::f"].status == "fail"
    calibrated = _judge([base], [same], history)["t.py::f"]
    assert calibrated.status == "pass" and "A/A-calibrated" in calibrated.details["rule"]


def test_calibrate_records_single_save_a_a_comparisons_and_compare_uses_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = ["--calibration", str(tmp_path / "calibration")]
    old = _save(tmp_path, "old", {"t.py::f": _rounds(1e-3)})
    for k in range(5):
        same = _save(tmp_path, f"same{k}", {"t.py::f": _rounds(1e-3, seed=10 + k)})
        flags = ["--pytest-benchmark-baseline", str(old), "--pytest-benchmark-candidate", str(same)]
        assert main(["calibrate", *flags, *history]) == 0
    recorded = "timing|t.py::f|10x10 blocks: 5 A/A comparison(s) (calibrated rule active)"
    assert recorded in capsys.readouterr().out
    slow = _save(tmp_path, "slow", {"t.py::f": _rounds(1.3e-3, seed=99)})
    flags = ["--pytest-benchmark-baseline", str(old), "--pytest-benchmark-candidate", str(slow)]
    assert main(["compare", *flags, *history, "--out", str(tmp_path / "report")]) == 1


def test_several_saves_a_side_are_paired_runs(tmp_path: Path) -> None:
    """Saves made old, new, old, new: one value per save, so process-to-process noise is measured."""
    old = [_save(tmp_path, f"old{k}", {"t.py::f": _rounds(1e-3 * (1 + 0.01 * k), seed=k)}) for k in range(4)]
    same = [
        _save(tmp_path, f"same{k}", {"t.py::f": _rounds(1e-3 * (1 + 0.01 * k), seed=9 + k)}) for k in range(4)
    ]
    slow = [_save(tmp_path, f"slow{k}", {"t.py::f": _rounds(1.25e-3, seed=20 + k)}) for k in range(4)]
    aa = _judge(old, same)["t.py::f"]
    assert aa.status == "pass" and len(aa.details["baseline_runs"]) == 4
    assert aa.details["design"] == "paired over 4 run pairs" and "process-to-process" not in aa.message
    assert _judge(old, slow)["t.py::f"].status == "fail"


def test_a_quoted_pattern_gives_all_saves_of_a_side_in_the_order_they_were_made(tmp_path: Path) -> None:
    paths = [_save(tmp_path, f"000{k}_old", {"t.py::f": _rounds(1e-3, seed=k)}) for k in (2, 1)]
    for k, path in enumerate(paths):  # the file named 0002 was made first
        path.write_text(path.read_text().replace("{", f'{{"datetime": "2026-12-0{k + 1}T10:00:00", ', 1))
    new = _save(tmp_path, "0003_new", {"t.py::f": _rounds(1e-3)})
    pair = read_pair([tmp_path / "*_old.json"], [new])
    assert [s.label for s in pair.baseline] == ["0002_old", "0001_old"]
    with pytest.raises(MlgateError, match=r"--pytest-benchmark-candidate: .*\*_newer.json matches no file"):
        read_pair([paths[0]], [tmp_path / "*_newer.json"])


def test_a_save_counts_once_and_on_one_side_only(tmp_path: Path) -> None:
    a = _save(tmp_path, "a", {"t.py::f": _rounds(1e-3)})
    b = _save(tmp_path, "b", {"t.py::f": _rounds(1e-3, seed=1)})
    assert len(read_pair([a, tmp_path / "a.json", tmp_path / "*a.json"], [b]).baseline) == 1
    with pytest.raises(MlgateError, match=r"a\.json is given on both sides; each save belongs to one side"):
        read_pair([a], [tmp_path / "*.json"])


def test_calibrate_refuses_saves_that_cannot_be_this_machines_a_a(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _save(tmp_path, "a", {"t.py::f": _rounds(1e-3)})
    other = _save(tmp_path, "b", {"t.py::f": _rounds(1e-3)}, {**MACHINE, "node": "other"})
    point = _save(tmp_path, "c", {"t.py::f": 1e-3})
    history = ["--calibration", str(tmp_path / "calibration")]
    for base, cand, message in (
        (a, other, "the saves come from different machines"),
        (point, point.with_name("d.json"), "the saves keep no rounds; save with --benchmark-save-data"),
    ):
        if not cand.exists():
            cand.write_text(point.read_text())
        flags = ["--pytest-benchmark-baseline", str(base), "--pytest-benchmark-candidate", str(cand)]
        assert main(["calibrate", *flags, *history]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "calibration").exists()


def test_saves_from_different_machines_cannot_fail(tmp_path: Path) -> None:
    base = [_save(tmp_path, f"a{k}", {"t.py::f": _rounds(1e-3, seed=k)}) for k in range(2)]
    other = {**MACHINE, "node": "other"}
    cand = [_save(tmp_path, f"b{k}", {"t.py::f": _rounds(2e-3, seed=5 + k)}, other) for k in range(2)]
    found = _judge(base, cand)
    assert found["t.py::f"].status == "warn" and "(different machines)" in found["t.py::f"].message
    assert found["machine"].status == "warn"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "is not a file; give a JSON file pytest-benchmark saved"),
        ("{", "is not readable JSON"),
        ('{"results": {}}', "has no 'benchmarks' list; it is not a pytest-benchmark save"),
        ('{"benchmarks": [{"name": "x"}]}', "has a benchmark without 'fullname' or 'stats'"),
        ('{"benchmarks": [{"fullname": "x", "stats": {"data": [1]}}]}', "benchmark 'x': no numeric 'median'"),
    ],
)
def test_bad_saves_are_one_line_naming_the_flag(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "save.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(MlgateError, match="--pytest-benchmark-baseline: ") as caught:
        read_save(path, "--pytest-benchmark-baseline")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_compare_needs_both_sides_of_benchmarks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save = _save(tmp_path, "a", {"t.py::f": _rounds(1e-3)})
    assert main(["compare", "--pytest-benchmark-baseline", str(save), "--out", str(tmp_path / "r")]) == 2
    assert "--pytest-benchmark-baseline/--pytest-benchmark-candidate: give both" in capsys.readouterr().err
    assert main(["compare", "--out", str(tmp_path / "r")]) == 2
    assert "BASELINE/CANDIDATE: give two artifact folders or prediction files" in capsys.readouterr().err
    flags = ["--pytest-benchmark-baseline", str(save), "--pytest-benchmark-candidate", str(save)]
    assert main(["compare", *flags, "--data", "rows.csv", "--out", str(tmp_path / "r")]) == 2
    assert "--data: it applies to BASELINE/CANDIDATE predictions" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


# A side. The host's CPU runs at a few clock speeds about 25% apart and switches between them every
# few seconds, so a pair of saves can land on different speeds: how many pairs it takes was measured
# with tools/save_pairs.py (docs/design.md, "pytest-benchmark saves"). A pure-Python loop, the first
# benchmark here, also moved with each process's memory layout: it missed the slowed copy in 1 run
# of 4 beside two CPU-burning loops even at 24 saves a side.
SAVES = 24


@pytest.mark.slow
def test_real_saves_a_slowed_copy_regresses_and_the_same_function_does_not(tmp_path: Path) -> None:
    """Saves made as the README says (old, new, old, new...): a busy machine stalls whole processes."""
    prepare(tmp_path)  # tools/save_pairs.py: a numpy sort, and a copy sorting 20% more
    saves: dict[str, list[str]] = {"old": [], "slowed": [], "again": []}
    for k in range(SAVES):
        for name, slower in (("old", 1.0), ("slowed", 1.2), ("again", 1.0)):
            saves[name].append(str(benchmark_save(tmp_path, f"{name}{k}", slower)))
    assert len(read_save(Path(saves["old"][0]), "x").benchmarks["test_work.py::test_work"].rounds) == 2000

    def compare(candidate: str) -> dict[str, Any]:
        out = tmp_path / f"{candidate}-report"
        args = [f"--pytest-benchmark-baseline={p}" for p in saves["old"]]
        args += [f"--pytest-benchmark-candidate={p}" for p in saves[candidate]]
        code = main(["compare", *args, "--out", str(out)])
        report = json.loads((out / "report.json").read_text())
        assert code == (1 if report["verdict"] == "regression" else 0)
        [finding] = [f for f in report["checks"] if f["name"] == "pytest-benchmark test_work.py::test_work"]
        return {"verdict": report["verdict"], **finding}

    slowed = compare("slowed")
    assert slowed["verdict"] == "regression" and slowed["status"] == "fail", slowed["message"]
    same = compare("again")
    assert same["verdict"] != "regression" and same["status"] != "fail", same["message"]


def test_next_steps_ask_for_more_saves_not_a_bigger_asv_plan(tmp_path: Path) -> None:
    """Saves so noisy that over 100 more would be needed: the advice names saves, not `check --plan full`."""
    old = [_save(tmp_path, f"o{k}", {"t.py::f": _rounds(1e-3 * (1, 3, 1)[k], seed=k)}) for k in range(3)]
    new = [_save(tmp_path, f"n{k}", {"t.py::f": _rounds(1e-3 * (2, 1, 1)[k], seed=5 + k)}) for k in range(3)]
    findings = list(_judge(old, new).values())
    assert next_steps(Report("n", "o", findings)) == [
        "training and inference speed: 1 inconclusive; more than 100 more saves a side each"
    ]
