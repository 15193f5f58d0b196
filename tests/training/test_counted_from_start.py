"""Organisation-wide counts of keyworkers (required training, the API's team list) count a
person from their start date, as team coverage does: one rule (`accounts.counted_on`)."""

from __future__ import annotations

from datetime import timedelta

from competency_app.accounts.models import Role
from competency_app.clock import today, utcnow
from competency_app.training.required import organisation_keyworkers
from tests.factories import commit, make_team, make_user


def test_a_keyworker_who_starts_next_month_is_not_counted_yet(app, framework):
    with app.app_context():
        north = make_team("north")
        make_user("kim.now", Role.PRACTITIONER, team=north)
        later = make_user("lee.later", Role.PRACTITIONER, team=north)
        later.start_date = today() + timedelta(days=30)
        commit()
        assert [p.name for p in organisation_keyworkers()] == ["Kim Now"]
        in_six_weeks = utcnow() + timedelta(days=42)
        assert [p.name for p in organisation_keyworkers(in_six_weeks)] == ["Kim Now", "Lee Later"]
