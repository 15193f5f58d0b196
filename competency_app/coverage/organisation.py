"""Organisation-wide coverage figures, for every team at once (what the benchmarks measure)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select

from competency_app.accounts.models import Role, RoleAssignment
from competency_app.assessments.models import CurrentRating
from competency_app.clock import utcnow
from competency_app.coverage.figures import version_shape
from competency_app.extensions import db
from competency_app.framework.models import Element, FrameworkVersion, Skill


def organisation_holders(version: FrameworkVersion, now: datetime | None = None) -> dict:
    """(team id, element key) -> members who hold every skill, for every team at once:
    two GROUP BYs in SQL (the organisation-wide figure the benchmarks measure)."""
    now = now or utcnow()
    competent = version.settings.scale.competent_level
    skill_counts = (
        select(Element.key.label("element_key"), func.count(Skill.id).label("n"))
        .join(Skill, Skill.element_id == Element.id)
        .where(Element.version_id == version.id)
        .group_by(Element.key)
        .subquery()
    )
    per_person = (
        select(CurrentRating.person_id, CurrentRating.element_key, func.count().label("held"))
        .where(
            CurrentRating.level >= competent,
            CurrentRating.expires_at > now,
            CurrentRating.skill_key.in_(version_shape(version).skill_keys),
        )
        .group_by(CurrentRating.person_id, CurrentRating.element_key)
        .subquery()
    )
    rows = db.session.execute(
        select(RoleAssignment.team_id, per_person.c.element_key, func.count())
        .select_from(per_person)
        .join(skill_counts, skill_counts.c.element_key == per_person.c.element_key)
        .join(
            RoleAssignment,
            and_(
                RoleAssignment.user_id == per_person.c.person_id,
                RoleAssignment.role == Role.PRACTITIONER,
            ),
        )
        .where(per_person.c.held == skill_counts.c.n)
        .group_by(RoleAssignment.team_id, per_person.c.element_key)
    )
    return {(team, key): holders for team, key, holders in rows}
