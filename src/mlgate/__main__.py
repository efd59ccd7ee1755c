"""`python -m mlgate` runs the command line."""

from mlgate.launch import run

run()
