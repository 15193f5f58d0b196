"""Dates and times as people in the UK read them, in London time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def uk_date(value: date | datetime | None) -> str:
    """'22 November 2026' (UK local date for datetimes)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date()
    return f"{value.day} {value:%B %Y}"


def uk_datetime(value: datetime | None) -> str:
    """'22 November 2026 at 3:05pm' in UK local time."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    hour = local.hour % 12 or 12
    return f"{uk_date(local)} at {hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"
