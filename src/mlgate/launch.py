"""The console script: signal handlers first, then everything else (docs/design.md, "Signals")."""

from __future__ import annotations

import gc
import sys

from mlgate.infra import interrupts


def run() -> None:
    """`mlgate ...`: a signal at any moment, even while importing, ends in one line and 130/143."""
    interrupts.install()
    try:
        from mlgate.cli import main

        # A SIGTERM while importing was caught inside a library's import and lost (the command then
        # ran to the end, exit 0, in about 1 run of 12 of tests/test_signals.py): ask before main()
        # forgets earlier signals, and again after it (commands import lazily).
        interrupts.raise_swallowed()
        code = main()
        interrupts.raise_swallowed()
    except (interrupts.Interrupted, KeyboardInterrupt) as exc:
        sys.stderr.write(f"error: {interrupts.message()}\n")
        code = interrupts.exit_code(exc)
    # At exit the interpreter's last garbage collections walk every object the libraries made at
    # import (0.1 s of a 1 s `mlgate compare` once pandas is loaded). The work is done and written
    # by now, so those objects are frozen out of the collector instead; atexit handlers still run
    # and modules are still torn down (docs/design.md, tool speed).
    gc.freeze()
    sys.exit(code)
