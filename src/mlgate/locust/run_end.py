"""How a run ends: after --requests requests or the run time, with nothing lost on the way out.

A run sized in requests holds the same evidence on a fast and a slow machine; the run time stays the
bound. With ``--processes N`` locust's own ending loses requests: the master sends "quit" and waits a
fixed 0.5 s for the workers' last statistics, while a worker may spend seconds finishing its users,
so locust's counts fell short of the raw samples on a busy machine. Here the master owns the end of
a distributed run: it asks every worker to stop its users and write its samples, waits for each to
say so, then for one more statistics report from each (workers report every few seconds), and only
then quits. Open-loop shapes are single-process (their schedule is per process), so this covers the
closed-loop users.

And locust closes its CSV files at shutdown while its CSV-writing greenlet lives on; the master of a
distributed run then waits for its workers, the writer wakes and dies on "I/O operation on closed
file". The writer is ended before the files close, and the final tables written once by us.
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any, ClassVar

import gevent
from locust import events
from locust.env import Environment
from locust.runners import WORKER_REPORT_INTERVAL, MasterRunner, WorkerRunner

log = logging.getLogger("mlgate.locust")
FINISH, FINISHED = "mlgate_finish", "mlgate_finished"
POLL_SECONDS = 0.2


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    parser.add_argument_group("mlgate run end").add_argument(
        "--requests",
        type=int,
        default=0,
        help="End the run once this many requests are done (0: the run time alone ends it)",
    )


class Ending:
    """What the master knows about the end of a distributed run."""

    run_seconds: ClassVar[float] = 0.0
    finished: ClassVar[set[str]] = set()
    reported: ClassVar[dict[str, float]] = {}
    started: ClassVar[bool] = False


@events.init.add_listener
def _prepare(environment: Environment, **_: Any) -> None:
    runner, options = environment.runner, environment.parsed_options
    if isinstance(runner, WorkerRunner):
        runner.register_message(FINISH, _worker_finish, concurrent=True)
    elif isinstance(runner, MasterRunner) and options is not None and environment.shape_class is None:
        # The master ends the run itself (see the module docstring), so locust's timer must not.
        Ending.run_seconds, options.run_time = float(options.run_time or 0), None
        runner.register_message(FINISHED, lambda environment, msg: Ending.finished.add(msg.node_id))


@events.worker_report.add_listener
def _report(client_id: str, data: Any, **_: Any) -> None:
    Ending.reported[client_id] = time.monotonic()


@events.test_start.add_listener
def _watch(environment: Environment, **_: Any) -> None:
    """Start the watcher that ends the run (master or single process)."""
    runner, options = environment.runner, environment.parsed_options
    if isinstance(runner, WorkerRunner) or options is None or Ending.started:
        return
    limit = int(getattr(options, "requests", 0) or 0)
    if limit or isinstance(runner, MasterRunner):
        Ending.started = True
        gevent.spawn(_watcher, environment, limit)


def _watcher(environment: Environment, limit: int) -> None:
    runner = environment.runner
    assert runner is not None
    began = time.monotonic()
    while True:
        gevent.sleep(POLL_SECONDS)
        done = limit and environment.stats.total.num_requests >= limit
        timed_out = Ending.run_seconds and time.monotonic() - began >= Ending.run_seconds
        if done or timed_out:
            break
    log.info("ending the run: %s", "request limit reached" if done else "run time reached")
    if isinstance(runner, MasterRunner):
        _finish_workers(runner)
    runner.quit()


def _finish_workers(runner: MasterRunner) -> None:
    """Stop every worker's users, wait for their samples and their last statistics."""
    workers = {client.id for client in runner.clients.all}
    runner.send_message(FINISH)
    asked = time.monotonic()
    bound = asked + runner.environment.stop_timeout + 3 * WORKER_REPORT_INTERVAL + 5
    while not workers <= Ending.finished and time.monotonic() < bound:
        gevent.sleep(POLL_SECONDS)
    stopped = time.monotonic()
    while time.monotonic() < bound and any(Ending.reported.get(w, 0.0) <= stopped for w in workers):
        gevent.sleep(POLL_SECONDS)
    missing = sorted(w for w in workers if Ending.reported.get(w, 0.0) <= stopped)
    if missing:
        log.warning("no final statistics from workers %s: locust's counts may fall short", missing)


def _worker_finish(environment: Environment, msg: Any) -> None:
    """Worker: stop the users (their samples are written on test_stop), then tell the master."""
    runner = environment.runner
    assert runner is not None
    runner.stop()
    runner.send_message(FINISHED)


@events.quit.add_listener
def _end_csv_writer(**_: Any) -> None:
    """End locust's CSV-writing greenlet before locust closes its files, then write the final tables.

    The writer refreshes the files once a second, so a run shorter than that (or its last second)
    would otherwise be missing from them.
    """
    for obj in gc.get_objects():
        run = getattr(obj, "_run", None) if isinstance(obj, gevent.Greenlet) else None
        if getattr(run, "__name__", "") != "stats_writer":
            continue
        obj.kill(block=True)
        _write_final_tables(getattr(run, "__self__", None))


def _write_final_tables(writer: Any) -> None:
    """Rewrite the request, failure and exception tables with the run's final statistics."""
    tables = (
        ("requests_csv_filehandle", "requests_csv_writer", "requests_csv"),
        ("failures_csv_filehandle", "failures_csv_writer", "failures_csv"),
        ("exceptions_csv_filehandle", "exceptions_csv_writer", "exceptions_csv"),
    )
    for handle_name, writer_name, method in tables:
        handle = getattr(writer, handle_name, None)
        if handle is None or handle.closed:
            log.warning("locust's CSV writer changed shape: its final %s table was not rewritten", method)
            continue
        handle.seek(0)
        getattr(writer, method)(getattr(writer, writer_name))
        handle.truncate()
        handle.flush()
