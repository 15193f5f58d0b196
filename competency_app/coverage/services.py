"""Team coverage: one SQL aggregate over the current-rating projection.

A person *holds* an element when every skill of it has an unexpired validated rating at or
above the competent level. A *gap* is an element or skill held by fewer than `min_holders`;
*at risk* is held by exactly one person, or held only through validations that expire
within the framework's warning period. The core values and the overarching elements are
expected of every individual: the page lists who has not met them yet.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select

from competency_app.accounts.models import Role, RoleAssignment, Team, User
from competency_app.assessments.models import (
    Assessment,
    CurrentRating,
    Status,
    ValueReflection,
)
from competency_app.clock import utcnow
from competency_app.extensions import db
from competency_app.framework.models import Element, FrameworkVersion, Module, Skill


@dataclass
class ElementCoverage:
    element: Element
    skill_count: int
    # person id -> number of the element's skills they hold at competent or above
    competent_skills: dict[int, int] = field(default_factory=dict)
    # person id -> earliest expiry among the validations that make them a holder
    holder_expiry: dict[int, datetime] = field(default_factory=dict)

    @property
    def holders(self) -> list[int]:
        return sorted(self.holder_expiry)

    @property
    def min_holders(self) -> int:
        return self.element.min_holders

    @property
    def is_gap(self) -> bool:
        return len(self.holder_expiry) < self.min_holders

    def durable_holders(self, horizon: datetime) -> list[int]:
        return [p for p, expiry in self.holder_expiry.items() if expiry > horizon]

    def at_risk(self, horizon: datetime) -> bool:
        if self.is_gap:
            return False
        return len(self.holder_expiry) == 1 or len(self.durable_holders(horizon)) < self.min_holders


@dataclass
class SkillCoverage:
    skill: Skill
    holders: int
    min_holders: int

    @property
    def is_gap(self) -> bool:
        return self.holders < self.min_holders


@dataclass
class TeamCoverage:
    team: Team
    version: FrameworkVersion
    members: list[User]
    elements: list[ElementCoverage]
    skills: list[SkillCoverage]
    now: datetime
    horizon: datetime
    competent_level: int
    values_met: set[int]

    @property
    def gaps(self) -> list[ElementCoverage]:
        return [e for e in self.elements if e.is_gap and not e.element.expected_of_everyone]

    @property
    def at_risk(self) -> list[ElementCoverage]:
        return [
            e
            for e in self.elements
            if not e.element.expected_of_everyone and e.at_risk(self.horizon)
        ]

    @property
    def skill_gaps(self) -> list[SkillCoverage]:
        return [s for s in self.skills if s.is_gap]

    @property
    def everyone_elements(self) -> list[ElementCoverage]:
        return [e for e in self.elements if e.element.expected_of_everyone]

    def not_met(self, coverage: ElementCoverage) -> list[User]:
        return [m for m in self.members if m.id not in coverage.holder_expiry]

    @property
    def values_not_met(self) -> list[User]:
        return [m for m in self.members if m.id not in self.values_met]

    @property
    def covered_count(self) -> int:
        return sum(1 for e in self.elements if not e.is_gap)


def team_practitioners(team: Team) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(
                RoleAssignment.team_id == team.id,
                RoleAssignment.role == Role.PRACTITIONER,
                User.active,
            )
            .order_by(User.name)
        )
    )


def competent_by_element(
    version: FrameworkVersion, person_ids: list[int], competent: int, now: datetime
) -> list[tuple[int, str, int, datetime]]:
    """(person, element key, competent skills, earliest expiry): one GROUP BY, no join.

    Only the version's skill keys count, so a skill retired in a later version cannot make
    up for a current one.
    """
    if not person_ids:
        return []
    keys = _skill_keys(version.id)
    rows = db.session.execute(
        select(
            CurrentRating.person_id,
            CurrentRating.element_key,
            func.count(),
            func.min(CurrentRating.expires_at),
        )
        .where(
            CurrentRating.person_id.in_(person_ids),
            CurrentRating.level >= competent,
            CurrentRating.expires_at > now,
            CurrentRating.skill_key.in_(keys),
        )
        .group_by(CurrentRating.person_id, CurrentRating.element_key)
    )
    return [(p, e, n, _aware(expiry)) for p, e, n, expiry in rows]


_KEYS_CACHE: dict[int, tuple[str, ...]] = {}


def _skill_keys(version_id: int) -> tuple[str, ...]:
    """The skill keys of a version (versions never change once loaded, so cache them)."""
    if version_id not in _KEYS_CACHE:
        _KEYS_CACHE[version_id] = tuple(
            db.session.scalars(select(Skill.key).where(Skill.version_id == version_id))
        )
    return _KEYS_CACHE[version_id]


def _aware(value):
    """SQLite hands aggregates back as naive strings/datetimes: normalise to aware UTC."""
    from datetime import UTC

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def holders_by_skill(
    version: FrameworkVersion, person_ids: list[int], competent: int, now: datetime
) -> dict[str, int]:
    """Skill key -> holders among `person_ids` (skills nobody holds are absent: 0)."""
    if not person_ids:
        return {}
    rows = db.session.execute(
        select(CurrentRating.skill_key, func.count())
        .where(
            CurrentRating.person_id.in_(person_ids),
            CurrentRating.level >= competent,
            CurrentRating.expires_at > now,
        )
        .group_by(CurrentRating.skill_key)
    )
    return dict(rows.all())


def values_met(version: FrameworkVersion, person_ids: list[int], now: datetime) -> set[int]:
    """People whose last validation (still in date) signed off a reflection on every value."""
    if not person_ids:
        return set()
    validity = version.rules["validity_months"]
    since = now - timedelta(days=int(validity * 30.44))
    rows = db.session.execute(
        select(Assessment.person_id, Assessment.id, func.count(ValueReflection.id))
        .join(ValueReflection, ValueReflection.assessment_id == Assessment.id)
        .where(
            Assessment.person_id.in_(person_ids),
            Assessment.status == Status.VALIDATED,
            Assessment.validated_at > since,
        )
        .group_by(Assessment.person_id, Assessment.id)
    )
    needed = len(version.values)
    return {person for person, _assessment, count in rows if count >= needed}


def coverage_for_team(team: Team, version: FrameworkVersion, now: datetime | None = None):
    """The team's coverage of `version` at `now` (default: the app clock)."""
    now = now or utcnow()
    horizon = now + timedelta(days=version.rules["expiring_soon_days"])
    competent = version.rating_scale["competent_level"]
    members = team_practitioners(team)
    ids = [m.id for m in members]
    elements = [e for c in version.competencies for e in c.elements]
    skill_counts = dict(
        db.session.execute(
            select(Skill.element_id, func.count())
            .where(Skill.version_id == version.id)
            .group_by(Skill.element_id)
        ).all()
    )
    by_id = {e.id: ElementCoverage(e, skill_counts.get(e.id, 0)) for e in elements}
    by_key = {e.key: by_id[e.id] for e in elements}
    for person, element_key, count, expiry in competent_by_element(version, ids, competent, now):
        coverage = by_key.get(element_key)
        if coverage is None:
            continue
        coverage.competent_skills[person] = count
        if count == coverage.skill_count:
            coverage.holder_expiry[person] = expiry
    holders = holders_by_skill(version, ids, competent, now)
    skills = [
        SkillCoverage(skill, holders.get(skill.key, 0), element.min_holders)
        for element in elements
        for skill in element.skills
    ]
    return TeamCoverage(
        team=team,
        version=version,
        members=members,
        elements=list(by_id.values()),
        skills=skills,
        now=now,
        horizon=horizon,
        competent_level=competent,
        values_met=values_met(version, ids, now),
    )


