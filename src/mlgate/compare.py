"""The one gate: judge all the evidence of a comparison with one policy, in one order, into a Report.

Every check is one call from here, in this order: the id join, feature (step) parity, prediction
parity, served parity, quality, prediction shift (and segments), then the measured evidence: asv
timings, pytest-benchmark saves and load latency, with A/A canaries and this machine's A/A history.
Commands only turn their flags into an ``Evidence`` (docs/design.md, the one gate); nothing here
writes or prints. With no prediction evidence at all, the measured evidence is judged alone.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

import pandas as pd

from mlgate import __version__, plots
from mlgate.checks import join, parity, quality, sequential, served, shift
from mlgate.checks.asv_timing import asv_findings
from mlgate.checks.benchmark_timing import benchmark_findings
from mlgate.checks.latency import latency_findings
from mlgate.checks.replay import replay_findings
from mlgate.checks.runs import apply_canary
from mlgate.checks.traffic_inputs import distinct, input_checks
from mlgate.evidence import Evidence, Measured
from mlgate.evidence.predictions import Side, aligned, by_id, is_artifact, labels, read_side, task_of
from mlgate.infra import atomic, threads
from mlgate.infra.errors import MlgateError
from mlgate.model.spec import ModelSpec
from mlgate.model.tables import read_table
from mlgate.policy import Policy
from mlgate.report import Finding, Report

# Fewest rows both versions must share: PSI's ten bins need a couple of rows each, and a bootstrap
# interval of fewer rows says more about the draw than about the models.
MIN_ROWS = 20


def run(evidence: Evidence, policy: Policy) -> Report:
    """Judge the evidence and return the report (nothing is written here).

    One BLAS thread throughout: the bootstrap's matrix products summed in another order by a
    second thread changed an interval's last digit from run to run; the same inputs now give the
    same report, bit for bit."""
    with threads.pinned():
        return _judged(evidence, policy)


def _judged(evidence: Evidence, policy: Policy) -> Report:
    started = time.perf_counter()
    if evidence.baseline is None or evidence.candidate is None:
        return _measured_only(evidence, policy, started)
    spec = evidence.spec
    if spec is None:  # pragma: no cover - every command that gives prediction evidence loads a spec
        raise MlgateError("--spec: comparing predictions needs a model spec; give --spec MODULE:OBJECT")
    atomic.check_path(evidence.baseline, "BASELINE")
    atomic.check_path(evidence.candidate, "CANDIDATE")
    data, data_source = _data(evidence, spec)
    target = evidence.target or spec.target
    if data is not None and target not in data.columns:
        raise MlgateError(
            f"--target: column {target!r} is not in {data_source}; pass --target with the label column's name"
        )
    segment = policy.shift.segment
    if segment and data is not None and segment not in data.columns:
        raise MlgateError(
            f"policy shift.segment: column {segment!r} is not in {data_source}; "
            "name an existing column or leave it empty"
        )
    base, cand = (
        read_side(path, flag, spec, data, data_source, evidence.id_column, evidence.trust_pickle)
        for path, flag in ((evidence.baseline, "BASELINE"), (evidence.candidate, "CANDIDATE"))
    )
    replayed = evidence.measured.replay
    if replayed is not None and replayed.labels() == (cand.label, base.label) != (base.label, cand.label):
        raise MlgateError(
            f"--replay: its baseline server answered as {cand.label} and its candidate as {base.label}, "
            "the reverse of BASELINE/CANDIDATE; replay with the hosts swapped"
        )
    task = task_of(base, cand, spec)
    id_col = _id_column(evidence, spec, base, cand)
    data_ids = None
    if data is not None and (base.kind == "predictions" or cand.kind == "predictions"):
        if id_col not in data.columns:
            raise MlgateError(f"--data: no id column {id_col!r}; pass --id with its name")
        data_ids = pd.Index(data[id_col])
    common, join_finding = join.id_join(
        base.outputs.index, cand.outputs.index, data_ids, policy.min_join, (base.source, cand.source)
    )
    if len(common) < MIN_ROWS:
        raise MlgateError(
            f"BASELINE/CANDIDATE: only {len(common)} row(s) to compare"
            f"{' with labels in ' + data_source if data is not None else ''}; a comparison needs at "
            f"least {MIN_ROWS}, give more rows"
        )
    # Align both sides on the joined ids, replacing the originals so no second copy stays alive.
    base.outputs, cand.outputs = aligned(base.outputs, common), aligned(cand.outputs, common)
    truth = labels(data, id_col, target, common, task) if data is not None else None

    findings = [join_finding, _feature_parity(base, cand, common, policy)]
    findings += parity.prediction_parity(base.outputs, cand.outputs, task, policy.parity)
    for answer in evidence.served:
        side = base if answer.role == "baseline" else cand
        name = f"served parity {answer.role}"
        findings.append(served.served_parity(side.outputs, answer, side.label, task, policy.parity, name))
    findings += quality.quality_findings(truth, base.outputs, cand.outputs, task, policy)
    findings += shift.prediction_shift(base.outputs, cand.outputs, task, policy.shift)
    if segment and data is not None and truth is not None:
        groups = by_id(data, id_col, segment, common)
        findings.append(shift.segment_quality(groups, truth, base.outputs, cand.outputs, task, policy))
    findings += measured(evidence.measured, policy)
    pictures = {
        **plots.prediction_plots(base.outputs, cand.outputs, truth, task),
        **plots.measured_plots(evidence.measured, findings),
    }
    return Report(
        baseline=base.label,
        candidate=cand.label,
        checks=findings,
        meta={
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "mlgate_version": __version__,
            "task": task,
            "baseline": base.describe(),
            "candidate": cand.describe(),
            "data": data_source,
            "rows_compared": len(common),
            "policy": policy.to_dict(),
            "seconds": round(time.perf_counter() - started, 3),
        },
        plots=pictures,
    )


def _measured_only(evidence: Evidence, policy: Policy, started: float) -> Report:
    """No prediction evidence: judge the timings and latency alone, named after what measured them."""
    labels = evidence.measured.labels()
    if labels is None:
        # The CLI refuses this before importing anything heavy; here for callers of the library.
        raise MlgateError("nothing to compare: the evidence has neither two sides nor measurements")
    findings = measured(evidence.measured, policy)
    sources, data, rows = ("measured evidence",) * 2, "none (measured evidence only)", 0
    replayed = evidence.measured.replay
    if replayed is not None:  # the servers that answered, and the traffic they answered
        where = replayed.meta
        sources = (f"served at {where.get('baseline')}", f"served at {where.get('candidate')}")
        data = f"{len(replayed.pairs):,} replayed requests of {where.get('traffic')}"
        rows = 0 if replayed.rows is None else len(replayed.rows)
    return Report(
        baseline=labels[0],
        candidate=labels[1],
        checks=findings,
        meta={
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "mlgate_version": __version__,
            "task": "",
            "baseline": {"label": labels[0], "source": sources[0]},
            "candidate": {"label": labels[1], "source": sources[1]},
            "data": data,
            "rows_compared": rows,
            "policy": policy.to_dict(),
            "seconds": round(time.perf_counter() - started, 3),
        },
        plots=plots.measured_plots(evidence.measured, findings),
    )


def measured(evidence: Measured, policy: Policy) -> list[Finding]:
    """asv timings, pytest-benchmark saves, load latency (asv and load with their A/A canary) and a
    shadow replay, judged with this machine's A/A history; the steps the user left out are listed as
    skipped.
    (`mlgate calibrate` records these.)"""
    findings = [
        Finding(
            name=step,
            kind="timing",
            status="skip",
            message=f"{step}: skipped with --skip {step}",
            metric=step,
        )
        for step in sorted(evidence.left_out)
    ]
    history = evidence.history
    if evidence.asv is not None:
        timing = asv_findings(evidence.asv.baseline, evidence.asv.candidate, policy, history)
        if evidence.asv_canary is not None:
            aa = evidence.asv_canary
            timing = apply_canary(timing, asv_findings(aa.baseline, aa.candidate, policy, history))
        findings += timing
    if evidence.benchmarks is not None:
        findings += benchmark_findings(evidence.benchmarks, policy, history)
    if evidence.replay is not None:
        replayed = evidence.replay
        findings += replay_findings(replayed, policy)
        if replayed.training is None or replayed.rows is None:
            why = "no readable records in the requests" if replayed.rows is None else replayed.no_training
            findings.append(
                Finding(name="input checks", kind="inputs", status="skip", message=f"input checks: {why}")
            )
        else:
            rows = distinct(replayed.rows)
            findings += input_checks(replayed.training, rows, policy.alpha, policy.shift.ks_warn)
    if evidence.load is not None:
        base, cand = evidence.load.baseline, evidence.load.candidate
        looks = evidence.load_looks or (min(len(base), len(cand)),)
        alphas = sequential.look_alphas(looks, looks[0] * evidence.planned_looks, policy.alpha)
        by_look = [
            latency_findings(base[:n], cand[:n], replace(policy, alpha=a), history)
            for n, a in zip(looks, alphas, strict=True)
        ]
        latency = (
            by_look[0]
            if evidence.planned_looks == 1
            else sequential.first_decisive(by_look, looks, alphas, evidence.planned_looks)
        )
        if evidence.load_canary is not None:  # measured once, beside the first look
            runs, first = evidence.load_canary, replace(policy, alpha=alphas[0])
            latency = apply_canary(latency, latency_findings(runs.baseline, runs.candidate, first, history))
        findings += latency
    return findings


def _data(evidence: Evidence, spec: ModelSpec) -> tuple[pd.DataFrame | None, str]:
    if evidence.data is not None:
        return read_table(evidence.data, "--data"), f"--data {evidence.data}"
    if any(side is not None and is_artifact(side) for side in (evidence.baseline, evidence.candidate)):
        return spec.holdout_rows(), f"the holdout of {spec.name}"
    return None, "none (prediction files only)"


def _id_column(evidence: Evidence, spec: ModelSpec, base: Side, cand: Side) -> str:
    if evidence.id_column:
        return evidence.id_column
    for side in (base, cand):
        if side.manifest:
            return str(side.manifest["id_column"])
    return spec.id_column


def _feature_parity(base: Side, cand: Side, ids: pd.Index, policy: Policy) -> Finding:
    if base.steps is None or cand.steps is None:
        return Finding(
            name="feature parity",
            kind="parity",
            status="skip",
            message="step outputs unavailable; compare artifacts, or predict with --steps",
            metric="steps",
        )
    b_steps = [(n, aligned(f, ids)) for n, f in base.steps]
    c_steps = [(n, aligned(f, ids)) for n, f in cand.steps]
    return parity.step_parity(b_steps, c_steps, policy.parity)
