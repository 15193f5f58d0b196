"""Builders shared by the supervision tests: a team, a supervised keyworker, and a
validated assessment made through the real services."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from competency_app.accounts.models import Role, User
from competency_app.assessments import services as assessments
from competency_app.assessments.models import Assessment
from competency_app.extensions import db
from tests.factories import commit, make_team, make_user


def people(app) -> dict[str, int]:
    """North: Sue supervises Pat and Kim; Max manages north. South: Sam and Sol."""
    with app.app_context():
        north, south = make_team("north"), make_team("south")
        sue = make_user("sue.super", Role.SUPERVISOR, team=north)
        pat = make_user("pat.prac", Role.PRACTITIONER, team=north, supervisor=sue)
        kim = make_user("kim.prac", Role.PRACTITIONER, team=north, supervisor=sue)
        lee = make_user("lee.nosuper", Role.PRACTITIONER, team=north)
        max_ = make_user("max.manager", Role.MANAGER, team=north)
        sam = make_user("sam.south", Role.SUPERVISOR, team=south)
        sol = make_user("sol.south", Role.PRACTITIONER, team=south, supervisor=sam)
        commit()
        return {u.email.split("@")[0]: u.id for u in (sue, pat, kim, lee, max_, sam, sol)}


def user(local: str) -> User:
    found = db.session.scalar(select(User).where(User.email == f"{local}@example.nhs.uk"))
    assert found is not None
    return found


def submitted(app, local: str, at: datetime | None = None) -> int:
    """A complete self-assessment (every skill at 2, every value reflected), submitted."""
    with app.app_context():
        if at is not None:
            app.config["FROZEN_NOW"] = at
        person = user(local)
        assessment = assessments.start_assessment(person)
        version = assessment.framework_version
        for element in assessments.elements_of(version):
            ratings = {s.id: (2, f"evidence for {s.key}") for s in element.skills}
            assessments.save_element(assessment, person, element, ratings, None)
        reflections = {v.id: f"My reflection on {v.title}" for v in version.values}
        assessments.save_reflections(assessment, person, reflections, None)
        assessments.submit(assessment, person, None)
        commit()
        return assessment.id


def validated(app, local: str, at: datetime, decisions=None) -> int:
    assessment_id = submitted(app, local, at)
    with app.app_context():
        app.config["FROZEN_NOW"] = at
        assessment = db.session.get_one(Assessment, assessment_id)
        assessments.validate(assessment, user("sue.super"), decisions or {}, None)
        commit()
    return assessment_id


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)
