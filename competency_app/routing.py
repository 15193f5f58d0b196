"""URL converters: an `<int:…>` id beyond what the database can hold is a 404, not a 500."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

# Primary keys are INTEGER columns: 32-bit on PostgreSQL (SQLite's 64-bit is wider). A larger
# value cannot name a row, and would make PostgreSQL raise "out of range" (or SQLite overflow
# at 2**63), so it never reaches a query.
MAX_ID = 2**31 - 1


class BoundedIntegerConverter(IntegerConverter):
    """Werkzeug's `int` converter, refusing (404) values above `MAX_ID` unless told otherwise."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - Werkzeug's argument name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def parse_id(raw: str | None) -> int | None:
    """A number typed in a query string or form (ASCII digits, 1 to `MAX_ID`), else None."""
    if not raw or len(raw) > 10 or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def register_converters(app: Flask) -> None:
    """Replace `int` before any route is added, so every `<int:…>` rule is bounded."""
    app.url_map.converters["int"] = BoundedIntegerConverter
