"""How many pytest-benchmark saves a side find a +20% slower copy on this machine: real saves, resampled.

    python tools/save_pairs.py [--triples 16] [--draws 1000]

Runs ``--triples`` rounds of three saves, one pytest process each, as a user would make them: the
benchmark (``BENCHMARKED``), its slowed copy (20% more work) and the benchmark again. Prints each
triple's log ratios (slowed/old, again/old), then resamples the triples into comparisons of 16, 24
and 32 pairs judged by mlgate's rule (checks/benchmark_timing.py) and prints how often the slowed
copy was missed and how often the A/A side failed. ``tests/test_benchmark_evidence.py`` uses the
same benchmark and saves; docs/design.md ("pytest-benchmark saves") has what it measured.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

# Sorting floats: compiled code, as a model's predict is; the slowed copy sorts 20% more of them.
BENCHMARKED = """
import os

import numpy as np

DATA = np.random.default_rng(0).random(int(40_000 * float(os.environ.get("SLOWER", "1"))))


def work():
    return np.sort(DATA)


def test_work(benchmark):
    benchmark.pedantic(work, rounds=2000, iterations=1, warmup_rounds=50)
"""
NAME = "test_work.py::test_work"


def prepare(folder: Path) -> None:
    """A folder pytest-benchmark can run in, holding the benchmark alone."""
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "test_work.py").write_text(BENCHMARKED)


def benchmark_save(folder: Path, name: str, slower: float) -> Path:
    """Run pytest-benchmark in its own process, as a user would, and return its save."""
    # Only pytest-benchmark is loaded: other plugins of a dev venv would triple each save's start-up.
    env = {
        "PATH": "/usr/bin:/bin",
        "SLOWER": str(slower),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "pytest_benchmark.plugin",
    ]
    command += [f"--benchmark-storage=file://{folder / 'storage'}", f"--benchmark-save={name}"]
    command += ["--benchmark-save-data", "test_work.py"]
    subprocess.run(command, cwd=folder, env=env, check=True, capture_output=True, timeout=300)
    return next((folder / "storage").glob(f"*/*_{name}.json"))


def main() -> None:
    from mlgate.checks.benchmark_timing import FAST_TAIL
    from mlgate.checks.runs import RunValues, judge_all
    from mlgate.evidence.pytest_benchmark import read_save
    from mlgate.policy import read_policy

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=16)
    parser.add_argument("--draws", type=int, default=1000)
    args = parser.parse_args()
    values = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        prepare(folder)
        for k in range(args.triples):
            triple = []
            for name, slower in (("old", 1.0), ("slowed", 1.2), ("again", 1.0)):
                rounds = (
                    read_save(benchmark_save(folder, f"{name}{k}", slower), "save").benchmarks[NAME].rounds
                )
                triple.append(float(np.quantile(rounds, FAST_TAIL)))
            values.append(triple)
            print(
                f"triple {k + 1}: slowed/old {np.log(triple[1] / triple[0]):+.3f}, "
                f"again/old {np.log(triple[2] / triple[0]):+.3f}",
                flush=True,
            )
    triples, policy = np.array(values), read_policy()
    rng = np.random.default_rng(0)
    for pairs in (16, 24, 32):
        missed = false_alarms = 0
        for _ in range(args.draws):
            drawn = triples[rng.integers(0, len(triples), pairs)]
            judged = [
                judge_all(
                    [
                        RunValues(
                            "x", "timing", "x", "s", list(drawn[:, 0]), list(drawn[:, j]), policy.timing.time
                        )
                    ],
                    policy.alpha,
                    None,
                )[0].status
                for j in (1, 2)
            ]
            missed += judged[0] != "fail"
            false_alarms += judged[1] == "fail"
        print(f"{pairs} pairs: slowed copy missed {missed} of {args.draws}, A/A failed {false_alarms}")


if __name__ == "__main__":
    main()
