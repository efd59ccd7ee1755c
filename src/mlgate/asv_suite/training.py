"""Training: wall time, CPU time and peak memory of fitting the model on the spec's training rows."""

from __future__ import annotations

import time

from mlgate.asv_suite import Benchmark, model_version, plan, spec, train_frame


class TrainingSetup(Benchmark):
    """The spec's train data (or 50,000 generated rows, when the spec can generate them)."""

    # docs/design.md sample plan for training time: 15-20 interleaved repeats (here 10 rounds x 2).
    rounds, repeat = plan(rounds=10, repeat=2)
    number = 1
    warmup_time = 0.0
    timeout = 900

    def setup(self) -> None:
        super().setup()
        self.spec = spec()
        frame = train_frame()
        self.features = self.spec.features(frame)
        self.target = frame[self.spec.target]

    def fit(self) -> None:
        self.spec.build(model_version()).fit(self.features, self.target)


class Training(TrainingSetup):
    """Wall time and peak memory of one fit."""

    version = "1"

    def time_fit(self) -> None:
        self.fit()

    def peakmem_fit(self) -> None:
        self.fit()


class TrainingCPU(TrainingSetup):
    """CPU time of one fit (less disturbed by a busy machine than wall time)."""

    version = "1"
    timer = time.process_time

    def time_fit_cpu(self) -> None:
        self.fit()
