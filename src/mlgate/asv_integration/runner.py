"""Run the project's asv suite in the current Python environment (``asv run -E existing``).

For quick, local evidence (``make demo``, tests): a private copy of asv.conf.json points results and
HTML somewhere else, so these runs never mix with the history `make asv` keeps in results/asv.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

from mlgate.infra import interrupts
from mlgate.infra.errors import MlgateError

# One process imports the suite and forks every benchmark round from it (mlgate.asv_suite's
# docstring); repos whose asv.conf.json predates mlgate writing launch_method get it too.
LAUNCH_METHOD = "forkserver"


def launch_method(config: dict[str, object]) -> str:
    """The repo's own choice when its asv.conf.json makes one, else the forkserver."""
    return str(config.get("launch_method") or LAUNCH_METHOD)


def private_config(repo: Path, folder: Path) -> Path:
    """asv.conf.json of ``repo`` with results, HTML and environments under ``folder``."""
    repo, folder = repo.resolve(), folder.resolve()
    source = repo / "asv.conf.json"
    if not source.is_file():
        raise MlgateError(f"{source} is missing; run `mlgate init` in your repo to write it")
    config = json.loads(source.read_text(encoding="utf-8"))
    config.update(
        launch_method=launch_method(config),
        repo=str(repo),
        benchmark_dir=str(repo / "benchmarks"),
        results_dir=str(folder / "results"),
        html_dir=str(folder / "html"),
        env_dir=str(folder / "env"),
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "asv.conf.json"
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


def asv(config: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 1800) -> str:
    """Run one asv command with ``config``; its output, or an error with the tail of it."""
    result = interrupts.run_child(
        [sys.executable, "-m", "asv", *args, "--config", str(config)],
        timeout=timeout,
        what=f"asv {args[0]}",
        cwd=config.parent,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
        raise MlgateError(f"asv {args[0]} failed (exit {result.returncode}): {' | '.join(tail)}")
    return result.stdout


def run_existing(
    repo: Path, folder: Path, bench: str, commit: str, env: dict[str, str] | None = None
) -> Path:
    """Benchmark ``commit``'s code as installed here, quick plan; returns asv's results folder."""
    folder = folder.resolve()
    config = private_config(repo, folder)
    machine = socket.gethostname()
    plan = {"MLGATE_ASV_PLAN": "quick", **(env or {})}
    asv(config, "machine", "--yes", "--machine", machine, env=plan)
    asv(
        config,
        "run",
        "-E",
        f"existing:{sys.executable}",
        "--set-commit-hash",
        commit,
        "--record-samples",
        "--machine",
        machine,
        *_bench(bench),
        env=plan,
    )
    return folder / "results"


def run_commits(repo: Path, commits: list[str], bench: str, env: dict[str, str] | None = None) -> Path:
    """Benchmark ``commits`` with the repo's own asv.conf.json (its environments, its results history),
    rounds interleaved across the commits, then publish the HTML; returns asv's results folder."""
    config = (repo / "asv.conf.json").resolve()
    settings = json.loads(config.read_text(encoding="utf-8"))
    machine = socket.gethostname()
    folder = config.parent / ".asv"
    folder.mkdir(exist_ok=True)
    hashes = folder / "check-commits.txt"
    hashes.write_text("\n".join(commits) + "\n", encoding="utf-8")
    asv(config, "machine", "--yes", "--machine", machine, env=env)
    asv(
        config,
        "run",
        "--record-samples",
        "--interleave-rounds",
        "--launch-method",
        launch_method(settings),
        "--machine",
        machine,
        *_bench(bench),
        f"HASHFILE:{hashes}",
        env=env,
        timeout=5400,
    )
    asv(config, "publish", env=env)
    return config.parent / str(settings.get("results_dir", "results"))


def _bench(regex: str) -> list[str]:
    return ["--bench", regex] if regex else []
