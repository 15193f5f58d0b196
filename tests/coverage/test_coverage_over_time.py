"""Coverage over time from one read of the history equals coverage as at each moment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from competency_app.accounts import services as accounts
from competency_app.assessments.models import Assessment, ValueReview, ValueReviewOutcome
from competency_app.coverage import services
from competency_app.coverage.charts import over_time_moments
from competency_app.extensions import db
from competency_app.framework.services import current_version
from tests.coverage.test_coverage import (
    MIN_HOLDERS,
    NOW,
    RULES,
    _set_rule,
    _wipe_ratings,
    _write_history,
    histories,
    holdings,
    team_world,  # noqa: F401 - the fixture, found by pytest in this module
)
from tests.factories import commit


def _picture(cov: services.TeamCoverage) -> dict:
    """Everything the rule decides: counts, the statuses and reasons, the values."""
    return {
        "members": [m.id for m in cov.members],
        "counts": cov.counts,
        "elements": [(e.element.key, e.status, e.why) for e in cov.elements],
        "skills": [(s.skill.key, s.status, s.why) for s in cov.skills],
        "values": (cov.values.status, sorted(cov.values.met)),
    }


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    history=histories(max_days=600, max_size=120),
    holdings=holdings(max_days=500, max_size=24),
    reviewed=st.lists(st.sampled_from([None, "evidenced", "discuss"]), max_size=120),
    min_holders=MIN_HOLDERS,
    rule=RULES,
    leaving_in=st.one_of(st.none(), st.integers(-400, 30)),
)
@pytest.mark.usefixtures("team_world")
def test_over_time_equals_each_moment(
    app, history, holdings, reviewed, min_holders, rule, leaving_in
):
    app.config["FROZEN_NOW"] = NOW
    with app.app_context():
        _wipe_ratings()
        version = current_version()
        _set_rule(version, rule, min_holders)
        version = current_version(structure=True)
        team = db.session.scalar(select(accounts.Team).where(accounts.Team.slug == "north"))
        people = services.team_practitioners(team)
        people[3].leaving_date = None if leaving_in is None else NOW.date() + timedelta(leaving_in)
        supervisor = accounts.user_by_email("sue.super@example.nhs.uk")
        skills = [s for c in version.competencies for e in c.elements for s in e.skills]
        elements = [e for c in version.competencies for e in c.elements]
        for person, element_i, level, days_ago in holdings:
            history = history + [
                (person, skills.index(skill), level, days_ago)
                for skill in elements[element_i].skills
            ]
        _write_history(version, people, supervisor, history)
        # some of the assessments carry the supervisor's review of every value: all
        # evidenced (the values sign-off), or one to discuss further (no sign-off)
        assessments = db.session.scalars(select(Assessment).order_by(Assessment.id)).all()
        for assessment, outcome in zip(assessments, reviewed, strict=False):
            if outcome is None:
                continue
            for n, value in enumerate(version.values):
                db.session.add(
                    ValueReview(
                        assessment_id=assessment.id,
                        value_id=value.id,
                        outcome=ValueReviewOutcome.DISCUSS
                        if outcome == "discuss" and n == 0
                        else ValueReviewOutcome.EVIDENCED,
                        reviewed_by_id=supervisor.id,
                        reviewed_at=assessment.validated_at,
                    )
                )
        commit()
        first = min((a.validated_at for a in assessments), default=None)
        if first is None:
            return
        moments = over_time_moments(first, NOW)
        together = services.coverage_over_time(team, version, moments)
        one_by_one = [
            services.coverage_for_team(team, version, moment, cached=False) for moment in moments
        ]
        assert [_picture(c) for c in together] == [_picture(c) for c in one_by_one]
        assert len(together) == len(moments)
        db.session.remove()
