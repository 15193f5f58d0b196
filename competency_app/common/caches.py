"""Every per-process cache, emptied by one call.

Each cache registers how it is emptied when its module is imported (`per_process_cache`),
so this module imports nothing of the features. `clear_caches()` empties them all: the
tests call it after every test, and a process that has just restored the database would
(the README's restore recipe restarts the application, which starts with empty caches).

The caches (docs/architecture.md, "Caches"): loaded framework structures
(`framework/services.py`), coverage figures and version shapes (`coverage/figures.py`),
chart bytes (`charts.py`), the coverage page's matrix and gap cards, the rest of the page
and the what-if list (`coverage/fragments.py`), a team's training line
(`training/team_line.py`) and the page header, footer and skip link (`ui/views.py`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")

_CLEARERS: dict[str, Callable[[], None]] = {}


def per_process_cache(name: str, clear: Callable[[], None]) -> None:
    """Register a per-process cache under `name` with the function that empties it."""
    _CLEARERS[name] = clear


def registered_caches() -> list[str]:
    return sorted(_CLEARERS)


def clear_caches() -> None:
    """Empty every per-process cache (after a restore, and between tests)."""
    for clear in _CLEARERS.values():
        clear()


class BoundedCache(Generic[V]):
    """A least-recently-used map of at most `size` entries, safe across threads."""

    def __init__(self, size: int):
        self.size = size
        self.entries: OrderedDict[tuple, V] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> V | None:
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def put(self, key: tuple, value: V) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
