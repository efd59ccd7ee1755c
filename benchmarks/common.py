"""Base classes for mlgate's asv suite: data, thread pinning and the model spec live here.

Concrete benchmarks are mostly data (params, sizes, sample plan). When asv runs what:
- ``setup_cache`` once per benchmark class and environment (its result is pickled to every process);
- ``setup`` once per parameter combination and per round, in a fresh process, before the samples;
- ``time_*`` ``repeat`` x ``number`` times per round; ``track_*`` and ``peakmem_*`` once per round.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from mlgate import reference
from mlgate.spec import load_spec

REPO = Path(__file__).resolve().parent.parent
# Which model the suite measures: the spec's newest version unless told otherwise.
SPEC_REF = os.environ.get("MLGATE_BENCH_SPEC", "mlgate.reference:spec")
HOLDOUT_ROWS = 10_000
# MLGATE_ASV_PLAN=quick shrinks every sample plan (CI, `make demo`); the default follows docs/design.md.
QUICK = os.environ.get("MLGATE_ASV_PLAN") == "quick"


def plan(rounds: int, repeat: int) -> tuple[int, tuple[int, int, float]]:
    """(rounds, repeat) for a benchmark: fixed counts, so each round's samples can be told apart."""
    if QUICK:
        rounds, repeat = min(rounds, 3), min(repeat, 3)
    return rounds, (repeat, repeat, 600.0)


SEED = 20_241


def spec() -> Any:
    return load_spec(SPEC_REF)


def model_version() -> str:
    return os.environ.get("MLGATE_BENCH_VERSION") or spec().versions[-1]


class Benchmark:
    """Pins BLAS/OpenMP threads to one in every benchmark process (docs/design.md, field notes)."""

    timeout = 300

    def setup(self, *params: Any) -> None:
        self._threads = threadpool_limits(limits=1)

    def teardown(self, *params: Any) -> None:
        self._threads.restore_original_limits()


class FittedModel(Benchmark):
    """A benchmark on the trained model: trains once per environment (setup_cache), then reuses it."""

    def setup_cache(self) -> dict[str, Any]:
        import skops.io as sio

        with threadpool_limits(limits=1):
            model_spec = spec()
            train = model_spec.load_train()
            pipeline = model_spec.build(model_version())
            pipeline.fit(model_spec.features(train), train[model_spec.target])
        holdout = reference.generate(HOLDOUT_ROWS, seed=SEED, first_id=10_000_001)
        return {"model": sio.dumps(pipeline), "holdout": holdout}

    def setup(self, cache: dict[str, Any], *params: Any) -> None:
        import skops.io as sio

        super().setup(*params)
        trusted = sio.get_untrusted_types(data=cache["model"])
        self.pipeline = sio.loads(cache["model"], trusted=trusted)
        model_spec = spec()
        self.truth = cache["holdout"][model_spec.target].to_numpy(dtype=float)
        self.features = model_spec.features(cache["holdout"])
