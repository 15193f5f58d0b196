"""A practitioner's profile: latest self and validated level of every skill, and changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import mean

from sqlalchemy import func, select

from competency_app.accounts.models import User
from competency_app.assessments.models import (
    Assessment,
    CurrentRating,
    SelfRating,
    Status,
    ValidatedRating,
)
from competency_app.assessments.reworded import Reworded, reworded_for
from competency_app.clock import utcnow
from competency_app.extensions import db
from competency_app.framework.models import Element, FrameworkVersion, Skill
from competency_app.framework.services import current_version


@dataclass
class SkillLine:
    skill: Skill
    self_level: int | None
    validated: CurrentRating | None
    now: datetime
    soon_days: int
    # validated against an earlier wording of the skill (`reworded.py`)
    reworded: Reworded | None = None

    @property
    def needs_revalidation(self) -> bool:
        """Reworded with `revalidate: true`: the validation no longer counts."""
        return self.reworded is not None and self.reworded.revalidate

    @property
    def expired(self) -> bool:
        return (
            self.validated is not None
            and not self.needs_revalidation
            and self.validated.expires_at <= self.now
        )

    @property
    def expiring_soon(self) -> bool:
        return (
            self.validated is not None
            and not self.expired
            and not self.needs_revalidation
            and self.validated.expires_at <= self.now + timedelta(days=self.soon_days)
        )

    @property
    def counted_level(self) -> int | None:
        """The validated level that counts now (None when absent, expired or to be
        validated again)."""
        if self.validated is None or self.expired or self.needs_revalidation:
            return None
        return self.validated.level


@dataclass
class ElementLines:
    element: Element
    lines: list[SkillLine] = field(default_factory=list)

    @property
    def validated(self) -> int:
        """Skills with a validated level that counts now (not expired)."""
        return sum(1 for line in self.lines if line.counted_level is not None)

    @property
    def rated(self) -> int:
        return sum(1 for line in self.lines if line.self_level is not None)

    @property
    def expired(self) -> int:
        return sum(1 for line in self.lines if line.expired)

    @property
    def expiring_soon(self) -> int:
        return sum(1 for line in self.lines if line.expiring_soon)

    @property
    def mean_validated(self) -> float | None:
        levels = [line.counted_level for line in self.lines if line.counted_level is not None]
        return mean(levels) if levels else None


@dataclass
class Profile:
    person: User
    version: FrameworkVersion
    elements: list[ElementLines]
    assessments: list[Assessment]
    competent: int

    @property
    def expired(self) -> list[SkillLine]:
        return [line for e in self.elements for line in e.lines if line.expired]

    @property
    def expiring_soon(self) -> list[SkillLine]:
        return [line for e in self.elements for line in e.lines if line.expiring_soon]

    @property
    def reworded(self) -> list[SkillLine]:
        """Validations made against an earlier wording of their skill."""
        return [line for e in self.elements for line in e.lines if line.reworded is not None]

    @property
    def to_revalidate(self) -> list[SkillLine]:
        return [line for line in self.reworded if line.needs_revalidation]


def _latest_self_levels(person: User) -> dict[str, int]:
    """Self-ratings of the person's most recent assessment that has any."""
    assessment_id = db.session.scalar(
        select(Assessment.id)
        .where(Assessment.person_id == person.id, Assessment.self_ratings.any())
        .order_by(Assessment.cycle.desc())
        .limit(1)
    )
    if assessment_id is None:
        return {}
    rows = db.session.execute(
        select(Skill.key, SelfRating.level)
        .join(Skill, Skill.id == SelfRating.skill_id)
        .where(SelfRating.assessment_id == assessment_id)
    )
    return dict(rows.all())


def profile_of(person: User) -> Profile | None:
    version = current_version()
    if version is None:
        return None
    now = utcnow()
    soon = version.settings.expiring_soon_days
    selfs = _latest_self_levels(person)
    current = {
        r.skill_key: r
        for r in db.session.scalars(
            select(CurrentRating).where(CurrentRating.person_id == person.id)
        )
    }
    reworded = reworded_for(person, version)
    elements = []
    for competency in version.competencies:
        for element in competency.elements:
            group = ElementLines(element)
            for skill in element.skills:
                group.lines.append(
                    SkillLine(
                        skill,
                        selfs.get(skill.key),
                        current.get(skill.key),
                        now,
                        soon,
                        reworded.get(skill.key),
                    )
                )
            elements.append(group)
    assessments = list(
        db.session.scalars(
            select(Assessment)
            .where(Assessment.person_id == person.id)
            .order_by(Assessment.cycle.desc())
        )
    )
    return Profile(person, version, elements, assessments, version.settings.scale.competent_level)


@dataclass(frozen=True)
class Change:
    skill_key: str
    text: str
    old: int
    new: int
    comment: str | None = None  # the supervisor's comment in the latest validation


def changes_since_previous_cycle(person: User) -> tuple[list[Change], Assessment | None]:
    """Skills whose validated level differs between the last two validated assessments.

    With a single validated assessment there is nothing to compare: no changes (a first
    cycle is not 58 changes). A skill new in the latest framework is not a change either.
    """
    validated = list(
        db.session.scalars(
            select(Assessment)
            .where(Assessment.person_id == person.id, Assessment.status == Status.VALIDATED)
            .order_by(Assessment.cycle.desc())
            .limit(2)
        )
    )
    if len(validated) < 2:
        return [], None

    def levels(assessment: Assessment) -> dict[str, tuple[int, str, str | None]]:
        rows = db.session.execute(
            select(
                ValidatedRating.skill_key,
                ValidatedRating.level,
                Skill.text,
                ValidatedRating.comment,
            )
            .join(Skill, Skill.id == ValidatedRating.skill_id)
            .where(ValidatedRating.assessment_id == assessment.id)
        )
        return {key: (level, text, comment) for key, level, text, comment in rows}

    latest, before = levels(validated[0]), levels(validated[1])
    changes = [
        Change(key, text, before[key][0], level, comment)
        for key, (level, text, comment) in latest.items()
        if key in before and before[key][0] != level
    ]
    changes.sort(key=lambda c: c.skill_key)
    return changes, validated[1]


def chart_key(person: User) -> tuple:
    """Changes whenever the person's self or validated ratings change."""
    latest = db.session.execute(
        select(func.max(Assessment.id), func.sum(Assessment.row_version)).where(
            Assessment.person_id == person.id
        )
    ).one()
    rating = db.session.scalar(
        select(func.max(CurrentRating.rating_id)).where(CurrentRating.person_id == person.id)
    )
    version = current_version()
    return ("profile", person.id, version.id if version else None, *latest, rating)


def chart_series(profile: Profile) -> tuple[list[str], list[float | None], list[float | None]]:
    labels, selfs, validated = [], [], []
    for group in profile.elements:
        element = group.element
        labels.append(element.display_name[:48])
        own = [line.self_level for line in group.lines if line.self_level is not None]
        val = [line.counted_level for line in group.lines if line.counted_level is not None]
        selfs.append(mean(own) if own else None)
        validated.append(mean(val) if val else None)
    return labels, selfs, validated
