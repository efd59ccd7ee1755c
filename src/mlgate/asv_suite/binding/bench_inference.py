"""Inference: time per predict call across batch sizes, and rows per second (mlgate's suite)."""

from mlgate.asv_suite.inference import Inference, Throughput

__all__ = ["Inference", "Throughput"]
