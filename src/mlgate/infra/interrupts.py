"""SIGINT and SIGTERM end every command the same way: children stopped, temp files gone, one line.

The entry point installs the handlers before anything else is imported. Both signals then raise
``Interrupted``, a BaseException, so no ``except Exception`` swallows it and every ``finally`` runs
(temporary folders are removed there). Children run in process groups of their own and are ended
with the group. A command that has finished something calls ``keep()``, so the last line says what
survived (docs/design.md, "Signals").
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Any

from mlgate.infra.errors import MlgateError

_kept: dict[str, str] = {}
_seen: list[int] = []  # the signal that arrived, if one did
_holding: list[bool] = []  # inside deferred() sections
_raised: list[bool] = []  # a held signal was raised already
_handled: list[bool] = []  # an Interrupted reached a handler that turned it into an exit code


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: unwind, clean up, exit 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + signum


def _raise(signum: int, frame: FrameType | None) -> None:
    # A second signal while cleaning up must not cut the cleanup short: the first one decides.
    if _seen:
        return
    _seen.append(signum)
    if _holding:
        return  # raised when the held section ends
    _raised.append(True)
    raise Interrupted(signum)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold a signal during a short section that must not be cut in half (a rename, a cleanup);
    it is raised when the section ends."""
    _holding.append(True)
    try:
        yield
    finally:
        _holding.pop()
    if _seen and not _holding and not _raised:
        _raised.append(True)
        raise Interrupted(_seen[0])


def raise_swallowed() -> None:
    """Raise again a signal that arrived but never reached a handler: code it interrupted caught it
    (a library's broad ``except`` while importing), and the command must still end as interrupted."""
    if _seen and not _handled:
        raise Interrupted(_seen[0])


def reset() -> None:
    """Forget what an earlier command in this process kept (tests call ``main`` many times)."""
    for state in (_kept, _seen, _holding, _raised, _handled):
        state.clear()


def install() -> None:
    """Turn SIGINT and SIGTERM into ``Interrupted`` in this process."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _raise)


def exit_code(exc: BaseException) -> int:
    """130 for SIGINT (and a plain KeyboardInterrupt), 143 for SIGTERM."""
    _handled.append(True)
    return exc.exit_code if isinstance(exc, Interrupted) else 128 + signal.SIGINT


def keep(what: str, key: str = "") -> None:
    """Record a result that is complete and stays, e.g. 'the report in results/reports/x'; a later
    call with the same ``key`` replaces the earlier words."""
    _kept[key or what] = what


def message() -> str:
    """The one line printed on an interrupt."""
    return f"interrupted; kept {'; '.join(_kept.values())}" if _kept else "interrupted; nothing was written"


def run_child(
    command: list[str], timeout: float, what: str, **options: Any
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run`` with captured text output, in a process group that ends with it.

    On a signal, an error or the ``timeout`` bound, the whole group (locust's worker processes,
    uvicorn's workers) is stopped before this returns or raises.
    """
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **options,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        stop_group(process)
        with suppress(subprocess.TimeoutExpired, OSError, ValueError):
            process.communicate(timeout=5)
        raise MlgateError(f"{what} ran past its bound of {timeout:g} s and was stopped") from exc
    except BaseException:
        stop_group(process)
        with suppress(subprocess.TimeoutExpired, OSError, ValueError):
            process.communicate(timeout=5)  # closes the pipes
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def stop_group(process: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """SIGTERM to the child's process group, SIGKILL after ``grace`` seconds, then reap the child."""
    for signum, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 30.0)):
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signum)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
