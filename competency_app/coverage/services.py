"""Team coverage: one SQL aggregate over the current-rating projection.

A person *holds* an element when every skill of it has an unexpired validated rating at or
above the competent level. A *gap* is an element or skill held by fewer than `min_holders`;
*at risk* is held by exactly one person, or held only through validations that expire
within the framework's warning period. The core values and the overarching elements are
expected of every individual: the page lists who has not met them yet.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Integer, String, and_, bindparam, case, func, select, type_coerce

from competency_app.accounts.models import Role, RoleAssignment, Team, User
from competency_app.assessments.models import (
    Assessment,
    CurrentRating,
    Status,
    ValueReflection,
)
from competency_app.clock import utcnow
from competency_app.database import UTCDateTime
from competency_app.extensions import db
from competency_app.framework.models import Element, FrameworkVersion, Module, Skill


@dataclass
class ElementCoverage:
    element: Element
    skill_count: int
    # person id -> number of the element's skills they hold at competent or above
    competent_skills: dict[int, int] = field(default_factory=dict)
    # person id -> number of the element's skills validated one level below competent
    developing_skills: dict[int, int] = field(default_factory=dict)
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


@dataclass(frozen=True)
class VersionShape:
    """What the coverage queries need of a version: its skill keys and skills per element."""

    skill_keys: tuple[str, ...]
    skill_counts: dict[str, int]  # element key -> skills


_SHAPES: dict[str, VersionShape] = {}


def version_shape(version: FrameworkVersion) -> VersionShape:
    """Cached by content hash: a loaded version never changes, and ids can be reused."""
    shape = _SHAPES.get(version.content_hash)
    if shape is None:
        rows = db.session.execute(
            select(Skill.key, Element.key)
            .join(Element, Element.id == Skill.element_id)
            .where(Skill.version_id == version.id)
        ).all()
        counts: dict[str, int] = defaultdict(int)
        for _skill, element in rows:
            counts[element] += 1
        shape = VersionShape(tuple(skill for skill, _ in rows), dict(counts))
        _SHAPES[version.content_hash] = shape
    return shape


def _when(condition, value):
    return case((condition, value), else_=None)


# Built once: per person and element, the skills at competent or above, the skills one level
# below (Developing), the earliest expiry among the competent ones and among all of them.
# One GROUP BY, no join (`element_key` is denormalised into the projection), an index-only
# scan of `ix_current_rating_coverage`. Only the version's skill keys count, so a skill
# retired in a later version cannot make up for a current one. The expiries come back as
# text on SQLite: only the few that are needed are parsed (`_aware`).
_COMPETENT = bindparam("competent", type_=Integer)
_NOW = bindparam("now", type_=UTCDateTime())
_ELEMENT_STATS = (
    select(
        CurrentRating.person_id,
        CurrentRating.element_key,
        func.count(_when(CurrentRating.level >= _COMPETENT, 1)),
        func.count(_when(CurrentRating.level < _COMPETENT, 1)),
        type_coerce(
            func.min(_when(CurrentRating.level >= _COMPETENT, CurrentRating.expires_at)), String
        ),
        type_coerce(func.min(CurrentRating.expires_at), String),
    )
    .where(
        CurrentRating.person_id.in_(bindparam("ids", expanding=True)),
        CurrentRating.skill_key.in_(bindparam("keys", expanding=True)),
        CurrentRating.level >= _COMPETENT - 1,
        CurrentRating.expires_at > _NOW,
    )
    .group_by(CurrentRating.person_id, CurrentRating.element_key)
)
_SKILL_HOLDERS = (
    select(CurrentRating.skill_key, func.count())
    .where(
        CurrentRating.person_id.in_(bindparam("ids", expanding=True)),
        CurrentRating.level >= _COMPETENT,
        CurrentRating.expires_at > _NOW,
    )
    .group_by(CurrentRating.skill_key)
)


def _aware(value) -> datetime:
    """SQLite hands aggregates back as naive text: normalise to aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@dataclass
class TeamFigures:
    """The team's rating aggregates: plain data, cached between requests."""

    competent: dict[str, dict[int, int]]  # element key -> person -> competent skills
    developing: dict[str, dict[int, int]]  # element key -> person -> Developing skills
    holder_expiry: dict[str, dict[int, datetime]]  # element key -> holder -> earliest expiry
    skill_holders: dict[str, int]
    values_met: set[int]
    valid_from: datetime
    valid_until: datetime | None  # the next expiry that would change a figure


def _values(version: FrameworkVersion, person_ids: list[int], now: datetime):
    """People whose validation (still in date) signed off a reflection on every value, and
    when the earliest of those validations goes out of date."""
    validity = timedelta(days=int(version.rules["validity_months"] * 30.44))
    rows = db.session.execute(
        select(Assessment.person_id, Assessment.validated_at, func.count(ValueReflection.id))
        .join(ValueReflection, ValueReflection.assessment_id == Assessment.id)
        .where(
            Assessment.person_id.in_(person_ids),
            Assessment.status == Status.VALIDATED,
            Assessment.validated_at > now - validity,
        )
        .group_by(Assessment.person_id, Assessment.id, Assessment.validated_at)
    )
    needed = len(version.values)
    met = [(person, validated) for person, validated, count in rows if count >= needed]
    lapses = min((_aware(validated) + validity for _, validated in met), default=None)
    return {person for person, _ in met}, lapses


