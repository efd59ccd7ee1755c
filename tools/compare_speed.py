"""`mlgate compare` of two large predictions files against a datacompy script, side by side.

    python tools/compare_speed.py --datacompy-python PATH [--rows 1000000] [--runs 10]

Writes a seeded regression holdout (labels, a baseline's and a slightly worse candidate's
predictions, one row per id) as Parquet, then times, alternating run by run so both meet the same
machine: `mlgate compare baseline.parquet candidate.parquet --data labels.parquet --out DIR` (parity,
id join, RMSE/MAE/R² bootstrap intervals, KS and PSI, four report files) and a datacompy script that
does only the keyed comparison with the same tolerance. Each is a fresh process, start-up included.
datacompy is not an mlgate dependency: give the interpreter of a virtual environment that has it
(outside the checkout: `python -m venv ../dc-venv && ../dc-venv/bin/pip install datacompy pyarrow`,
then `--datacompy-python ../dc-venv/bin/python`).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

DATACOMPY = """
import pandas as pd, datacompy
b = pd.read_parquet("baseline.parquet"); c = pd.read_parquet("candidate.parquet")
cmp = datacompy.PandasCompare(b, c, join_columns="Id", abs_tol=0, rel_tol=1e-9)
print(cmp.matches(), len(cmp.intersect_rows))
"""


def write_files(folder: Path, rows: int) -> None:
    """House-price-like labels; the candidate's errors 0.5% larger than the baseline's."""
    rng = np.random.default_rng(0)
    truth = rng.lognormal(12, 0.4, rows)
    baseline = truth + rng.normal(0, 19_000, rows)
    candidate = baseline + (baseline - truth) * 0.005 + rng.normal(0, 50, rows)
    ids = np.arange(1, rows + 1)
    pd.DataFrame({"Id": ids, "SalePrice": truth}).to_parquet(folder / "labels.parquet", index=False)
    for name, values in (("baseline", baseline), ("candidate", candidate)):
        pd.DataFrame({"Id": ids, "prediction": values}).to_parquet(folder / f"{name}.parquet", index=False)


def timed(command: list[str], folder: Path) -> float:
    shutil.rmtree(folder / "report", ignore_errors=True)  # compare never overwrites a report
    started = time.perf_counter()
    subprocess.run(command, cwd=folder, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def summary(name: str, times: list[float]) -> str:
    q1, median, q3 = np.percentile(times, [25, 50, 75])
    return f"{name:9} median {median:.2f} s, IQR {q3 - q1:.2f} s, range {min(times):.2f}-{max(times):.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datacompy-python", type=Path, required=True, help="a python that has datacompy")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_files(folder, args.rows)
        mlgate = [sys.executable, "-m", "mlgate", "compare", "baseline.parquet", "candidate.parquet"]
        mlgate += ["--data", "labels.parquet", "--out", "report"]
        datacompy = [str(args.datacompy_python), "-c", DATACOMPY]
        timed(mlgate, folder), timed(datacompy, folder)  # warm the file cache, unrecorded
        times: dict[str, list[float]] = {"mlgate": [], "datacompy": []}
        for _ in range(args.runs):
            times["mlgate"].append(timed(mlgate, folder))
            times["datacompy"].append(timed(datacompy, folder))
    print(f"{args.rows:,} rows, {args.runs} alternating runs each")
    for name, values in times.items():
        print(summary(name, values))
    ratios = [m / d for m, d in zip(times["mlgate"], times["datacompy"], strict=True)]
    print(
        f"mlgate / datacompy: median of run-pair ratios {statistics.median(ratios):.2f}x "
        f"(range {min(ratios):.2f}-{max(ratios):.2f}x)"
    )


if __name__ == "__main__":
    main()
