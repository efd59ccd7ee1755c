"""A locust user's connection to a second server: duet load and shadow replay send each body to two."""

from __future__ import annotations

from locust import FastHttpUser
from locust.contrib.fasthttp import FastHttpSession


def second_session(user: FastHttpUser, host: str) -> FastHttpSession:
    """A session to ``host`` with the user's own timeouts and retries, reporting to locust's stats."""
    return FastHttpSession(
        base_url=host.rstrip("/"),
        request_event=user.environment.events.request,
        user=user,
        network_timeout=user.network_timeout,
        connection_timeout=user.connection_timeout,
        max_retries=user.max_retries,
    )
