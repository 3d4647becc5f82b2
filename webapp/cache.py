"""A small per-process cache with a time to live, safe to share between threads.

``cachetools.TTLCache`` expires and evicts entries as it is read and written, and it is not
thread-safe: two threads expiring the same entry at once can raise KeyError. Every use goes
through one lock here (gunicorn's threads, the dev server's threads).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import TTLCache

V = TypeVar("V")


class LockedTTLCache(Generic[V]):
    """At most ``maxsize`` entries (least recently used out first), each for ``ttl_s`` seconds."""

    def __init__(self, maxsize: int, ttl_s: float) -> None:
        self._cache: TTLCache[Hashable, V] = TTLCache(maxsize=maxsize, ttl=ttl_s)
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            return self._cache.get(key)

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._cache[key] = value

    def drop_where(self, predicate: Callable[[V], bool]) -> None:
        """Remove every live entry whose value ``predicate`` accepts."""
        with self._lock:
            for key in [k for k, v in self._cache.items() if predicate(v)]:
                self._cache.pop(key, None)
