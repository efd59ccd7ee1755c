"""Read what asv wrote: the result JSON of a commit on a machine, split into per-round values.

asv stores, per benchmark and parameter combination, the raw samples of all its rounds one after
the other (with ``--record-samples``); our suite fixes ``repeat`` so each round contributes the
same number of samples, which makes the round (a separate process) the unit of replication.
"""

from __future__ import annotations

import itertools
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlgate.evidence import AsvPair
from mlgate.infra.errors import MlgateError


@dataclass
class Measurement:
    """One benchmark at one parameter combination on one commit."""

    name: str  # e.g. "bench_inference.Inference.time_predict(rows=100)"
    benchmark: str
    kind: str  # time, peakmem, track
    unit: str
    params: dict[str, str]
    result: float | None  # asv's own summary (median); None when the benchmark failed or was skipped
    rounds: list[float] = field(default_factory=list)  # one value per round (median of its samples)
    samples: int = 0
    skipped: bool = False  # asv stores NaN ("n/a") when setup raised NotImplementedError: it does not apply


@dataclass
class CommitResults:
    """Every measurement asv stored for one commit on one machine."""

    commit: str
    machine: str
    env_name: str
    path: Path
    measurements: dict[str, Measurement]
    machine_info: dict[str, Any]


def resolve_commit(rev: str, repo: Path, flag: str) -> str:
    """A revision (tag, branch, short or full hash) as a full hash, via git when it is not one."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"],
            cwd=repo,
            text=True,
            capture_output=True,
            timeout=10,
            check=False,
        )
    except OSError:
        result = None
    if result is not None and result.returncode == 0:
        return result.stdout.strip()
    if all(c in "0123456789abcdef" for c in rev.lower()) and len(rev) >= 8:
        return rev.lower()
    raise MlgateError(f"{flag}: {rev!r} is not a revision of {repo}; give a commit hash, tag or branch")


def read_commit(
    results_dir: Path, rev: str, flag: str, repo: Path | None = None, machine: str | None = None
) -> CommitResults:
    """The results of ``rev``: the one machine that has them, or ``machine`` when several do."""
    if not results_dir.is_dir():
        raise MlgateError(f"--asv-results: {results_dir} is not a folder; give asv's results_dir")
    commit = resolve_commit(rev, repo or Path.cwd(), flag)
    candidates = [
        p for p in results_dir.glob(f"*/{commit[:8]}-*.json") if machine is None or p.parent.name == machine
    ]
    if not candidates:
        raise MlgateError(
            f"{flag}: no asv results for {rev} ({commit[:8]}) in {results_dir}; run "
            f"`asv run --record-samples {rev}^!` first"
        )
    machines = sorted({p.parent.name for p in candidates})
    if len(machines) > 1:
        raise MlgateError(
            f"{flag}: results for {rev} exist for several machines ({', '.join(machines)}); "
            "pass --asv-machine"
        )
    path = sorted(candidates)[-1]
    info_path = path.parent / "machine.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        benchmarks = json.loads((results_dir / "benchmarks.json").read_text(encoding="utf-8"))
        info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.is_file() else {}
        if not all(isinstance(part, dict) for part in (data, benchmarks, info)):
            raise ValueError("not a JSON object")
        if not str(data.get("commit_hash", "")).startswith(commit[:8]):
            raise MlgateError(f"{flag}: {path} holds commit {data.get('commit_hash')}, not {commit}")
        measurements = _measurements(data, benchmarks)
    # Files asv did not write (or another asv version did) fail in many ways; all are one line.
    except (OSError, ValueError, TypeError, AttributeError, KeyError, RecursionError) as exc:
        raise MlgateError(
            f"{flag}: cannot read {path}, its machine.json or benchmarks.json ({exc}); rerun asv"
        ) from exc
    return CommitResults(
        str(data["commit_hash"]), path.parent.name, str(data.get("env_name", "")), path, measurements, info
    )


def read_pair(
    baseline: tuple[Path, str, str], candidate: tuple[Path, str, str], machine: str | None = None
) -> AsvPair:
    """Both sides' results, each given as (results_dir, revision, flag naming it)."""
    return AsvPair(
        read_commit(baseline[0], baseline[1], baseline[2], machine=machine),
        read_commit(candidate[0], candidate[1], candidate[2], machine=machine),
    )


def check_same_design(base: CommitResults, cand: CommitResults) -> None:
    """Refuse to pair results measured differently: another asv environment (`-E existing` against a
    virtualenv, other package versions) or another sample plan (quick against full) is a different
    experiment, and its difference says nothing about the commits."""
    if base.env_name != cand.env_name:
        raise MlgateError(
            f"--asv-results: {base.path.name} was measured in asv environment {base.env_name!r} and "
            f"{cand.path.name} in {cand.env_name!r}; run both commits in one environment"
        )
    plans = {
        name: (m.samples, cand.measurements[name].samples)
        for name, m in base.measurements.items()
        if name in cand.measurements and m.samples and cand.measurements[name].samples
    }
    differing = sorted(name for name, (a, b) in plans.items() if a != b)
    if differing:
        a, b = plans[differing[0]]
        raise MlgateError(
            f"--asv-results: {base.path.name} and {cand.path.name} used different sample plans "
            f"({differing[0]}: {a} vs {b} samples, {len(differing)} benchmark(s) differ); "
            "run both commits with the same plan (MLGATE_ASV_PLAN, --quick)"
        )


def _measurements(data: dict[str, Any], benchmarks: dict[str, Any]) -> dict[str, Measurement]:
    columns = data.get("result_columns", ["result", "params"])
    out: dict[str, Measurement] = {}
    for bench, row in data.get("results", {}).items():
        values = dict(zip(columns, row, strict=False))
        meta = benchmarks.get(bench, {})
        kind = str(meta.get("type", bench.rsplit(".", 1)[-1].split("_", 1)[0]))
        unit = str(meta.get("unit", "seconds" if kind == "time" else "bytes" if kind == "peakmem" else ""))
        names = list(meta.get("param_names", []))
        combos = list(itertools.product(*values.get("params") or [])) or [()]
        results = values.get("result")
        results = results if isinstance(results, list) else [results] * len(combos)
        samples = values.get("samples") or [None] * len(combos)
        rounds = int(meta.get("rounds", 1) or 1)
        for k, combo in enumerate(combos):
            params = {n: str(v) for n, v in zip(names, combo, strict=False)}
            short = ".".join(bench.split(".")[-2:])  # Class.method: the module is in the name already
            label = short + (f"({', '.join(f'{n}={v}' for n, v in params.items())})" if params else "")
            raw = samples[k] if k < len(samples) else None
            result = results[k] if k < len(results) else None
            out[label] = Measurement(
                label,
                bench,
                kind,
                unit,
                params,
                None if result is None or _nan(result) else float(result),
                _per_round(raw, rounds),
                len(raw or []),
                skipped=_nan(result),
            )
    return out


def _nan(value: Any) -> bool:
    return isinstance(value, float) and np.isnan(value)


def _per_round(samples: list[float] | None, rounds: int) -> list[float]:
    """Median of each round's samples; each sample its own unit when rounds cannot be told apart."""
    if not samples:
        return []
    values = np.asarray([s for s in samples if s is not None], dtype=float)
    if rounds > 1 and values.size % rounds == 0 and values.size // rounds >= 1:
        return [float(np.median(chunk)) for chunk in values.reshape(rounds, -1)]
    return [float(v) for v in values]
