"""Read the load-run folders `mlgate load` writes: one summary per run, in run order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlgate.evidence import LoadRuns
from mlgate.infra.errors import MlgateError
from mlgate.serving.locust_run import SUMMARY


def read_runs(folder: Path, flag: str) -> list[dict[str, Any]]:
    """Summaries of a run folder, or of every run folder directly inside ``folder``, by name."""
    if not folder.is_dir():
        raise MlgateError(f"{flag}: {folder} is not a folder; give a folder `mlgate load` wrote")
    paths = [folder / SUMMARY] if (folder / SUMMARY).is_file() else sorted(folder.glob(f"*/{SUMMARY}"))
    if not paths:
        raise MlgateError(
            f"{flag}: no {SUMMARY} in {folder} or its subfolders; run `mlgate load --out` first"
        )
    runs = []
    for path in paths:
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
            if "all" not in summary["endpoints"]:
                raise KeyError("endpoints.all")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise MlgateError(f"{flag}: {path} is not a load summary ({exc}); rerun `mlgate load`") from exc
        summary["_path"] = str(path.parent)
        runs.append(summary)
    design = _design(folder)
    if design.get("partial"):
        for summary in runs:
            summary["_partial"] = design
    return runs


def read_pair(baseline: Path, candidate: Path, flags: tuple[str, str]) -> LoadRuns:
    """Both sides' runs; ``flags`` name the two folders in errors."""
    return LoadRuns(read_runs(baseline, flags[0]), read_runs(candidate, flags[1]))


def _design(folder: Path) -> dict[str, Any]:
    """The interleaved design's load.json (next to baseline/ and candidate/), if there is one."""
    for path in (folder / "load.json", folder.parent / "load.json"):
        try:
            index = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        return index if isinstance(index, dict) else {}
    return {}
