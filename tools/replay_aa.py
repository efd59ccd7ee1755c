"""How far apart two servers of the same model answer in a shadow replay on this machine (A/A).

    python tools/replay_aa.py [--users 4] [--rounds 2]

Trains the reference model's v1 once, serves it twice on loopback, and replays its holdout (as CSV
rows, one record a request) through `mlgate replay` to the pair, then to the pair swapped, for
``--rounds`` rounds. Prints each replay's median latency per server and the paired estimate
`mlgate compare --replay` reports, and whether any answer or input check differed (none should).
docs/design.md ("shadow replay") quotes what it printed; that is why a replay's latency never fails.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np


def main() -> None:
    from mlgate.cli import main as mlgate
    from mlgate.model.tables import write_table
    from mlgate.model.workflow import train_artifact
    from mlgate.reference import holdout_frame
    from mlgate.serving import server as serve

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model, rows = folder / "v1", folder / "holdout.csv"
        train_artifact(None, "v1", model)
        write_table(holdout_frame(), rows)
        with serve.background(model) as a, serve.background(model) as b:
            for k in range(args.rounds):
                for name, first, second in (("A-B", a, b), ("B-A", b, a)):
                    out = folder / f"{name}-{k}"
                    hosts = ["--baseline-host", first, "--candidate-host", second]
                    mlgate(["-q", "replay", str(rows), *hosts, "--users", str(args.users), "--out", str(out)])
                    mlgate(["-q", "compare", "--replay", str(out), "--out", str(out / "report")])
                    print(_summary(name, out))


def _summary(name: str, folder: Path) -> str:
    pairs = [json.loads(line) for line in (folder / "pairs.jsonl").read_text().splitlines()]
    ms = {
        side: np.median([p[side]["latency_us"] for p in pairs]) / 1000 for side in ("baseline", "candidate")
    }
    checks = json.loads((folder / "report" / "report.json").read_text())["checks"]
    latency = next(c for c in checks if c["name"] == "replay latency")
    differ = [
        c["name"]
        for c in checks
        if c["status"] == "fail" or (c["name"] == "replay answers" and c["status"] != "pass")
    ]
    low, high = latency["ci"]
    return (
        f"{name}: {len(pairs)} pairs, median {ms['baseline']:.2f} ms (baseline) vs {ms['candidate']:.2f} ms "
        f"(candidate), paired {latency['change']:+.1%} (99% CI {low:+.1%} to {high:+.1%}); "
        f"differing: {', '.join(differ) or 'nothing'}"
    )


if __name__ == "__main__":
    main()
