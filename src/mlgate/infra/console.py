"""Where output goes: results to stdout, errors (red, one line) and progress to stderr."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.logging import RichHandler

out = Console()
err = Console(stderr=True)
verbose = False  # -v: every check in the terminal summary, not only the sections


def setup_logging(verbosity: int) -> None:
    """-q warnings only, default info, -v debug (and tracebacks for user errors)."""
    global verbose
    verbose = verbosity > 0
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.basicConfig(
        level=level,
        format="%(message)s",
        force=True,
        handlers=[RichHandler(console=err, show_path=False, show_time=False)],
    )


def error(message: str) -> None:
    """Print a user-facing error as one line."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True, markup=True)
