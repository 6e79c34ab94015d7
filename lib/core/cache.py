"""A small thread-safe cache of computed answers, bounded in entries.

For answers that are costly to compute and keyed by everything they depend on
(including a data version, so a write makes a new key rather than needing an
invalidation call): the least recently used entry goes when the cache is full.
Keep one per ``Database`` (``db.cached(name, lambda: LRUCache(n))``), never one per
module: a process may open several files (tests do). ``versioned`` does that for answers
read in a transaction, keyed by the data version that transaction sees (analytics, the
home page's lists).
"""
from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable, TypeVar

from lib.core import audit

T = TypeVar("T")


class LRUCache:
    def __init__(self, maxsize: int):
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            if key not in self._entries:
                return default
            self._entries.move_to_end(key)
            return self._entries[key]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def answer(db, name: str, size: int, key: Hashable, compute: Callable[[], T | None], *,
           keep: bool = True) -> T | None:
    """``compute()`` for ``key`` (which holds everything the answer depends on, a data
    version included), from ``db``'s cache ``name`` (``size`` entries) if it was computed
    before; kept there unless ``keep`` is false or it is None (no answer). A copy: the
    caller may change what it gets; the cached answer is shared by every session."""
    cache = db.cached(name, lambda: LRUCache(size))
    found = cache.get(key) if keep else None
    if found is None:
        found = compute()
        if keep and found is not None:
            cache.put(key, found)
    return copy.deepcopy(found)


def versioned(db, name: str, size: int, cur, key: tuple, compute: Callable[[], T], *, keep: bool = True) -> T:
    """``answer`` for ``key`` and the data version ``cur``'s transaction sees
    (``lib.core.audit.data_version``); ``compute`` reads through ``cur``."""
    return answer(db, name, size, (*key, audit.data_version(cur)), compute, keep=keep)
