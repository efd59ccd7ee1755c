"""Inference: time per predict call across batch sizes, and rows per second."""

from __future__ import annotations

from typing import Any

from mlgate.asv_suite import BENCH_ROWS, QUICK, FittedModel, batch_sizes, plan


class Inference(FittedModel):
    """Time of one ``predict`` call on ``rows`` rows (per-call overhead shows at small sizes)."""

    version = "1"
    # The quick plan keeps three sizes: enough to split per-call overhead from per-row cost.
    params = [batch_sizes([1, 100, BENCH_ROWS] if QUICK else [1, 10, 100, 1_000, BENCH_ROWS])]
    param_names = ["rows"]
    # docs/design.md (sample plans): >= 10 rounds x >= 10 samples; 20 x 5 keeps 100 samples, gives the
    # trimmed paired rule enough rounds to shrug off a disturbed one (docs/verdict-quality.md).
    rounds, repeat = plan(rounds=20, repeat=5)
    number = 1
    warmup_time = 0.2

    def setup(self, cache: dict[str, Any], rows: int) -> None:
        super().setup(cache, rows)
        self.batch = self.features.iloc[:rows]

    def time_predict(self, cache: dict[str, Any], rows: int) -> None:
        self.pipeline.predict(self.batch)


class Throughput(FittedModel):
    """Rows per second predicting every benchmark row in one call (higher is better)."""

    version = "1"
    rounds = plan(rounds=10, repeat=1)[0]
    unit = "rows/s"

    def track_rows_per_second(self, cache: dict[str, Any]) -> float:
        import time

        start = time.perf_counter()
        self.pipeline.predict(self.features)
        return len(self.features) / (time.perf_counter() - start)
