"""Every per-process cache, emptied by one call.

Each cache registers how it is emptied when its module is imported (`per_process_cache`),
so this module imports nothing of the features. `clear_caches()` empties them all: the
tests call it after every test, and a process that has just restored the database would
(the README's restore recipe restarts the application, which starts with empty caches).

The caches (docs/architecture.md, "Caches"): loaded framework structures
(`framework/services.py`), coverage figures and version shapes (`coverage/figures.py`),
chart bytes (`charts.py`).
"""

from __future__ import annotations

from collections.abc import Callable

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
