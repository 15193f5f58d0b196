"""The shape of a home-page section, shared by every feature that adds one.

A feature builds `HomeSection`s for the people it has something to say to; `ui/home.py`
lists the builders and renders the sections (a feature never imports `ui`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class HomeItem:
    """One line of a home list: what, where to go, and a status tag."""

    text: str
    href: str
    tag: str = ""
    tag_class: str = ""  # an NHS.UK tag colour class, e.g. "nhsuk-tag--red"
    when: date | None = None


@dataclass
class HomeSection:
    heading: str
    lines: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (text, href)
    # Dated things to act on, most urgent first.
    items: list[HomeItem] = field(default_factory=list)
