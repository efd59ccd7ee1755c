"""The one error type users see: a message that names the file, column or flag, and an exit code."""

from __future__ import annotations

# Exit codes shared by every command (docs/design.md: 0 ok, 1 regression, 2 bad input; a signal
# gives 128 + its number: 130 for SIGINT, 143 for SIGTERM, see mlgate.infra.interrupts).
EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_USAGE = 2


class MlgateError(Exception):
    """A user-facing problem: printed as one line, never as a traceback (unless -v)."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type when it has none): fits a one-line error."""
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
