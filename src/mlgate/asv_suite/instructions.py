"""Instructions executed per predict call and per fit, counted by valgrind's callgrind.

Wall time on a shared machine moves with everything else running on it; the number of instructions
the model executes does not (docs/design.md, instruction counts). A probe process runs under
``valgrind --tool=callgrind --instr-atstart=no``: imports, data and the warm-up call run
uninstrumented (about 5x slower than native instead of 50x), then the probe asks callgrind
(``callgrind_control``) to count each measured region on its own and dumps it. A region's count
minus that of an empty region (the control calls themselves), divided by its calls, is the count
per call. Hash seed and thread counts are pinned, and address randomisation is turned off where the
kernel allows it (``setarch -R``); what remains moves a count by about 0.1% between processes
(docs/verdict-quality.md).

``python -m mlgate.asv_suite.instructions JOB.json`` is the probe; the asv classes run it once per
environment (``setup_cache``) and report its counts as ``track_`` values.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import cache, partial
from pathlib import Path
from typing import Any

from mlgate.asv_suite import BENCH_ROWS, Benchmark, FittedModel, batch_sizes, bench_frame, model_version, spec

FIT_ROWS = 5_000  # at most this many training rows fitted under the counter (~50x native time there)
# Calls per region: the control calls' own instructions (~0.3 million, subtracted) are ~0.1% of one
# call of a small model; a few calls average the allocator's wobble.
CALLS = {1: 3, 100: 3}
PINNED = {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TOOLS = ("valgrind", "callgrind_control")
ROWS = [1, 100, BENCH_ROWS]


def missing_counter() -> str | None:
    """Why instructions cannot be counted here, or None when they can."""
    absent = [tool for tool in TOOLS if shutil.which(tool) is None]
    if absent:
        return f"{' and '.join(absent)} not found: install Debian's valgrind package to count instructions"
    return None


def count(job: dict[str, Any], timeout: float = 900) -> dict[str, float]:
    """Run the probe under callgrind for ``job``; instructions per call, by region name."""
    with tempfile.TemporaryDirectory(prefix="mlgate-callgrind-") as tmp:
        folder = Path(tmp)
        (folder / "job.json").write_text(json.dumps(job))
        out = folder / "callgrind.out"
        command = [
            *_fixed_addresses(),
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            __name__,
            str(folder / "job.json"),
        ]
        result = subprocess.run(
            command, env=_probe_env(), capture_output=True, text=True, timeout=timeout, check=False
        )
        regions = (
            json.loads((folder / "regions.json").read_text()) if (folder / "regions.json").is_file() else []
        )
        if result.returncode != 0 or not regions:
            # valgrind's own lines start with "==PID=="; the probe's error is the last other one.
            ours = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("==")]
            tail = (ours or ["no output"])[-1]
            raise RuntimeError(f"the callgrind probe failed (exit {result.returncode}): {tail}")
        totals = [_dumped_instructions(out.with_name(f"{out.name}.{n}")) for n in range(1, len(regions) + 1)]
    empty = totals[0]
    return {name: (total - empty) / calls for (name, calls), total in zip(regions, totals, strict=True)}


@cache
def _fixed_addresses() -> list[str]:
    """``setarch -R`` where the kernel lets this process turn address randomisation off, else nothing.

    With random addresses (ASLR) a count moved by up to 0.6% between processes; without, by 0.1%
    (docs/verdict-quality.md). Containers may forbid it; the counts are then merely noisier.
    """
    try:
        trial = subprocess.run(["setarch", "-R", "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return ["setarch", "-R"] if trial.returncode == 0 else []


def _probe_env() -> dict[str, str]:
    """This process's environment and import path (asv adds the benchmark folder), seeds pinned."""
    path = os.pathsep.join(p for p in sys.path if p)
    return {**os.environ, "PYTHONPATH": path, **PINNED}


def _dumped_instructions(path: Path) -> int:
    """The instruction count of one callgrind dump (its ``summary:`` line)."""
    for line in path.read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError(f"{path} holds no summary line; is this callgrind's output?")


def _control(*args: str) -> None:
    """Ask callgrind, from inside the counted process, to do something now (it answers first)."""
    subprocess.call(["callgrind_control", *args, str(os.getpid())], stdout=subprocess.DEVNULL)


def probe(job_file: Path) -> None:
    """The measured process: prepare every region uninstrumented, then count each one on its own."""
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    job = json.loads(job_file.read_text())
    regions: list[tuple[str, Callable[[], object], int]] = [("empty", lambda: None, 1)]
    if job["kind"] == "predict":
        import skops.io as sio

        model = sio.load(job["model"], trusted=job["trusted"])
        features = spec().features(bench_frame())
        for rows in job["rows"]:
            regions.append(
                (f"predict {rows}", partial(model.predict, features.iloc[:rows]), CALLS.get(rows, 1))
            )
    else:
        # The spec's own training rows (what `mlgate train` fits): generated ones may tie categories.
        model_spec = spec()
        frame = model_spec.load_train().iloc[:FIT_ROWS]
        features, target = model_spec.features(frame), frame[model_spec.target]
        unfitted = model_spec.build(model_version())
        regions.append(("fit", lambda: clone(unfitted).fit(features, target), 1))
    with threadpool_limits(limits=1):
        for _, call, _ in regions:
            call()  # warm: first-call imports and caches are not what a call costs
        _control("--instr=on")
        for _, call, calls in regions:
            _control("--zero")
            for _ in range(calls):
                call()
            _control("--dump")
    (job_file.parent / "regions.json").write_text(json.dumps([(name, calls) for name, _, calls in regions]))


class _Counted(Benchmark):
    """Counts taken once per environment; a machine without valgrind skips them (asv: n/a)."""

    rounds = 1
    unit = "instructions"
    timeout = 900

    def setup(self, cache: dict[str, Any], *params: Any) -> None:
        if cache["missing"]:
            raise NotImplementedError(cache["missing"])


class PredictInstructions(_Counted, FittedModel):
    """Instructions of one ``predict`` call on ``rows`` rows (lower is better)."""

    version = "1"
    params = [batch_sizes(ROWS)]
    param_names = ["rows"]

    def setup_cache(self) -> dict[str, Any]:
        missing = missing_counter()
        if missing:
            return {"missing": missing}
        fitted = super().setup_cache()
        with tempfile.TemporaryDirectory(prefix="mlgate-model-") as tmp:
            path = Path(tmp) / "model.skops"
            path.write_bytes(fitted["model"])
            trusted = list(spec().trusted_types)
            job = {"kind": "predict", "model": str(path), "trusted": trusted, "rows": batch_sizes(ROWS)}
            return {"missing": None, "counts": count(job)}

    def track_predict_instructions(self, cache: dict[str, Any], rows: int) -> float:
        return float(cache["counts"][f"predict {rows}"])


class FitInstructions(_Counted):
    """Instructions of one fit on the spec's training rows, the first 5,000 at most (lower is better)."""

    version = "1"

    def setup_cache(self) -> dict[str, Any]:
        missing = missing_counter()
        return {"missing": missing} if missing else {"missing": None, "counts": count({"kind": "fit"})}

    def track_fit_instructions(self, cache: dict[str, Any]) -> float:
        return float(cache["counts"]["fit"])


if __name__ == "__main__":
    probe(Path(sys.argv[1]))
