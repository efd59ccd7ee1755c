"""Duet load (both servers, each body to both): named explicitly, so plain folder runs never duet."""

from mlgate.locust.duet import DuetBatchUser, DuetSingleRowUser

__all__ = ["DuetBatchUser", "DuetSingleRowUser"]
