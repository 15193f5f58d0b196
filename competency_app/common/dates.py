"""Dates and times as people in the UK read them, in London time."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

Day = TypeVar("Day", date, datetime)


# Every date field of the app: a date input (it sends YYYY-MM-DD) whose hint shows the UK
# form, and the same form typed by hand where a browser has no date picker.
DATE_EXAMPLE = "17/03/2027"
DATE_HINT = f"For example, {DATE_EXAMPLE}"


def parse_day(text: str | None) -> date | None:
    """A day as the app's date fields take it: DD/MM/YYYY (or D/M/YYYY), or YYYY-MM-DD (what
    a date input sends), from 2000 to 2100; None for anything else."""
    text = (text or "").strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            day = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        return day if date(2000, 1, 1) <= day <= date(2100, 12, 31) else None
    return None


def date_error(what: str) -> str:
    """The refusal of a date field: 'Enter the closing date as a date, for example
    17/03/2027'."""
    return f"Enter {what} as a date, for example {DATE_EXAMPLE}"


def london_day(moment: datetime) -> date:
    """The calendar day in London at `moment` (an aware datetime): 23:30 UTC on a summer
    day is already the next day in London. Today is `clock.today()`."""
    return moment.astimezone(LONDON).date()


def add_months(moment: Day, months: int) -> Day:
    """`moment` moved by whole calendar months (back when negative), the day clamped to the
    month's last: 31 January + 1 month is 28 or 29 February."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


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


def how_long(since: datetime, now: datetime) -> str:
    """How long ago `since` was, in the largest sensible unit: '3 days', '5 weeks',
    '3 months' ('today' under a day)."""
    days = (now - since).days
    if days < 1:
        return "less than a day"
    if days < 14:
        return f"{days} day{'s' if days != 1 else ''}"
    if days < 61:
        return f"{days // 7} weeks"
    return f"{days * 12 // 365} months"
