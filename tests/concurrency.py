"""Run one call from several threads at the same instant, each on its own database
connection (what several worker processes do when a periodic job is due everywhere)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connections

T = TypeVar("T")


def at_the_same_instant(call: Callable[[], T], workers: int = 3) -> list[T]:
    """The results of `call` run by `workers` threads released together by a barrier."""
    barrier = threading.Barrier(workers)
    results: list[T] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(call())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
