"""mlgate's asv suite, shipped in the package: a repo binds it to its model spec in ``benchmarks/``.

The binding (what ``mlgate init`` writes) is a few lines per file::

    os.environ.setdefault("MLGATE_BENCH_SPEC", "mymodel.spec:spec")
    from mlgate.asv_suite.inference import Inference, Throughput

Concrete benchmarks are mostly data (params, sizes, sample plan). When asv runs what:
- ``setup_cache`` once per benchmark class and environment (its result is pickled to every process);
- ``setup`` once per parameter combination and per round, in a process of its own (forked from the
  one that imported the suite, under ``launch_method: "forkserver"``), before the samples;
- ``time_*`` ``repeat`` x ``number`` times per round; ``track_*`` and ``peakmem_*`` once per round.

asv's forkserver (``launch_method``) imports the suite once per environment and forks each of those
processes from it, so what is imported here (scikit-learn, through skops) and cached (the spec, the
benchmark rows) is paid once, not in each of the suite's ~200 processes (docs/design.md, asv).
"""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import skops.io as sio  # imports scikit-learn
from threadpoolctl import threadpool_limits

from mlgate.model.spec import ModelSpec, load_spec

# MLGATE_ASV_PLAN=quick shrinks every sample plan (CI, `mlgate check --plan quick`); the default
# follows docs/design.md (sample plans).
QUICK = os.environ.get("MLGATE_ASV_PLAN") == "quick"
SEED = 20_241
BENCH_ROWS = 10_000  # rows predicted by the largest batch and by the throughput benchmark
TRAIN_ROWS = 50_000  # rows fitted by the training benchmarks when the spec can generate them


def plan(rounds: int, repeat: int) -> tuple[int, tuple[int, int, float]]:
    """(rounds, repeat) for a benchmark: fixed counts, so each round's samples can be told apart."""
    if QUICK:
        rounds, repeat = min(rounds, 3), min(repeat, 3)
    return rounds, (repeat, repeat, 600.0)


@cache
def spec() -> ModelSpec:
    """The spec the binding names (MLGATE_BENCH_SPEC), else the project's ``[tool.mlgate] model``.

    In an asv virtualenv the repo's code at the measured commit is on the path already; with
    ``-E existing`` mlgate points MLGATE_PROJECT_DIR at the checkout to measure.
    """
    project = os.environ.get("MLGATE_PROJECT_DIR")
    return load_spec(os.environ.get("MLGATE_BENCH_SPEC"), Path(project) if project else None)


def model_version() -> str:
    return os.environ.get("MLGATE_BENCH_VERSION") or spec().versions[-1]


@cache
def bench_frame() -> pd.DataFrame:
    """Labelled rows to predict: generated when the spec can, else its holdout (as many as it holds)."""
    model_spec = spec()
    if model_spec.make_rows is not None:
        return model_spec.make_rows(BENCH_ROWS, SEED)
    return model_spec.load_holdout().iloc[:BENCH_ROWS]


def train_frame() -> pd.DataFrame:
    model_spec = spec()
    if model_spec.make_rows is not None:
        return model_spec.make_rows(TRAIN_ROWS, 7)
    return model_spec.load_train()


def batch_sizes(wanted: list[int]) -> list[int]:
    """The wanted batch sizes the data can fill, plus all of it when it holds fewer than the largest.

    Said once on stderr (asv shows it with ``-v``), so a missing size is never a silent shrink.
    """
    available = len(bench_frame())
    sizes = [n for n in wanted if n <= available]
    if available < max(wanted):
        sizes.append(available)
        print(
            f"mlgate asv suite: {spec().name} has {available:,} holdout rows; batch sizes above "
            f"that ({', '.join(str(n) for n in wanted if n > available)}) are not measured",
            file=sys.stderr,
        )
    return sorted(set(sizes))


class Benchmark:
    """Pins BLAS/OpenMP threads to one in every benchmark process (docs/design.md, field notes)."""

    timeout = 300

    def setup(self, *params: Any) -> None:
        self._threads = threadpool_limits(limits=1)

    def teardown(self, *params: Any) -> None:
        threads = getattr(self, "_threads", None)  # asv tears down a benchmark its setup skipped, too
        if threads is not None:
            threads.restore_original_limits()


class FittedModel(Benchmark):
    """A benchmark on the trained model: trains once per environment (setup_cache), then reuses it."""

    def setup_cache(self) -> dict[str, Any]:
        model_spec = spec()
        with threadpool_limits(limits=1):
            train = model_spec.load_train()
            pipeline = model_spec.build(model_version())
            pipeline.fit(model_spec.features(train), train[model_spec.target])
        return {"model": sio.dumps(pipeline)}

    def setup(self, cache: dict[str, Any], *params: Any) -> None:
        super().setup(*params)
        model_spec = spec()
        untrusted = set(sio.get_untrusted_types(data=cache["model"]))
        if untrusted - set(model_spec.trusted_types):  # the spec's list, as everywhere in mlgate
            missing = ", ".join(sorted(untrusted - set(model_spec.trusted_types)))
            raise RuntimeError(f"{model_spec.name}: add to the spec's trusted_types: {missing}")
        self.pipeline = sio.loads(cache["model"], trusted=sorted(untrusted))
        frame = bench_frame()
        self.truth = frame[model_spec.target].to_numpy()
        self.features = model_spec.features(frame)
