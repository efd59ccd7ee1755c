"""The one gate: `compare.run` judges typed evidence in one order, with the policy it is given."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import model_specs
from mlgate import compare
from mlgate.evidence import Evidence, Measured, Served
from mlgate.evidence.predictions import read_side
from mlgate.infra.errors import MlgateError
from mlgate.policy import DEFAULT

SPEC = model_specs.fast


def _served(artifact: Path, role: str, scale: float = 1.0) -> Served:
    """What a server of ``artifact`` answers for the holdout: its offline outputs, times ``scale``."""
    side = read_side(artifact, role, SPEC, SPEC.load_holdout(), "the holdout")
    answers = side.outputs.copy()
    answers["prediction"] = answers["prediction"] * scale
    return Served(role, f"http://127.0.0.1:1/{role}", answers)


def test_every_check_runs_once_in_the_documented_order(fast_models: dict[str, Path]) -> None:
    evidence = Evidence(
        fast_models["v1"],
        fast_models["paused"],
        SPEC,
        served=(_served(fast_models["v1"], "baseline"), _served(fast_models["paused"], "candidate")),
        measured=Measured(left_out=("asv", "load")),
    )
    report = compare.run(evidence, DEFAULT)
    kinds = [f.kind for f in report.checks]
    names = [f.name for f in report.checks]
    assert names[:2] == ["id join", "feature parity"] and kinds[2] == "parity"
    served = names.index("served parity baseline")
    assert names[served + 1] == "served parity candidate" and kinds[served + 2] == "quality"
    # quality, then shift, then the measured evidence (here: the two steps left out) last
    assert kinds.index("shift") > max(i for i, k in enumerate(kinds) if k == "quality")
    assert names[-2:] == ["asv", "load"] and {f.status for f in report.checks[-2:]} == {"skip"}
    assert len(set(names)) == len(names)
    assert report.meta["policy"] == DEFAULT.to_dict()


@pytest.mark.parametrize(("rtol", "status"), [(1e-7, "fail"), (1e-3, "pass")])
def test_served_parity_judges_with_the_policy_it_is_given(
    fast_models: dict[str, Path], rtol: float, status: str
) -> None:
    """Served answers 0.001% off: beyond the default tolerance, within a policy's looser one."""
    policy = dataclasses.replace(DEFAULT, parity=dataclasses.replace(DEFAULT.parity, rtol=rtol))
    evidence = Evidence(
        fast_models["v1"], fast_models["v1"], SPEC, served=(_served(fast_models["v1"], "candidate", 1.00001),)
    )
    finding = next(f for f in compare.run(evidence, policy).checks if f.name == "served parity candidate")
    assert finding.status == status, finding.message
    assert finding.message.startswith("http://127.0.0.1:1/candidate vs offline v1: ")


def test_measured_evidence_alone_is_what_calibrate_judges() -> None:
    """No sides, no rows: the measured part of the gate on its own (A/A evidence has no history)."""
    findings = compare.measured(Measured(left_out=("load",)), DEFAULT)
    assert [(f.name, f.status, f.message) for f in findings] == [
        ("load", "skip", "load: skipped with --skip load")
    ]


def test_served_answers_missing_a_row_are_an_error_naming_it(fast_models: dict[str, Path]) -> None:
    answers = _served(fast_models["v1"], "candidate")
    short = Served(answers.role, answers.url, answers.predictions.iloc[1:])
    evidence = Evidence(fast_models["v1"], fast_models["v1"], SPEC, served=(short,))
    with pytest.raises(MlgateError, match=r"answered no prediction for 1 row\(s\) \(e\.g\. id "):
        compare.run(evidence, DEFAULT)


def test_the_same_evidence_gives_the_same_report_bit_for_bit(tmp_path: Path) -> None:
    """Three runs of one multiclass comparison: every number equal to the last bit (the bootstrap's
    products once summed in a thread-dependent order, and a Brier interval's last digit flapped)."""
    from conftest import train_versions

    wine = train_versions("model_specs:wine", tmp_path)
    evidence = Evidence(wine["v1"], wine["weak"], model_specs.wine)
    reports = []
    for _ in range(3):
        report = compare.run(evidence, DEFAULT).to_dict()
        report["meta"].pop("created"), report["meta"].pop("seconds")
        reports.append(report)
    assert reports[0] == reports[1] == reports[2]
