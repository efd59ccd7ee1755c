"""Instructions per predict call and per fit, counted by valgrind's callgrind (mlgate's suite).

A machine without valgrind lists them as n/a; Debian's ``valgrind`` package provides it.
"""

from mlgate.asv_suite.instructions import FitInstructions, PredictInstructions

__all__ = ["FitInstructions", "PredictInstructions"]
