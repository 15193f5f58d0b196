"""Pages rendered once and reused, with holes where each request's own content goes.

A view that keeps a rendered page renders it inside `holes()`. There, the parts of the
layout that belong to one request — the header (the viewer's name and the sign-out form
with the session's token), the session's waiting messages and the inline script's nonce —
write a marker (`marker(name)`)
instead of their content, and `fill(page)` puts the request's own content in, asking the
filler each part registered (`filled_by`). A view can leave holes of its own and fill them
by name. A marker carries a random token made when the process starts: page text, all of
it escaped, cannot contain one by chance or by a user's design.

This module imports nothing of the features: the layout's parts register themselves
(`ui/views.py`, `ui/security.py`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import g
from markupsafe import Markup

_TOKEN = secrets.token_hex(8)
_FILLERS: dict[str, Callable[[], str]] = {}


def marker(name: str) -> Markup:
    """Where the part `name` goes: letters, digits and hyphens, safe in text and in an
    attribute's value alike."""
    return Markup(f"hole-{_TOKEN}-{name}")  # noqa: S704 - hex digits and a fixed name


def filled_by(name: str, filler: Callable[[], str]) -> None:
    """Register how the part `name` is made for the current request."""
    _FILLERS[name] = filler


def holes_open() -> bool:
    """Whether a page being rendered now is to be kept (its request's parts left out)."""
    return bool(g.get("page_holes"))


@contextmanager
def holes() -> Iterator[None]:
    """Render inside this to leave the registered parts as markers."""
    g.page_holes = True
    try:
        yield
    finally:
        g.page_holes = False


def fill(page: str, **parts: str) -> Markup:
    """`page` with every registered part made for this request, and each of `parts` (a
    view's own holes) put in by name."""
    for name, filler in _FILLERS.items():
        spot = marker(name)
        if spot in page:
            page = page.replace(spot, filler())
    for name, value in parts.items():
        page = page.replace(marker(name), value)
    return Markup(page)  # noqa: S704 - an autoescaping template's output and escaped parts
