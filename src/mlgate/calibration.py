"""A/A history: how far old-vs-old comparisons stray on this machine, per metric and design.

Kept in ``results/calibration/<machine>.json`` as ``{design key: [d, ...]}`` (the newest 30), where d
is the worse-positive log ratio an A/A comparison measured. With five or more entries the comparator
judges that metric by the prediction interval of this history instead of the run-clustered t.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

from mlgate.checks.runs import MAX_HISTORY
from mlgate.infra import atomic
from mlgate.infra.errors import MlgateError
from mlgate.report import Finding

DEFAULT_FOLDER = Path("results/calibration")


def history_path(folder: Path, machine: str | None = None) -> Path:
    return folder / f"{machine or socket.gethostname()}.json"


def read_history(folder: Path = DEFAULT_FOLDER, machine: str | None = None) -> dict[str, list[float]]:
    """This machine's A/A history (empty when none was recorded)."""
    path = history_path(folder, machine)
    if not atomic.check_path(path, "--calibration").is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): [float(v) for v in values] for k, values in data["history"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise MlgateError(f"{path}: not an A/A history ({exc}); move it away and recalibrate") from exc


def record(
    findings: list[Finding], folder: Path = DEFAULT_FOLDER, machine: str | None = None
) -> dict[str, list[float]]:
    """Add the d of every judged A/A finding to the history; keep the newest 30 per key."""
    history = read_history(folder, machine)
    added = 0
    for finding in findings:
        sample = finding.aa_sample()
        if sample is None:
            continue
        key, d = sample
        history[key] = [*history.get(key, []), d][-MAX_HISTORY:]
        added += 1
    if not added:
        raise MlgateError("calibrate: the A/A evidence gave no judged metric; give at least 2 runs per side")
    path = history_path(folder, machine)
    atomic.write_text(
        path, json.dumps({"machine": path.stem, "history": history}, indent=2) + "\n", "--calibration"
    )
    return history
