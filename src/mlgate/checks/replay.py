"""Shadow replay judged request by request: answers, errors and latency of the same requests.

Each recorded request went to both servers back to back (mlgate.locust.replay), so every check here
is paired on the request:

- **answers**: record by record under the parity rules (checks/parity.py: tolerance, decision
  flips; fail only when the policy requires parity), their distribution (PSI and KS, as
  checks/shift.py judges offline predictions), and per request how many changed, with the requests
  that changed most and the records they sent;
- **errors**: requests one side failed and the other answered; McNemar's exact test on those;
- **latency**: the log ratio candidate/baseline of each pair, with an interval from blocks of pairs
  in request order. It is an estimate, never a verdict: a replay is one run of two server processes,
  and two processes of the *same* code served up to 2.1x apart in replays here (docs/design.md,
  shadow replay), where each lands on the cores being no doing of the version. ``mlgate load --duet
  --runs N`` measures runs and judges.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlgate import stats
from mlgate.checks import parity, shift
from mlgate.evidence.outputs import PREDICTION, looks_like_classification
from mlgate.evidence.replay import Replay
from mlgate.model.tables import json_records
from mlgate.policy import Policy
from mlgate.report import Finding, Status
from mlgate.report.model import CHANGED_MOST, HIGHER_IS_BETTER, RELATIVE, SCALE, UNIT
from mlgate.report.numbers import percent, sig

KIND = "replay"
BLOCKS = 10  # contiguous blocks of pairs: the replay's units of replication for latency
MIN_PAIRS = 20  # fewer answered pairs give no latency interval worth drawing
CHANGED_SHOWN = 10  # records listed as changed most, each with its inputs


def replay_findings(replay: Replay, policy: Policy) -> list[Finding]:
    """Answers (rules, distribution, per request), errors, latency, and how much was replayed."""
    findings = [*_answers(replay, policy), _errors(replay, policy), _latency(replay, policy)]
    if not replay.meta.get("complete", True):
        findings.append(
            Finding(
                name="replay coverage",
                kind=KIND,
                status="warn",
                message=f"only {replay.meta.get('pairs')} of {replay.meta.get('requests')} recorded "
                "requests were replayed before the run time ended; replay with a longer --run-time",
            )
        )
    return findings


def _task(replay: Replay) -> str:
    """Classification when the answers carry probabilities or labels, else regression."""
    return "classification" if looks_like_classification(replay.outputs["baseline"]) else "regression"


def _answers(replay: Replay, policy: Policy) -> list[Finding]:
    base, cand = replay.outputs["baseline"], replay.outputs["candidate"]
    if base.empty:
        message = "replay answers: no request was answered with as many predictions by both versions"
        return [Finding(name="replay answers", kind=KIND, status="skip", message=message)]
    task = _task(replay)
    ruled = parity.prediction_parity(base, cand, task, policy.parity)
    ruled += shift.prediction_shift(base, cand, task, policy.shift)
    findings = [replace(f, name=f"replay {f.name}", kind=KIND) for f in ruled]
    return [_per_request(replay, task, policy), *findings]


def _per_request(replay: Replay, task: str, policy: Policy) -> Finding:
    """How many requests were answered differently, and the records that changed most, with inputs."""
    base, cand = replay.outputs["baseline"], replay.outputs["candidate"]
    score = pd.Series(_record_change(base, cand, task, policy), index=base.index)
    per_request = score.groupby(replay.record_request).max()
    pairs = replay.pairs
    mismatched = pairs.loc[
        pairs["baseline_predictions"].notna()
        & pairs["candidate_predictions"].notna()
        & ~pairs["i"].isin(per_request.index),
        "i",
    ]  # answered with different numbers of predictions: changed, by how much is unknown
    n = len(per_request) + len(mismatched)
    changed = int((per_request > 0).sum()) + len(mismatched)
    shown = _changed_most(replay, score[score > 0].sort_values(ascending=False, kind="stable"))
    details: dict[str, Any] = {"requests": n, "changed": changed, CHANGED_MOST: shown}
    # Warn at most: the parity rules say whether a change is allowed; this says where it is.
    status: Status = "pass" if changed == 0 else "warn"
    if changed == 0:
        message = f"all {n:,} replayed requests answered the same by both versions"
    else:
        message = f"{changed:,} of {n:,} requests answered differently ({percent(changed / n)})"
        if shown:
            message += "; changed most: " + ", ".join(f"#{c['request']}" for c in shown[:3])
        if len(mismatched):
            message += f"; {len(mismatched)} answered with different numbers of predictions"
    return Finding(
        name="replay answers",
        kind=KIND,
        status=status,
        message=message,
        metric="changed requests",
        candidate=changed / n if n else None,
        details=details,
    )


def _changed_most(replay: Replay, scores: pd.Series) -> list[dict[str, Any]]:
    """The records that changed most, each once however often it was sent: the request it came in,
    both answers to it, and its inputs."""
    shown: list[dict[str, Any]] = []
    seen: set[str] = set()
    base, cand = replay.outputs["baseline"], replay.outputs["candidate"]
    for record, change in scores.items():
        request, _, row = str(record).partition(".")
        inputs: dict[str, Any] = {}
        if replay.rows is not None and int(request) in replay.rows.index:
            inputs = json_records(replay.rows.loc[[int(request)]].iloc[[int(row)]])[0]
        key = json.dumps(inputs, sort_keys=True, default=str) if inputs else str(record)
        if key in seen:
            continue
        seen.add(key)
        shown.append(
            {
                "request": int(request),
                "record": int(row),
                "baseline": json_records(base.loc[[record]])[0],
                "candidate": json_records(cand.loc[[record]])[0],
                "change": float(change),
                "records": [inputs] if inputs else [],
            }
        )
        if len(shown) == CHANGED_SHOWN:
            break
    return shown


def _record_change(base: pd.DataFrame, cand: pd.DataFrame, task: str, policy: Policy) -> NDArray[np.float64]:
    """Per record: 0 when within the parity tolerance, else the largest difference beyond it (a
    flipped label counts 1 more than any probability can move)."""
    score = np.zeros(len(base))
    numeric = task == "regression" or any(c != PREDICTION for c in base.columns)
    columns = [c for c in base.columns if c != PREDICTION or task == "regression"]
    if numeric:
        for column in columns:
            b = base[column].to_numpy(dtype=float, na_value=np.nan)
            missing = np.full(b.size, np.nan)  # a class only the baseline knows: differs everywhere
            a = cand[column].to_numpy(dtype=float, na_value=np.nan) if column in cand else missing
            absdiff, beyond = parity.beyond_tolerance(b, a, str(column), policy.parity)
            score = np.maximum(score, np.where(beyond, absdiff, 0.0))
    if task == "classification":
        flipped = base[PREDICTION].astype(object).to_numpy() != cand[PREDICTION].astype(object).to_numpy()
        score = score + flipped  # a flip outranks any move of a probability (at most 1)
    return score


def _errors(replay: Replay, policy: Policy) -> Finding:
    """Requests a side failed (not 200, or no predictions in the answer), paired on the request."""
    pairs = replay.pairs
    b_ok = (pairs["baseline_status"] == 200) & pairs["baseline_predictions"].notna()
    c_ok = (pairs["candidate_status"] == 200) & pairs["candidate_predictions"].notna()
    only_b_ok, only_c_ok, p = stats.mcnemar_exact(b_ok.to_numpy(), c_ok.to_numpy())
    n = len(pairs)
    b_rate, c_rate = 1 - b_ok.mean(), 1 - c_ok.mean()
    difference = c_rate - b_rate
    status: Status = "pass"
    if only_b_ok > only_c_ok and p < policy.alpha and difference >= policy.latency.error_rate:
        status = "fail"
    elif only_b_ok > only_c_ok or b_rate >= 0.5:  # half refused by both: the traffic does not fit
        status = "warn"
    failed_on_candidate = pairs.loc[b_ok & ~c_ok, ["i", "candidate_status"]].head(CHANGED_SHOWN)
    message = (
        f"errors {percent(b_rate)} -> {percent(c_rate)} of {n:,} requests; "
        f"{only_b_ok:,} failed on the candidate only, {only_c_ok:,} on the baseline only"
    )
    if only_b_ok + only_c_ok:
        message += f" (McNemar p = {p:.3g})"
    if b_rate >= 0.5:
        message += "; the baseline refused most of the traffic: does it fit the API ([tool.mlgate.api])?"
    if len(failed_on_candidate):
        message += ": " + ", ".join(
            f"#{i} ({s or 'no answer'})" for i, s in failed_on_candidate.itertuples(index=False)
        )
    return Finding(
        name="replay errors",
        kind=KIND,
        status=status,
        message=message,
        metric="error_rate",
        baseline=float(b_rate),
        candidate=float(c_rate),
        change=float(difference),
        threshold=policy.latency.error_rate,
        details={
            "candidate_only": int(only_b_ok),
            "baseline_only": int(only_c_ok),
            "p": p,
            "failed_on_candidate": [int(i) for i in failed_on_candidate["i"]],
            UNIT: "share",
            SCALE: "linear",
            HIGHER_IS_BETTER: False,
        },
    )


def _latency(replay: Replay, policy: Policy) -> Finding:
    """The mean of block medians of the paired log ratios, with its interval: an estimate only."""
    pairs = replay.pairs
    both = pairs[(pairs["baseline_status"] == 200) & (pairs["candidate_status"] == 200)]
    b = both["baseline_latency_us"].to_numpy(float) / 1000
    c = both["candidate_latency_us"].to_numpy(float) / 1000
    theta = policy.latency.p50
    named: dict[str, Any] = {"name": "replay latency", "kind": KIND, "metric": "paired latency"}
    if b.size < MIN_PAIRS:
        message = f"only {b.size} answered pairs; a latency estimate needs {MIN_PAIRS}"
        return Finding(**named, status="warn", message=message)
    d = np.log(np.maximum(c, 1e-3) / np.maximum(b, 1e-3))
    blocks = np.array([np.median(part) for part in np.array_split(d, BLOCKS)])
    mean, se, df = stats.mean_t(blocks)
    half = stats.t_quantile(1 - policy.alpha / 2, df) * se
    change, low, high = math.expm1(mean), math.expm1(mean - half), math.expm1(mean + half)
    first = float((both["first"] == "candidate").mean())
    message = (
        f"{percent(change)} per request in this replay ({(1 - policy.alpha):.0%} CI {percent(low)} to "
        f"{percent(high)} over {BLOCKS} blocks of {b.size:,} pairs); median {sig(float(np.median(b)))} -> "
        f"{sig(float(np.median(c)))} ms, p95 {sig(float(np.quantile(b, 0.95)))} -> "
        f"{sig(float(np.quantile(c, 0.95)))} ms; an estimate, not a verdict: one replay cannot tell the "
        "versions from where their two server processes ran; measure runs with mlgate load --duet --runs 5"
    )
    return Finding(
        **named,
        status="warn",
        message=message,
        baseline=float(np.median(b)),
        candidate=float(np.median(c)),
        change=change,
        ci=(low, high),
        threshold=theta,
        details={
            UNIT: "ms",
            RELATIVE: True,
            HIGHER_IS_BETTER: False,
            "pairs": int(b.size),
            "candidate_first": first,  # the coin's share: near 0.5, or order effects could bias it
        },
    )
