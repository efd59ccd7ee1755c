"""Pin BLAS/OpenMP threads so timings are stable and floating-point results are bit-exact."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from threadpoolctl import threadpool_info, threadpool_limits

DEFAULT_THREADS = 1


@contextmanager
def pinned(threads: int | None = DEFAULT_THREADS) -> Iterator[dict[str, Any]]:
    """Limit every native thread pool to ``threads`` (None leaves them alone); yield the setting."""
    if threads is None:
        yield settings(None)
        return
    with threadpool_limits(limits=threads):
        yield settings(threads)


def settings(limit: int | None) -> dict[str, Any]:
    """The thread limit asked for and what each loaded native pool actually runs with."""
    pools = [
        {"api": p.get("internal_api"), "threads": p.get("num_threads"), "version": p.get("version")}
        for p in threadpool_info()
    ]
    return {"limit": limit, "pools": pools}


def pin_process(limit: int = DEFAULT_THREADS) -> None:
    """Limit native thread pools for the rest of this process (a server worker)."""
    threadpool_limits(limits=limit)
