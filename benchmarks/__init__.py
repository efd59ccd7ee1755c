"""asv benchmarks of this repo's model: mlgate's suite (mlgate.asv_suite) bound to its spec.

MLGATE_BASELINE_ARTIFACT names the production artifact whose predictions SamePredictions compares with.
"""

import os
from pathlib import Path

os.environ.setdefault("MLGATE_BENCH_SPEC", "mlgate.reference:spec")
os.environ.setdefault(
    "MLGATE_BASELINE_ARTIFACT", str(Path(__file__).resolve().parent.parent / "results/models/v1")
)
