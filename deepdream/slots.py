"""A limit on how many dreams run at once in one process, shared by every user of a server.

Contract:
- ``DreamSlots(limit)`` hands out at most ``limit`` slots at a time.
- ``slot(wait)`` is a context manager that takes a slot, calling ``wait()`` between short
  tries while all slots are busy (the caller shows a "waiting" message there, and may raise to
  give up: a user who leaves stops waiting). The slot is given back on exit, however the block
  ends: finished, stopped by the user, or failed.
- ``default_limit()`` sizes the limit for this machine (``DEEPDREAM_MAX_DREAMS`` overrides);
  ``shared_slots()`` is the one ``DreamSlots`` of this process, sized by it.
No threads of its own, no Streamlit, no TensorFlow.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

LIMIT_ENV = "DEEPDREAM_MAX_DREAMS"


def default_limit() -> int:
    """Concurrent dreams for this machine: ``$DEEPDREAM_MAX_DREAMS``, else cores // 2 (1..4).

    One dream already uses every core (TensorFlow parallelises each convolution), so more
    concurrent dreams only share the same cores and add memory.
    """
    configured = os.environ.get(LIMIT_ENV, "").strip()
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            pass
    return max(1, min(4, (os.cpu_count() or 2) // 2))


class DreamSlots:
    """At most ``limit`` holders at once; see the module docstring."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("There must be at least one dream slot.")
        self.limit = limit
        self._semaphore = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self._in_use = 0

    @property
    def in_use(self) -> int:
        """Slots taken right now."""
        with self._lock:
            return self._in_use

    @contextmanager
    def slot(
        self, wait: Callable[[], None] = lambda: None, interval: float = 0.25
    ) -> Iterator[None]:
        """Hold one slot for the duration of the ``with`` block."""
        while not self._semaphore.acquire(timeout=interval):
            wait()
        with self._lock:
            self._in_use += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_use -= 1
            self._semaphore.release()


@functools.lru_cache(maxsize=1)
def shared_slots() -> DreamSlots:
    """The process-wide slots every session of a server shares."""
    return DreamSlots(default_limit())
