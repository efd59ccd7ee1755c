"""Closed-loop users of POST /predict, single rows and batches: `locust -f` this file or its folder."""

from mlgate.locust.users import BatchUser, SingleRowUser

__all__ = ["BatchUser", "SingleRowUser"]
