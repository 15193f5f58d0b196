"""The application's notion of "now", so tests can move the clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import current_app, has_app_context

from competency_app.common.dates import london_day


def utcnow() -> datetime:
    """Current UTC time; `app.config["FROZEN_NOW"]` (an aware datetime) overrides it."""
    if has_app_context():
        frozen = current_app.config.get("FROZEN_NOW")
        if frozen is not None:
            return frozen
    return datetime.now(UTC)


def today() -> date:
    """Today in Europe/London (the app's day), by the app's clock."""
    return london_day(utcnow())
