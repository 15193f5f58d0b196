"""The one rule for the date a module was completed, used by every way in (the development
plan's form, the completions import): a completion is never dated after today (in London),
so a date typed a year ahead can never count as in date."""

from __future__ import annotations

from datetime import date

from competency_app.clock import today

FUTURE_COMPLETION = "Date completed must be today or in the past"


def completion_date_refusal(completed_on: date) -> str | None:
    """Why `completed_on` is refused (naming the field), or None when it is allowed."""
    return FUTURE_COMPLETION if completed_on > today() else None
