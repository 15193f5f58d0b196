"""Charts as PNG or SVG: matplotlib on first use, one save path and one cache.

matplotlib (~50 MB, ~0.5 s to import) is imported on first use, so command-line jobs such as
the organisation workbook never pay for it; gunicorn imports it in the master before forking
(gunicorn.conf.py), so workers share it. Chart bytes are cached per process by a data-version
key the caller's feature builds (`assessments/profile.py::chart_key`,
`coverage/figures.py::chart_key`), so an unchanged chart is drawn once, not per request.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from functools import cache

from competency_app.common.caches import per_process_cache

MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
_CACHE: OrderedDict[tuple, bytes] = OrderedDict()
_CACHE_SIZE = 256
_LOCK = threading.Lock()
draw_count = 0  # how many charts were actually drawn (tests check the cache with it)


@cache
def figure_class():
    """matplotlib's Figure, with the Agg backend (no display, thread-safe per figure)."""
    import matplotlib  # noqa: PLC0415 - deferred: 0.5 s and 50 MB that jobs need not pay

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # noqa: PLC0415 - after choosing the backend

    return Figure


def plain(text: str) -> str:
    """Text safe for matplotlib: no control characters, no mathtext ("$" is literal)."""
    return "".join(ch for ch in str(text) if ch.isprintable()).replace("$", r"\$")


def save(figure, fmt: str) -> bytes:
    """The figure as `fmt` bytes; an SVG carries no date, so the same chart is the same bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buffer.getvalue()


def cached_chart(key: tuple, fmt: str, draw: Callable[[str], bytes]) -> bytes:
    """The chart for `key` in `fmt`, drawing it with `draw(fmt)` only when not cached."""
    global draw_count
    cache_key = (*key, fmt)
    with _LOCK:
        if cache_key in _CACHE:
            _CACHE.move_to_end(cache_key)
            return _CACHE[cache_key]
    with warnings.catch_warnings():
        # A name in a script the bundled font lacks draws as boxes: not worth a warning.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        data = draw(fmt)
    with _LOCK:
        draw_count += 1
        _CACHE[cache_key] = data
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return data


def clear_chart_cache() -> None:
    with _LOCK:
        _CACHE.clear()


per_process_cache("chart bytes", clear_chart_cache)
