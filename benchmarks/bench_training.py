"""Training: wall time, CPU time and peak memory of fitting the model on n generated rows."""

from __future__ import annotations

import time

from mlgate import reference

from .common import Benchmark, model_version, spec


class Training(Benchmark):
    """Fit on ``rows`` generated houses (large enough that a fit takes about a second)."""

    version = "1"
    params = [[50_000, 100_000]]
    param_names = ["rows"]
    # DESIGN.md sample plan for training time: 15-20 interleaved repeats.
    rounds = 3
    repeat = (5, 5, 120.0)
    number = 1
    warmup_time = 0.0
    timeout = 600

    def setup(self, rows: int) -> None:
        super().setup(rows)
        self.spec = spec()
        frame = reference.generate(rows, seed=7)
        self.features = self.spec.features(frame)
        self.target = frame[self.spec.target]

    def time_fit(self, rows: int) -> None:
        self.spec.build(model_version()).fit(self.features, self.target)

    def peakmem_fit(self, rows: int) -> None:
        self.spec.build(model_version()).fit(self.features, self.target)

    def track_fit_cpu_seconds(self, rows: int) -> float:
        start = time.process_time()
        self.spec.build(model_version()).fit(self.features, self.target)
        return time.process_time() - start

    track_fit_cpu_seconds.unit = "seconds"  # type: ignore[attr-defined]
