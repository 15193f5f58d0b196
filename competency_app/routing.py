"""URL converters: an `<int:…>` id beyond what the database can hold is a 404, not a 500."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

# Primary keys are INTEGER columns: 32-bit on PostgreSQL (SQLite's 64-bit is wider). A larger
# value cannot name a row, and would make PostgreSQL raise "out of range" (or SQLite overflow
# at 2**63), so it never reaches a query.
MAX_ID = 2**31 - 1


def _up_to(limit: int) -> str:
    """A regular expression matching exactly the decimal numbers 0..`limit` (no leading 0s)."""
    digits = str(limit)
    shorter = f"[0-9]{{1,{len(digits) - 1}}}|" if len(digits) > 1 else ""
    same_length = []
    for i, digit in enumerate(digits):
        rest = len(digits) - i - 1
        low = "1" if i == 0 and len(digits) > 1 else "0"
        if int(digit) > int(low):
            tail = f"[0-9]{{{rest}}}" if rest else ""
            same_length.append(f"{digits[:i]}[{low}-{int(digit) - 1}]{tail}")
    same_length.append(digits)
    return f"(?:{shorter}{'|'.join(same_length)})"


class BoundedIntegerConverter(IntegerConverter):
    """Werkzeug's `int` converter, refusing (404) values above `MAX_ID` unless told otherwise.

    The bound is in the regular expression too: Werkzeug matches a URL's shape before it
    converts, so a value refused only on conversion would let a rule of the same shape but
    another method answer 405 instead of 404.
    """

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - Werkzeug's argument name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
        if self.max is not None and not kwargs.get("signed") and self.fixed_digits == 0:
            self.regex = _up_to(self.max)


def parse_id(raw: str | None) -> int | None:
    """A number typed in a query string or form (ASCII digits, 1 to `MAX_ID`), else None."""
    if not raw or len(raw) > 10 or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def register_converters(app: Flask) -> None:
    """Replace `int` before any route is added, so every `<int:…>` rule is bounded."""
    app.url_map.converters["int"] = BoundedIntegerConverter
