"""Shadow replay judged request by request: answers, errors and latency of the same requests.

Each recorded request went to both servers back to back (mlgate.locust.replay), so every check here
is paired on the request:

- **answers**: their distribution (PSI and KS, as checks/shift.py judges offline predictions), and
  per request: identical, within the parity tolerance (checks/parity.py's rule), or changed, with
  decision flips for classifiers; the requests that changed most are kept with their inputs;
- **errors**: requests one side failed and the other answered; McNemar's exact test on those;
- **latency**: the log ratio candidate/baseline of each pair, with an interval from blocks of pairs
  in request order. A replay is one run of two server processes, and two processes of the *same*
  code served 1.3x to 1.5x apart in replays here (docs/design.md, shadow replay): where each lands
  on the cores is not the version's doing, and pairing within the run cannot cancel it. So a replay
  gives the latency estimate and passes when no slowdown of the minimum effect is seen, but never
  fails on latency; ``mlgate load --duet --runs N`` measures runs and can.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from mlgate import stats
from mlgate.checks import shift
from mlgate.checks.traffic_inputs import input_checks
from mlgate.evidence.outputs import PREDICTION, PROBA_PREFIX, looks_like_classification
from mlgate.evidence.replay import Replay
from mlgate.model.tables import json_records
from mlgate.policy import Policy
from mlgate.report import Finding, Status
from mlgate.report.model import HIGHER_IS_BETTER, RELATIVE, SCALE, UNIT
from mlgate.report.numbers import percent, sig

BLOCKS = 10  # contiguous blocks of pairs: the replay's units of replication for latency
MIN_PAIRS = 20  # fewer answered pairs give no latency interval worth drawing
CHANGED_SHOWN = 10  # requests listed as changed most, each with its inputs
RECORDS_SHOWN = 3  # records of each listed request


def replay_findings(replay: Replay, policy: Policy) -> list[Finding]:
    """Answers, errors, latency, and the traffic's inputs against the training data."""
    findings = [_answers(replay, policy), _errors(replay, policy), _latency(replay, policy)]
    findings += _shift(replay, policy)
    if replay.training is None or replay.rows is None:
        why = "the requests' records cannot be read" if replay.rows is None else "no training data"
        findings.append(
            Finding(name="input checks", kind="inputs", status="skip", message=f"input checks: {why}")
        )
    else:
        findings += input_checks(replay.training, replay.rows, policy.alpha, policy.shift.ks_warn)
    if not replay.meta.get("complete", True):
        findings.append(
            Finding(
                name="replay coverage",
                kind="replay",
                status="warn",
                message=f"only {replay.meta.get('pairs')} of {replay.meta.get('requests')} recorded "
                "requests were replayed before the run time ended; replay with a longer --run-time",
            )
        )
    return findings


def _answered(replay: Replay) -> pd.Series:
    pairs = replay.pairs
    return pairs["baseline_predictions"].notna() & pairs["candidate_predictions"].notna()


def _answers(replay: Replay, policy: Policy) -> Finding:
    pairs = replay.pairs[_answered(replay)]
    if pairs.empty:
        return Finding(
            name="replay answers",
            kind="replay",
            status="skip",
            message="replay answers: no request was answered with predictions by both servers",
        )
    base, cand = list(pairs["baseline_predictions"]), list(pairs["candidate_predictions"])
    probs = {side: [replay.probabilities[side][k] for k in pairs.index] for side in ("baseline", "candidate")}
    labels = any(isinstance(p, str | bool) for preds in base for p in preds) or any(probs["baseline"])
    scores, exact, within, flips, rows = _compare(base, cand, probs, labels, policy)
    changed = ~within
    n = len(pairs)
    details: dict[str, Any] = {
        "requests": n,
        "identical": int(exact.sum()),
        "within_tolerance": int((within & ~exact).sum()),
        "changed": int(changed.sum()),
        "changed_most": _changed_most(replay, pairs, scores, changed),
    }
    if labels:
        details.update(flipped_rows=flips, rows=rows)
    if not changed.any():
        how = "identically" if exact.all() else "within the parity tolerance"
        message = f"all {n:,} replayed requests answered {how} by both versions"
        status: Status = "pass"
    else:
        worst = ", ".join(f"#{c['request']}" for c in details["changed_most"][:3])
        message = f"{int(changed.sum()):,} of {n:,} requests answered differently ({percent(changed.mean())})"
        if labels:
            message += f"; {flips:,} of {rows:,} decisions flipped ({percent(flips / max(rows, 1))})"
        message += f"; changed most: {worst}"
        too_many_flips = labels and flips / max(rows, 1) > policy.parity.max_flip_rate
        status = "fail" if policy.parity.required and (too_many_flips or not labels) else "warn"
        if status == "warn":
            message += " (parity is not required by the policy: a change is expected of a new model)"
    return Finding(
        name="replay answers",
        kind="replay",
        status=status,
        message=message,
        metric="changed requests",
        candidate=float(changed.mean()),
        details=details,
    )


