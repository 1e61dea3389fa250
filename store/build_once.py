"""A per-process cache whose values are built once per key, even when many threads ask at the same time.

Both the rendered-view cache of the pages (``web.view_cache``) and the placed-incident tables
(``store.incidents.placed_incidents``) are keyed by a data version, so a cached value is never stale; what
they share is the locking: one lock guards the table, and a lock per key being built makes the other threads
asking for that key wait for the first one's result instead of building it again (a thundering herd of
identical 0.5 s builds under load). This is the "single-flight" pattern of Go's ``golang.org/x/sync/singleflight``
combined with an LRU bound, as :func:`functools.lru_cache` keeps it.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable


class BuildOnceCache:
    """A thread-safe mapping ``key -> value`` filled by ``build()`` once per key.

    Parameters
    ----------
    max_entries : int or None
        Least recently used entries beyond this many are dropped (None: no bound). Read again at every insert,
        so a caller (or a test) may change it on the instance.
    """

    def __init__(self, max_entries: int | None = None):
        self.max_entries = max_entries
        self._values: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict = {}

    def get(self, key: Hashable, build: Callable[[], object], *, evict: Callable[[Hashable], bool] | None = None):
        """The value of ``key``, calling ``build()`` when it is missing; concurrent callers of the same key
        wait for one build. ``evict(other_key)``, called when the new value is stored, names entries that
        the new one makes obsolete (an older data version of the same database). A build that raises stores
        nothing, and the next caller tries again."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            gate = self._building.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            try:
                value = build()
            except BaseException:
                with self._lock:
                    self._building.pop(key, None)
                raise
            with self._lock:
                if evict is not None:
                    for old in [k for k in self._values if k != key and evict(k)]:
                        del self._values[old]
                self._values[key] = value
                self._values.move_to_end(key)
                while self.max_entries is not None and len(self._values) > self.max_entries:
                    self._values.popitem(last=False)
                self._building.pop(key, None)
            return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._values