# ---- from gap to action ----------------------------------------------------------------


@dataclass
class GapAction:
    coverage: ElementCoverage
    modules: list[Module]
    candidates: list[tuple[User, int]]  # (member, skills held) closest to holding it
    criteria: list


def closest_members(cov: TeamCoverage, element_cov: ElementCoverage, limit: int = 3):
    """Members who do not hold the element, most competent skills first (Developing first)."""
    developing = developing_counts(cov, element_cov.element)
    others = [m for m in cov.members if m.id not in element_cov.holder_expiry]
    ranked = sorted(
        others,
        key=lambda m: (
            -element_cov.competent_skills.get(m.id, 0),
            -developing.get(m.id, 0),
            m.name,
        ),
    )
    return [(m, element_cov.competent_skills.get(m.id, 0)) for m in ranked[:limit]]


def developing_counts(cov: TeamCoverage, element: Element) -> dict[int, int]:
    """Person -> number of the element's skills validated one level below competent."""
    ids = [m.id for m in cov.members]
    if not ids:
        return {}
    rows = db.session.execute(
        select(CurrentRating.person_id, func.count())
        .where(
            CurrentRating.element_key == element.key,
            CurrentRating.skill_key.in_(_skill_keys(cov.version.id)),
            CurrentRating.person_id.in_(ids),
            CurrentRating.level == cov.competent_level - 1,
            CurrentRating.expires_at > cov.now,
        )
        .group_by(CurrentRating.person_id)
    )
    return dict(rows.all())


