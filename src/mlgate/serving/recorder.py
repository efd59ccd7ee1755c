"""`mlgate serve --record FILE`: every /predict request and its answer, appended as JSON Lines.

The request path only puts a tuple on a queue; a writer thread encodes and appends the lines in
batches, so a slow disk never delays an answer (what remains is measured by
tools/serving_overhead.py and `make bench`'s ``test_record_overhead``). One line per request:

    {"time": 1765040000.123, "status": 200, "latency_ms": 1.84, "model_version": "v1",
     "request": {"records": [...]}, "response": {"predictions": [...], ...}}

A body that is not JSON (answered 422) is kept as ``request_text``. Recording stops after
``limit`` requests, and says so once in the server's log.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path
from typing import IO

import orjson

log = logging.getLogger(__name__)

MAX_RECORDED = 100_000  # default --record-max
_STOP = None
PAUSE = 0.02  # seconds between the writer's batches


class Recorder:
    """Appends what ``record`` is given to ``path`` from a thread of its own."""

    def __init__(self, path: Path, limit: int, model_version: str) -> None:
        self.path, self.limit, self.model_version = path, limit, model_version
        self.accepted = 0
        self._queue: queue.SimpleQueue[tuple[float, int, float, bytes, bytes] | None] = queue.SimpleQueue()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = path.open("ab")  # appends: an earlier recording is never lost
        self._thread = threading.Thread(target=self._write, name="mlgate-recorder", daemon=True)
        self._thread.start()

    def record(self, status: int, seconds: float, request: bytes, response: bytes) -> None:
        """Queue one request and its answer (cheap: no encoding here)."""
        if self.accepted >= self.limit:
            return
        self.accepted += 1
        self._queue.put((time.time(), status, seconds, request, response))
        if self.accepted == self.limit:
            log.warning("--record: %s reached --record-max (%d); recording stops", self.path, self.limit)

    def close(self) -> None:
        """Write what is queued, then close the file."""
        self._queue.put(_STOP)
        self._thread.join(timeout=30)
        self._file.close()

    def _write(self) -> None:
        # Woken every PAUSE rather than per request: one wake-up and one write for a batch, so the
        # writer takes the GIL from the request path as rarely as it can.
        while True:
            time.sleep(PAUSE)
            lines, stop = [], False
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                lines.append(self._line(*item))
            if lines:
                self._file.write(b"".join(lines))
                self._file.flush()  # a killed server loses at most the last PAUSE of requests
            if stop:
                return

    def _line(self, at: float, status: int, seconds: float, request: bytes, response: bytes) -> bytes:
        entry: dict[str, object] = {
            "time": round(at, 6),
            "status": status,
            "latency_ms": round(seconds * 1000, 3),
            "model_version": self.model_version,
        }
        try:
            if status != 200:  # a 200's body was parsed as JSON already; others may not be JSON
                orjson.loads(request)
            entry["request"] = orjson.Fragment(request)
        except orjson.JSONDecodeError:
            entry["request_text"] = request.decode("utf-8", errors="replace")
        entry["response"] = orjson.Fragment(response)  # the server's own JSON
        return orjson.dumps(entry) + b"\n"
