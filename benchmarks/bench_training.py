"""Training: wall time, CPU time and peak memory of fitting the model on n generated rows."""

from __future__ import annotations

import os
import time

from mlgate import reference

from .common import Benchmark, model_version, plan, spec


class TrainingSetup(Benchmark):
    """Generated rows large enough that one fit takes about a second; fitting is what is measured."""

    # 50,000 rows fit in about 0.8 s here; MLGATE_BENCH_TRAIN_ROWS=50000,100000 adds larger sizes
    # (the full suite then took 419 s a commit here instead of 319 s).
    params = [[int(n) for n in os.environ.get("MLGATE_BENCH_TRAIN_ROWS", "50000").split(",")]]
    param_names = ["rows"]
    # docs/design.md sample plan for training time: 15-20 interleaved repeats (here 10 rounds x 2).
    rounds, repeat = plan(rounds=10, repeat=2)
    number = 1
    warmup_time = 0.0
    timeout = 900

    def setup(self, rows: int) -> None:
        super().setup(rows)
        self.spec = spec()
        frame = reference.generate(rows, seed=7)
        self.features = self.spec.features(frame)
        self.target = frame[self.spec.target]

    def fit(self) -> None:
        self.spec.build(model_version()).fit(self.features, self.target)


class Training(TrainingSetup):
    """Wall time and peak memory of one fit."""

    version = "1"

    def time_fit(self, rows: int) -> None:
        self.fit()

    def peakmem_fit(self, rows: int) -> None:
        self.fit()


class TrainingCPU(TrainingSetup):
    """CPU time of one fit (less disturbed by a busy machine than wall time)."""

    version = "1"
    timer = time.process_time

    def time_fit_cpu(self, rows: int) -> None:
        self.fit()
