"""Open-loop load (--rate, --step-rates); named explicitly, so plain folder runs are never reshaped."""

from mlgate.locust.open_loop import OpenLoopUser, StepRateShape

__all__ = ["OpenLoopUser", "StepRateShape"]
