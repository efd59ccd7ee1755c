"""Soak `mlgate serve` (not a test): find the saturation rate with a step load, then serve the
reference model for --minutes at 80% of it with 10% bad payloads, and report errors, p99 over time
and the server's RSS every 10 s.

    .venv/bin/python tests/perf/soak.py [--minutes 10] [--out results/soak]

Pass: no error among good requests, every bad payload answered with its 4xx, no 5xx, and RSS growth
under 5% after the first minute (warm-up). The README records a run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from mlgate.infra import interrupts
from mlgate.serving.server import free_port

HERE = Path(__file__).parent
WARMUP_SECONDS = 60


def mlgate(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "mlgate", "-q", *args], check=True)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2):
            return True
    except OSError:
        return False


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def saturation(url: str, data: Path, out: Path) -> float:
    """The highest request rate the server sustained in a step load of single rows."""
    rates = "5,10,15,20,30,40,60,80"
    mlgate(
        "load", "--host", url, "--data", str(data), "-u", "40", "--step-rates", rates, "--step-seconds", "10",
        "--warmup", "0", "--cooldown", "0", "--max-error-rate", "1", "--out", str(out),
    )  # fmt: skip
    steps = json.loads((out / "summary.json").read_text())["steps"]["steps"]
    return max(step["achieved_rate"] for step in steps)


def soak(url: str, pid: int, data: Path, rate: float, minutes: float, out: Path) -> dict[str, Any]:
    users = max(4, math.ceil(rate))
    samples = out / "samples.csv"
    env = {
        **os.environ,
        "MLGATE_SOAK_DATA": str(data),
        "MLGATE_SOAK_RATE": str(rate),
        "MLGATE_SOAK_USERS": str(users),
        "MLGATE_SOAK_SAMPLES": str(samples),
    }
    memory: list[tuple[float, float]] = []
    started = time.time()
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            memory.append((time.time() - started, rss_mb(pid)))
            stop.wait(10)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    command = [sys.executable, "-m", "locust", "-f", str(HERE / "soak_users.py"), "--headless", "--host", url]
    command += ["-u", str(users), "-r", str(users), "-t", f"{int(minutes * 60)}s", "--only-summary"]
    command += ["--loglevel", "WARNING", "--stop-timeout", "10"]
    interrupts.run_child(command, timeout=minutes * 60 + 300, what="soak locust", env=env)
    stop.set()
    watcher.join()
    memory.append((time.time() - started, rss_mb(pid)))
    frame = pd.read_csv(samples)
    frame["minute"] = ((frame["start"] - frame["start"].min()) // 60).astype(int) + 1
    good, bad = frame[frame["kind"] == "good"], frame[frame["kind"] != "good"]
    after_warmup = [mb for t, mb in memory if t >= WARMUP_SECONDS]
    return {
        "rate": rate,
        "users": users,
        "minutes": minutes,
        "requests": len(frame),
        "achieved_rate": len(frame) / (frame["start"].max() - frame["start"].min()),
        "good": len(good),
        "good_errors": int((good["ok"] == 0).sum()),
        "bad": len(bad),
        "bad_wrong_status": int((bad["ok"] == 0).sum()),
        "bad_by_kind": {k: sorted(g["status"].unique().tolist()) for k, g in bad.groupby("kind")},
        "server_errors": int((frame["status"] >= 500).sum()),
        "p99_ms_by_minute": good.groupby("minute")["latency_ms"].quantile(0.99).round(1).to_dict(),
        "p50_ms": float(good["latency_ms"].median()),
        "p99_ms": float(good["latency_ms"].quantile(0.99)),
        "rss_mb": [(round(t), round(mb, 1)) for t, mb in memory],
        "rss_growth_after_warmup": max(after_warmup) / after_warmup[0] - 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path("results/soak"))
    args = parser.parse_args()
    interrupts.install()
    out = args.out / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True)
    mlgate("train", "--version", "v1", "--out", str(out / "model"))
    mlgate("data", "--out", str(out / "data"))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlgate", "serve", str(out / "model"), "--port", str(port)],
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while not answers(url):  # start-up: imports and the model load
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start (exit {server.poll()})")
            time.sleep(0.5)
        idle = rss_mb(server.pid)
        top = saturation(url, out / "data" / "holdout.csv", out / "steps")
        result = soak(url, server.pid, out / "data" / "holdout.csv", 0.8 * top, args.minutes, out)
        result.update(saturation_rate=top, rss_idle_mb=idle)
    finally:
        interrupts.stop_group(server)
    (out / "soak.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "rss_mb"}, indent=2))
    print("rss (s, MB):", result["rss_mb"])
    passed = (
        result["good_errors"] == 0
        and result["bad_wrong_status"] == 0
        and result["server_errors"] == 0
        and result["rss_growth_after_warmup"] < 0.05
    )
    print(f"soak {'passed' if passed else 'FAILED'}: {out / 'soak.json'}")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
