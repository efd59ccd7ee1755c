"""The console script: signal handlers first, then everything else (docs/design.md, "Signals")."""

from __future__ import annotations

import sys

from mlgate.infra import interrupts


def run() -> None:
    """`mlgate ...`: a signal at any moment, even while importing, ends in one line and 130/143."""
    interrupts.install()
    try:
        from mlgate.cli import main

        code = main()
    except (interrupts.Interrupted, KeyboardInterrupt) as exc:
        sys.stderr.write(f"error: {interrupts.message()}\n")
        code = interrupts.exit_code(exc)
    sys.exit(code)