def team_figures(version: FrameworkVersion, ids: list[int], now: datetime) -> TeamFigures:
    """Four aggregate statements over the team's ratings (no cache)."""
    competent = version.rating_scale["competent_level"]
    warning = timedelta(days=version.rules["expiring_soon_days"])
    shape = version_shape(version)
    figures = TeamFigures(
        defaultdict(dict), defaultdict(dict), defaultdict(dict), {}, set(), now, None
    )
    if not ids:
        return figures
    next_expiry = None  # raw (text on SQLite, sortable) until the minimum is known
    lapses = []
    connection = db.session.connection()
    params = {"ids": ids, "keys": shape.skill_keys, "competent": competent, "now": now}
    for person, key, held, developing, held_expiry, expiry in connection.execute(
        _ELEMENT_STATS, params
    ):
        if next_expiry is None or expiry < next_expiry:
            next_expiry = expiry
        if held:
            figures.competent[key][person] = held
        if developing:
            figures.developing[key][person] = developing
        if held and held == shape.skill_counts.get(key):
            expires = _aware(held_expiry)
            figures.holder_expiry[key][person] = expires
            if expires - warning > now:
                lapses.append(expires - warning)  # becomes "at risk"
    figures.skill_holders = dict(connection.execute(_SKILL_HOLDERS, params).all())
    figures.values_met, values_lapse = _values(version, ids, now)
    if next_expiry is not None:
        lapses.append(_aware(next_expiry))
    if values_lapse is not None:
        lapses.append(values_lapse)
    figures.valid_until = min(lapses, default=None)
    return figures


class FiguresCache:
    """Per-process LRU of team figures, keyed by the team's coverage epoch and members.

    An entry is reused while the team's `coverage_epoch` is unchanged (every validation
    bumps it in the same transaction), the members are the same people, and the clock is
    between when it was computed and the first expiry that would change a figure.
    """

    def __init__(self, size: int = 512):
        self.size = size
        self.entries: OrderedDict[tuple, TeamFigures] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple, now: datetime) -> TeamFigures | None:
        with self.lock:
            figures = self.entries.get(key)
            if figures is None:
                return None
            if now < figures.valid_from or (figures.valid_until and now >= figures.valid_until):
                del self.entries[key]
                return None
            self.entries.move_to_end(key)
            return figures

    def put(self, key: tuple, figures: TeamFigures) -> None:
        with self.lock:
            self.entries[key] = figures
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


FIGURES = FiguresCache()


def coverage_for_team(
    team: Team, version: FrameworkVersion, now: datetime | None = None, cached: bool = True
) -> TeamCoverage:
    """The team's coverage of `version` at `now` (default: the app clock).

    One statement for the members, then the figures from the cache or four aggregates.
    """
    now = now or utcnow()
    members = team_practitioners(team)
    ids = [m.id for m in members]
    key = (team.id, team.coverage_epoch, version.id, version.content_hash, tuple(ids))
    figures = FIGURES.get(key, now) if cached else None
    if figures is None:
        figures = team_figures(version, ids, now)
        if cached:
            FIGURES.put(key, figures)
    shape = version_shape(version)
    elements = [e for c in version.competencies for e in c.elements]
    coverages = [
        ElementCoverage(
            e,
            shape.skill_counts.get(e.key, 0),
            figures.competent.get(e.key, {}),
            figures.developing.get(e.key, {}),
            figures.holder_expiry.get(e.key, {}),
        )
        for e in elements
    ]
    skills = [
        SkillCoverage(skill, figures.skill_holders.get(skill.key, 0), element.min_holders)
        for element in elements
        for skill in element.skills
    ]
    return TeamCoverage(
        team=team,
        version=version,
        members=members,
        elements=coverages,
        skills=skills,
        now=now,
        horizon=now + timedelta(days=version.rules["expiring_soon_days"]),
        competent_level=version.rating_scale["competent_level"],
        values_met=figures.values_met,
    )


# ---- from gap to action ----------------------------------------------------------------


@dataclass
class GapAction:
    coverage: ElementCoverage
    modules: list[Module]
    candidates: list[tuple[User, int]]  # (member, skills held) closest to holding it
    criteria: list


def closest_members(cov: TeamCoverage, element_cov: ElementCoverage, limit: int = 3):
    """Members who do not hold the element, most competent skills first (Developing next)."""
    others = [m for m in cov.members if m.id not in element_cov.holder_expiry]
    ranked = sorted(
        others,
        key=lambda m: (
            -element_cov.competent_skills.get(m.id, 0),
            -element_cov.developing_skills.get(m.id, 0),
            m.name,
        ),
    )
    return [(m, element_cov.competent_skills.get(m.id, 0)) for m in ranked[:limit]]


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


def matrix_rows(cov: TeamCoverage) -> list[tuple[ElementCoverage, list[str]]]:
    """Per element, each member's state in member order: 'held', 'partial' or 'none'."""
    return [
        (
            e,
            [
                ("held" if m.id in e.holder_expiry else "partial")
                if m.id in e.competent_skills
                else "none"
                for m in cov.members
            ],
        )
        for e in cov.elements
    ]


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