def gap_actions(cov: TeamCoverage) -> list[GapAction]:
    actions = []
    for element_cov in cov.gaps + cov.at_risk:
        element = element_cov.element
        actions.append(
            GapAction(
                coverage=element_cov,
                modules=[m for m in cov.version.modules if element.key in m.element_keys],
                candidates=closest_members(cov, element_cov),
                criteria=[c for c in cov.version.criteria if element.key in c.links],
            )
        )
    return actions


@dataclass
class PlanStep:
    module: Module
    closes: list[Element]
    members: list[User]


def training_plan(cov: TeamCoverage) -> list[PlanStep]:
    """Greedy set cover: repeatedly the module that addresses the most open gaps."""
    open_gaps = {e.element.key: e for e in cov.gaps + cov.at_risk}
    steps: list[PlanStep] = []
    modules = list(cov.version.modules)
    while open_gaps:
        best = max(
            modules,
            key=lambda m: (len(set(m.element_keys) & set(open_gaps)), -m.position),
            default=None,
        )
        if best is None:
            break
        closes = [k for k in best.element_keys if k in open_gaps]
        if not closes:
            break
        members: dict[int, User] = {}
        for key in closes:
            for member, _held in closest_members(cov, open_gaps[key], limit=2):
                members.setdefault(member.id, member)
        steps.append(PlanStep(best, [open_gaps[k].element for k in closes], list(members.values())))
        for key in closes:
            del open_gaps[key]
        modules.remove(best)
    return steps


def coverage_summary(cov: TeamCoverage) -> dict:
    """The JSON shape of `/api/v1/teams/<slug>/coverage`."""
    return {
        "team": {"slug": cov.team.slug, "name": cov.team.name},
        "framework_version": cov.version.number,
        "as_at": cov.now.isoformat(),
        "members": [{"id": m.id, "name": m.name} for m in cov.members],
        "elements": [
            {
                "id": e.element.key,
                "title": e.element.title,
                "min_holders": e.min_holders,
                "expected_of_everyone": e.element.expected_of_everyone,
                "holders": len(e.holder_expiry),
                "holder_ids": e.holders,
                "gap": e.is_gap,
                "at_risk": e.at_risk(cov.horizon),
            }
            for e in cov.elements
        ],
        "skills": [{"id": s.skill.key, "holders": s.holders, "gap": s.is_gap} for s in cov.skills],
        "gaps": [e.element.key for e in cov.gaps],
        "at_risk": [e.element.key for e in cov.at_risk],
        "values_not_met": [m.id for m in cov.values_not_met],
    }


def cells_by_person(cov: TeamCoverage) -> dict[tuple[int, int], str]:
    """(element id, person id) -> 'held' / 'partial' / 'none' for the matrix."""
    cells: dict[tuple[int, int], str] = defaultdict(lambda: "none")
    for e in cov.elements:
        for person in e.competent_skills:
            cells[(e.element.id, person)] = "held" if person in e.holder_expiry else "partial"
    return cells


def organisation_holders(version: FrameworkVersion, now: datetime | None = None) -> dict:
    """(team id, element key) -> holders, for every team at once: two GROUP BYs in SQL."""
    now = now or utcnow()
    competent = version.rating_scale["competent_level"]
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
            CurrentRating.skill_key.in_(_skill_keys(version.id)),
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