def _compare(
    base: list[list[Any]],
    cand: list[list[Any]],
    probs: dict[str, list[dict[str, list[Any]]]],
    labels: bool,
    policy: Policy,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Per request: how much it changed, identical?, within tolerance?; flipped rows and rows."""
    scale = np.mean([abs(float(p)) for preds in base for p in preds if _number(p)] or [1.0]) or 1.0
    rtol, atol = policy.parity.rtol, policy.parity.atol * scale
    scores, exact, within = np.zeros(len(base)), np.zeros(len(base), bool), np.zeros(len(base), bool)
    flips = rows = 0
    for k, (b, c) in enumerate(zip(base, cand, strict=True)):
        pb, pc = probs["baseline"][k], probs["candidate"][k]
        exact[k] = b == c and pb == pc
        if len(b) != len(c):
            scores[k], within[k] = math.inf, False
            continue
        rows += len(b)
        if labels:
            flipped = sum(x != y for x, y in zip(b, c, strict=True))
            flips += flipped
            moved = _largest_gap(pb, pc)
            scores[k] = flipped + min(moved, 1.0)  # a flip outranks any probability change
            within[k] = flipped == 0 and moved <= atol + rtol
        elif all(_number(x) and _number(y) for x, y in zip(b, c, strict=True)):
            gaps = np.abs(np.asarray(c, float) - np.asarray(b, float))
            scores[k] = float(gaps.max(initial=0.0))
            within[k] = bool(np.all(gaps <= atol + rtol * np.abs(np.asarray(b, float))))
        else:
            scores[k], within[k] = (0.0, True) if b == c else (math.inf, False)
    return scores, exact, within | exact, flips, rows


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _largest_gap(a: dict[str, list[Any]], b: dict[str, list[Any]]) -> float:
    """The largest change of any class probability of any record (0 without probabilities)."""
    gaps = [
        abs(float(x) - float(y))
        for label in set(a) & set(b)
        for x, y in zip(a[label], b[label], strict=False)
        if _number(x) and _number(y)
    ]
    return max(gaps, default=0.0)


def _changed_most(
    replay: Replay, pairs: pd.DataFrame, scores: np.ndarray, changed: np.ndarray
) -> list[dict[str, Any]]:
    """The requests that changed most, each with both answers and the records it sent."""
    order = [k for k in np.argsort(-scores, kind="stable") if changed[k]][:CHANGED_SHOWN]
    shown = []
    for k in order:
        i = int(pairs["i"].iloc[k])
        records: list[dict[str, Any]] = []
        if replay.rows is not None and i in replay.rows.index:
            records = json_records(replay.rows.loc[[i]].head(RECORDS_SHOWN))
        shown.append(
            {
                "request": i,
                "baseline": pairs["baseline_predictions"].iloc[k][:RECORDS_SHOWN],
                "candidate": pairs["candidate_predictions"].iloc[k][:RECORDS_SHOWN],
                "change": None if math.isinf(scores[k]) else float(scores[k]),
                "records": records,
            }
        )
    return shown


def _shift(replay: Replay, policy: Policy) -> list[Finding]:
    """The distribution of both versions' answers to the same records: PSI and KS, as offline."""
    pairs = replay.pairs[_answered(replay)]
    sides = {}
    for side in ("baseline", "candidate"):
        rows: list[dict[str, Any]] = []
        for k, b, c in zip(
            pairs.index, pairs["baseline_predictions"], pairs["candidate_predictions"], strict=True
        ):
            if len(b) != len(c):
                continue
            answers, probs = (b if side == "baseline" else c), replay.probabilities[side][k]
            for row, answer in enumerate(answers):
                rows.append(
                    {PREDICTION: answer, **{PROBA_PREFIX + str(label): p[row] for label, p in probs.items()}}
                )
        sides[side] = pd.DataFrame(rows)
    if len(sides["baseline"]) < MIN_PAIRS:
        return []
    try:
        task = "classification" if looks_like_classification(sides["baseline"]) else "regression"
        found = shift.prediction_shift(sides["baseline"], sides["candidate"], task, policy.shift)
    except (TypeError, ValueError, IndexError):  # answers of another shape than predictions
        return []
    return [replace(f, name=f"replay {f.name}") for f in found]


def _errors(replay: Replay, policy: Policy) -> Finding:
    """Requests a side failed (not 200, or no predictions in the answer), paired on the request."""
    pairs = replay.pairs
    b_ok = (pairs["baseline_status"] == 200) & pairs["baseline_predictions"].notna()
    c_ok = (pairs["candidate_status"] == 200) & pairs["candidate_predictions"].notna()
    only_b_ok, only_c_ok, p = stats.mcnemar_exact(b_ok.to_numpy(), c_ok.to_numpy())
    n = len(pairs)
    b_rate, c_rate = 1 - b_ok.mean(), 1 - c_ok.mean()
    difference = c_rate - b_rate
    worse = only_b_ok > only_c_ok and p < policy.alpha
    status: Status = "pass"
    if worse and difference >= policy.latency.error_rate:
        status = "fail"
    elif only_b_ok > only_c_ok:
        status = "warn"
    failed_on_candidate = pairs.loc[b_ok & ~c_ok, ["i", "candidate_status"]].head(CHANGED_SHOWN)
    message = (
        f"errors {percent(b_rate)} -> {percent(c_rate)} of {n:,} requests; "
        f"{only_b_ok:,} failed on the candidate only, {only_c_ok:,} on the baseline only"
    )
    if only_b_ok + only_c_ok:
        message += f" (McNemar p = {p:.3g})"
    if len(failed_on_candidate):
        message += ": " + ", ".join(
            f"#{i} ({s or 'no answer'})" for i, s in failed_on_candidate.itertuples(index=False)
        )
    return Finding(
        name="replay errors",
        kind="replay",
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
    """The median paired log ratio, with an interval from blocks of pairs in request order."""
    pairs = replay.pairs
    both = pairs[(pairs["baseline_status"] == 200) & (pairs["candidate_status"] == 200)]
    b = both["baseline_latency_us"].to_numpy(float) / 1000
    c = both["candidate_latency_us"].to_numpy(float) / 1000
    theta = policy.latency.p50
    base: dict[str, Any] = {
        "name": "replay latency",
        "kind": "replay",
        "metric": "paired latency",
        "threshold": theta,
    }
    if b.size < MIN_PAIRS:
        return Finding(
            **base,
            status="warn",
            message=f"only {b.size} answered pairs; a latency interval needs {MIN_PAIRS}",
        )
    d = np.log(np.maximum(c, 1e-3) / np.maximum(b, 1e-3))
    blocks = np.array([np.median(part) for part in np.array_split(d, BLOCKS)])
    mean, se, df = stats.mean_t(blocks)
    half = stats.t_quantile(1 - policy.alpha / 2, df) * se
    low, high = math.expm1(mean - half), math.expm1(mean + half)
    change = math.expm1(float(np.median(d)))
    status: Status = "pass" if high < theta else "warn"  # never fail: see the module docstring
    b50, c50 = float(np.median(b)), float(np.median(c))
    b95, c95 = float(np.quantile(b, 0.95)), float(np.quantile(c, 0.95))
    verdict = (
        "no slowdown of the minimum effect"
        if status == "pass"
        else "one replay cannot tell the versions from the two server processes; for a verdict, "
        "measure runs with mlgate load --duet --runs 5"
    )
    message = (
        f"{percent(change)} per request, paired ({(1 - policy.alpha):.0%} CI {percent(low)} to "
        f"{percent(high)} over {BLOCKS} blocks of {b.size:,} pairs; minimum effect {percent(theta)}); "
        f"median {sig(b50)} -> {sig(c50)} ms, p95 {sig(b95)} -> {sig(c95)} ms: {verdict}"
    )
    return Finding(
        **base,
        status=status,
        message=message,
        baseline=b50,
        candidate=c50,
        change=change,
        ci=(low, high),
        details={
            UNIT: "ms",
            RELATIVE: True,
            HIGHER_IS_BETTER: False,
            "pairs": int(b.size),
            "p95": [b95, c95],
        },
    )
