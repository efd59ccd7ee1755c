"""`python -m mlgate` runs the command line."""

from mlgate.cli import run

run()
