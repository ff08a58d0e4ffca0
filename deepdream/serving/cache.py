"""A small, bounded, thread-safe cache of things that are expensive to build.

Contract:
- ``LruCache(maxsize)`` keeps at most ``maxsize`` entries; the least recently used goes first.
- ``get_or_build(key, build)`` returns the cached value for ``key``, or calls ``build()`` and
  keeps what it returns. When several threads ask for the same missing key at once, ``build``
  runs once and all of them get its value; different keys build concurrently. A ``build`` that
  raises leaves nothing behind, and the next caller tries again.
- ``values()`` is a snapshot of what is cached, most recently used last.
A long-running server that sees many choices (models, layer sets) therefore holds a bounded
number of networks and traced steps, never one per choice ever made.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LruCache(Generic[V]):
    """See the module docstring."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("A cache must hold at least one entry.")
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def values(self) -> tuple[V, ...]:
        """What is cached now, least recently used first."""
        with self._lock:
            return tuple(self._entries.values())

    def get_or_build(self, key: Hashable, build: Callable[[], V]) -> V:
        """The value for ``key``, built once by ``build()`` if it is not cached."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            # One lock per key being built: a second caller for the same key waits for the
            # first one's value instead of building the same network again.
            key_lock = self._building.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    return self._entries[key]
            try:
                value = build()
            except BaseException:
                with self._lock:
                    self._forget_builder(key, key_lock)
                raise
            with self._lock:
                # Kept before the key's build lock is dropped, so a caller arriving in
                # between finds the value instead of building it again.
                self._entries[key] = value
                self._entries.move_to_end(key)
                while len(self._entries) > self.maxsize:
                    self._entries.popitem(last=False)
                self._forget_builder(key, key_lock)
            return value

    def _forget_builder(self, key: Hashable, key_lock: threading.Lock) -> None:
        if self._building.get(key) is key_lock:
            del self._building[key]
