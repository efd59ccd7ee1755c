"""Training: wall time, CPU time and peak memory of one fit (mlgate's suite)."""

from mlgate.asv_suite.training import Training, TrainingCPU

__all__ = ["Training", "TrainingCPU"]
