"""The coverage's core-values figure reads the supervisor's review of the reflections: a
person counts when their latest validated assessment's review says evidenced for every
value (examples through the real services, and a brute-force count)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from competency_app.accounts import services as accounts
from competency_app.assessments import services as assessments
from competency_app.assessments.models import Assessment, Status, ValueReview, ValueReviewOutcome
from competency_app.coverage import services
from competency_app.extensions import db
from competency_app.framework.services import current_version
from tests.coverage.test_coverage import NOW, team_world  # noqa: F401 - the fixture
from tests.factories import commit, reflect_on_values


def _kw(n: int):
    return accounts.user_by_email(f"kw{n}@example.nhs.uk")


def _cycle(person, supervisor, outcomes: dict[int, str], sign: bool = True) -> int:
    """Rate, reflect, submit; the supervisor checks every element, reviews the values with
    `outcomes` (value index -> outcome, evidenced otherwise) and signs off when `sign`."""
    assessment = assessments.start_assessment(person)
    for element in assessments.elements_of(assessment.framework_version):
        ratings = {s.id: (2, "") for s in element.skills}
        assessments.save_element(assessment, person, element, ratings, None)
    reflect_on_values(assessment, person)
    assessments.submit(assessment, person, None)
    for element in assessments.elements_of(assessment.framework_version):
        assessments.save_element_decisions(assessment, supervisor, element, {}, None)
    reviews = {
        value.id: (outcomes.get(n, "evidenced"), "talk it through")
        for n, value in enumerate(assessment.framework_version.values)
    }
    assessments.review_values(assessment, supervisor, reviews, None)
    if sign:
        assessments.sign_off(assessment, supervisor, None)
    commit()
    return assessment.id


def _brute_force(members: list[int], now) -> set[int]:
    """Each member's latest validated assessment in date, read row by row."""
    version = current_version()
    met = set()
    for person in members:
        validated = [
            a
            for a in db.session.scalars(select(Assessment).where(Assessment.person_id == person))
            if a.status == Status.VALIDATED and a.validated_at <= now
        ]
        if not validated:
            continue
        latest = max(validated, key=lambda a: a.validated_at)
        if version.settings.validity.valid_until(latest.validated_at) <= now:
            continue
        reviews = db.session.scalars(
            select(ValueReview).where(ValueReview.assessment_id == latest.id)
        ).all()
        evidenced = {r.value_id for r in reviews if r.outcome is ValueReviewOutcome.EVIDENCED}
        if version.values and evidenced >= {v.id for v in version.values}:
            met.add(person)
    return met


def test_values_figure_follows_the_latest_review(app, team_world):  # noqa: F811
    app.config["FROZEN_NOW"] = NOW - timedelta(days=30)
    with app.app_context():
        sue = accounts.user_by_email("sue.super@example.nhs.uk")
        _cycle(_kw(0), sue, {})  # every value evidenced: counts
        _cycle(_kw(1), sue, {2: "discuss"})  # one to discuss further: does not count
        _cycle(_kw(2), sue, {}, sign=False)  # reviewed but not signed off: does not count
        ids = {n: _kw(n).id for n in range(4)}
    app.config["FROZEN_NOW"] = NOW - timedelta(days=10)
    with app.app_context():
        sue = accounts.user_by_email("sue.super@example.nhs.uk")
        _cycle(_kw(3), sue, {})
        # kw0's next cycle asks to discuss a value further: the earlier sign-off no longer counts
        _cycle(_kw(0), sue, {0: "discuss"})
    app.config["FROZEN_NOW"] = NOW
    with app.app_context():
        version = current_version(structure=True)
        team = db.session.scalar(select(accounts.Team).where(accounts.Team.slug == "north"))
        coverage = services.coverage_for_team(team, version, NOW, cached=False)
        assert coverage.values.met.keys() == {ids[3]}
        assert ids[1] in coverage.values.not_met_ids and ids[2] in coverage.values.not_met_ids
        assert ids[0] in coverage.values.not_met_ids
        members = [m.id for m in coverage.members]
        assert set(coverage.values.met) == _brute_force(members, NOW)
        # looked at before kw0's second cycle, kw0's first sign-off counted
        before = services.coverage_for_team(team, version, NOW - timedelta(days=20), cached=False)
        assert set(before.values.met) == {ids[0]}
        assert set(before.values.met) == _brute_force(members, NOW - timedelta(days=20))
        # and it lapses with the validity period
        later = NOW + timedelta(days=400)
        assert not services.coverage_for_team(team, version, later, cached=False).values.met
