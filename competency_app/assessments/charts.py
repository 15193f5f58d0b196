"""Self against validated levels, per element, as PNG or SVG.

matplotlib (~50 MB, ~0.5 s to import) is imported on first use, so command-line jobs such as
the organisation workbook never pay for it; gunicorn imports it in the master before forking
(gunicorn.conf.py), so workers share it. Charts are cached by a data-version key, so an
unchanged chart is drawn once, not per request.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections import OrderedDict
from functools import cache

MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
_CACHE: OrderedDict[tuple, bytes] = OrderedDict()
_CACHE_SIZE = 256
_LOCK = threading.Lock()
draw_count = 0  # how many charts were actually drawn (tests check the cache with it)


@cache
def figure_class():
    """matplotlib's Figure, with the Agg backend (no display, thread-safe per figure)."""
    # matplotlib costs ~30 MB and a second to import: only processes that draw pay for it.
    import matplotlib  # noqa: PLC0415 - imported on first use for memory and start-up time

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # noqa: PLC0415 - after use("Agg"), on first use

    return Figure


def plain(text: str) -> str:
    """Text safe for matplotlib: no control characters, no mathtext ("$" is literal)."""
    return "".join(ch for ch in str(text) if ch.isprintable()).replace("$", r"\$")


def cached_chart(key: tuple, fmt: str, draw) -> bytes:
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


def self_vs_validated(
    labels: list[str],
    self_levels: list[float | None],
    validated: list[float | None],
    max_level: int,
    title: str,
    fmt: str,
) -> bytes:
    """Grouped horizontal bars: mean self-rating and mean validated level per element."""
    figure = figure_class()(figsize=(8, 0.55 * len(labels) + 2.0), dpi=100)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    height = 0.38
    axes.barh(
        [p - height / 2 for p in positions],
        [v or 0 for v in self_levels],
        height,
        label="Self-rating (mean)",
        color="#41b6e6",
        edgecolor="#005eb8",
        hatch="//",
    )
    axes.barh(
        [p + height / 2 for p in positions],
        [v or 0 for v in validated],
        height,
        label="Validated (mean)",
        color="#005eb8",
    )
    axes.set_yticks(positions, [plain(label) for label in labels])
    axes.invert_yaxis()
    axes.set_xlim(0, max_level)
    axes.set_xticks(range(max_level + 1))
    axes.set_xlabel("Level")
    axes.set_title(plain(title))
    axes.grid(axis="x", alpha=0.3)
    axes.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.35 / max(1, len(labels) / 4)),
        ncol=2,
        fontsize="small",
        frameon=False,
    )
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buffer.getvalue()
