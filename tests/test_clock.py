"""The app's day is London's: late on a summer evening in UTC it is already tomorrow."""

from __future__ import annotations

from datetime import UTC, date, datetime

from competency_app.accounts.models import Role
from competency_app.clock import today
from competency_app.common.dates import london_day
from competency_app.framework.services import current_version
from competency_app.training.services import AssignmentError, assign_module
from tests.factories import make_team, make_user


def test_today_is_the_london_date(app):
    with app.app_context():
        app.config["FROZEN_NOW"] = datetime(2026, 7, 14, 23, 30, tzinfo=UTC)  # BST
        assert today() == date(2026, 7, 15)
        app.config["FROZEN_NOW"] = datetime(2026, 7, 14, 22, 59, tzinfo=UTC)
        assert today() == date(2026, 7, 14)
        app.config["FROZEN_NOW"] = datetime(2026, 1, 14, 23, 30, tzinfo=UTC)  # GMT
        assert today() == date(2026, 1, 14)
        app.config["FROZEN_NOW"] = None
    assert london_day(datetime(2026, 3, 29, 23, 0, tzinfo=UTC)) == date(2026, 3, 30)
    assert london_day(datetime(2026, 10, 25, 23, 0, tzinfo=UTC)) == date(2026, 10, 25)


def test_a_due_date_of_the_london_day_is_accepted_late_in_the_utc_evening(app, framework):
    """At 23:30 UTC in summer, "today" for a due date is the London day (the next UTC day)."""
    app.config["FROZEN_NOW"] = datetime(2026, 7, 14, 23, 30, tzinfo=UTC)
    try:
        with app.app_context():
            team = make_team("north")
            manager = make_user("max.manager", Role.MANAGER, team=team)
            person = make_user("pat.prac", Role.PRACTITIONER, team=team)
            version = current_version(structure=True)
            key = version.modules[0].key
            try:
                assign_module(person, key, date(2026, 7, 14), manager, version)
            except AssignmentError as error:
                assert error.field == "due_on"
            else:
                raise AssertionError("yesterday in London was accepted as a due date")
            assert assign_module(person, key, date(2026, 7, 15), manager, version).id
    finally:
        app.config["FROZEN_NOW"] = None
