"""Read pytest-benchmark's saved JSON (``--benchmark-save``, ``--benchmark-autosave``, ``--benchmark-json``).

Each save is one pytest process. With ``--benchmark-save-data`` a benchmark keeps every round's
time per call (``stats.data``); without it only the summary statistics, from which no interval can
be built. Benchmarks are matched across saves by ``fullname`` (``path::test[param]``).
"""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.evidence import BenchmarkPair
from mlgate.infra.errors import MlgateError

SAVE_DATA = "--benchmark-save-data"  # the pytest-benchmark flag that keeps every round


@dataclass(frozen=True)
class Benchmark:
    """One benchmark of one save: its median seconds per call and every round's, when saved."""

    fullname: str
    median: float
    rounds: tuple[float, ...]  # seconds per call, in the order run; () when saved without data


@dataclass(frozen=True)
class BenchmarkSave:
    """One pytest-benchmark JSON file: the machine it ran on and its benchmarks by fullname."""

    path: Path
    machine: tuple[Any, ...]  # what must match for timings to be comparable
    benchmarks: dict[str, Benchmark]
    started: str = ""  # pytest-benchmark's ISO 'datetime': orders the saves of one side

    @property
    def label(self) -> str:
        """The save's name as pytest-benchmark wrote it: ``0003_before`` for ``0003_before.json``."""
        return self.path.stem


def read_save(path: Path, flag: str) -> BenchmarkSave:
    """One saved JSON file; a missing, unreadable or foreign file is one line naming ``flag``."""
    if not path.is_file():
        raise MlgateError(
            f"{flag}: {path} is not a file; give a JSON file pytest-benchmark saved "
            "(--benchmark-save NAME writes .benchmarks/<machine>/NNNN_NAME.json)"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MlgateError(
            f"{flag}: {path} is not readable JSON ({exc}); give a pytest-benchmark save"
        ) from exc
    entries = raw.get("benchmarks") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise MlgateError(
            f"{flag}: {path} has no 'benchmarks' list; it is not a pytest-benchmark save "
            "(write one with --benchmark-save NAME or --benchmark-json FILE)"
        )
    benchmarks: dict[str, Benchmark] = {}
    for entry in entries:
        benchmark = _benchmark(entry, path, flag)
        if benchmark.fullname in benchmarks:
            raise MlgateError(f"{flag}: {path} holds {benchmark.fullname!r} twice; give one save per file")
        benchmarks[benchmark.fullname] = benchmark
    started = raw.get("datetime")
    return BenchmarkSave(
        path, _machine(raw.get("machine_info")), benchmarks, started if isinstance(started, str) else ""
    )


def read_pair(baseline: list[Path], candidate: list[Path]) -> BenchmarkPair:
    """The saves of each side in the order they were made; several saves a side are several runs.

    A path with ``*``, ``?`` or ``[`` is a pattern, so ``'.benchmarks/*/*_old*.json'`` gives all of
    one side's saves at once.
    """
    flags = ("--pytest-benchmark-baseline", "--pytest-benchmark-candidate")
    paths = [_expand(given, flag) for given, flag in zip((baseline, candidate), flags, strict=True)]
    shared = set(paths[0]) & set(paths[1])
    if shared:
        raise MlgateError(
            f"{'/'.join(flags)}: {sorted(shared)[0]} is given on both sides; each save belongs to one "
            "side (for an A/A comparison, save the same code twice)"
        )
    sides = [
        sorted((read_save(p, flag) for p in side), key=lambda save: save.started)
        for side, flag in zip(paths, flags, strict=True)
    ]
    return BenchmarkPair(sides[0], sides[1])


def check_a_a(pair: BenchmarkPair) -> None:
    """Refuse saves that cannot be A/A history of this machine: another machine's, or without rounds."""
    saves = [*pair.baseline, *pair.candidate]
    flags = "--pytest-benchmark-baseline/--pytest-benchmark-candidate"
    if len({save.machine for save in saves}) > 1:
        raise MlgateError(
            f"{flags}: the saves come from different machines; A/A history is one machine's noise: "
            "give saves made on the machine that will compare"
        )
    if not any(b.rounds for save in saves for b in save.benchmarks.values()):
        raise MlgateError(f"{flags}: the saves keep no rounds; save with {SAVE_DATA}")


def _expand(paths: list[Path], flag: str) -> list[Path]:
    """Patterns expanded; each file once (resolved), however often it was named or matched."""
    found: list[Path] = []
    for path in paths:
        if not glob.has_magic(str(path)):
            found.append(path.resolve())
            continue
        parts = path.parts
        fixed = next(k for k, part in enumerate(parts) if glob.has_magic(part))
        matches = sorted(Path(*parts[:fixed]).glob(str(Path(*parts[fixed:]))))
        if not matches:
            raise MlgateError(
                f"{flag}: {path} matches no file; quote the pattern and check the save name "
                "(pytest-benchmark writes .benchmarks/<machine>/NNNN_NAME.json)"
            )
        found += [match.resolve() for match in matches]
    return list(dict.fromkeys(found))


def _benchmark(entry: object, path: Path, flag: str) -> Benchmark:
    stats = entry.get("stats") if isinstance(entry, dict) else None
    name = entry.get("fullname") if isinstance(entry, dict) else None
    if not isinstance(name, str) or not isinstance(stats, dict):
        raise MlgateError(
            f"{flag}: {path} has a benchmark without 'fullname' or 'stats'; give an unedited save"
        )
    data = stats.get("data") or []
    try:
        median = float(stats["median"])
        rounds = tuple(float(x) for x in data)
    except (KeyError, TypeError, ValueError) as exc:
        raise MlgateError(
            f"{flag}: {path}, benchmark {name!r}: no numeric 'median' or 'data' ({exc}); "
            "give an unedited save"
        ) from exc
    return Benchmark(name, median, rounds)


def _machine(info: object) -> tuple[Any, ...]:
    if not isinstance(info, dict):
        return ()
    cpu = info.get("cpu")
    if not isinstance(cpu, dict):
        cpu = {}
    return (
        info.get("node"),
        info.get("machine"),
        cpu.get("brand_raw"),
        cpu.get("count"),
    )
