"""Validations made against a skill's earlier wording.

A framework version may reword a skill under the same stable id. A person's validation of
that skill (their current rating) was then made against wording nobody has judged since:
it is flagged "validated against earlier wording" wherever it is read (the profile, the
self-assessment, the supervisor's validation pages), worked out from the text the
validation was made against (`ValidatedRating.skill_id`) and the text of the version read.

When the version that rewords it marks the skill `revalidate: true` (`Skill.revalidate`,
stored only where the text really changed), such validations stop counting from the day
that version was loaded: its load brings the current rating's expiry forward to that
moment (`projection.bring_expiry_forward`), so coverage, forecasts and reminders, which
read the expiry, stop counting it without a rule of their own, and the teams' stored
figures are brought up to date in the same transaction. A validation made later against an
assessment of the earlier version gets the same expiry at its sign-off
(`revalidation_cutoffs`). Without the mark they count until their normal expiry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from competency_app.accounts.models import User
from competency_app.assessments.models import Assessment, CurrentRating, ValidatedRating
from competency_app.assessments.projection import bring_expiry_forward
from competency_app.extensions import db
from competency_app.framework.models import Element, FrameworkVersion, Skill
from competency_app.framework.services import (
    Change,
    after_version_loaded,
    describe_effects,
)


@dataclass(frozen=True)
class Reworded:
    """A validation made against wording the version read has since changed."""

    rated_in: int  # the number of the version whose wording was validated
    reworded_in: int  # the first later version that reworded the skill
    reworded_on: datetime  # when that version was loaded
    stopped_at: datetime | None  # set when a rewording asked for it to be validated again
    # The wording is an assessment's own, of an earlier version than the latest (rated and
    # validated against earlier wording), rather than that of a past validation.
    in_assessment: bool = False

    @property
    def revalidate(self) -> bool:
        return self.stopped_at is not None


@dataclass(frozen=True)
class _Wording:
    number: int
    loaded_at: datetime
    text: str
    revalidate: bool


def _wordings(keys: Iterable[str], up_to: int) -> dict[str, list[_Wording]]:
    """Each skill's text in every version up to number `up_to`, oldest first."""
    rows = db.session.execute(
        select(
            Skill.key,
            FrameworkVersion.number,
            FrameworkVersion.loaded_at,
            Skill.text,
            Skill.revalidate,
        )
        .join(FrameworkVersion, FrameworkVersion.id == Skill.version_id)
        .where(Skill.key.in_(sorted(set(keys))), FrameworkVersion.number <= up_to)
        .order_by(FrameworkVersion.number)
    )
    wordings: dict[str, list[_Wording]] = defaultdict(list)
    for key, number, loaded_at, text, revalidate in rows:
        wordings[key].append(_Wording(number, loaded_at, text, revalidate))
    return wordings


def _since(rated_in: int, text: str, wordings: list[_Wording]) -> Reworded | None:
    """How the skill changed after version `rated_in`, whose `text` was validated."""
    before, first, stopped = text, None, None
    for wording in wordings:
        if wording.number <= rated_in:
            continue
        if first is None and wording.text != before:
            first = wording
        if stopped is None and wording.revalidate:
            stopped = wording.loaded_at
        before = wording.text
    if first is None:
        return None
    return Reworded(rated_in, first.number, first.loaded_at, stopped)


_RATED = aliased(Skill)
_READ = aliased(Skill)


def earlier_wording(
    version: FrameworkVersion,
    person_ids: Iterable[int] | None = None,
    keys: Iterable[str] | None = None,
) -> dict[tuple[int, str], Reworded]:
    """The current ratings (of `person_ids`, or everyone's; of the skills `keys`, or every
    skill) validated against an earlier wording of a skill than `version`'s, by (person id,
    skill key)."""
    statement = (
        select(
            CurrentRating.person_id,
            CurrentRating.skill_key,
            FrameworkVersion.number,
            _RATED.text,
        )
        .join(ValidatedRating, ValidatedRating.id == CurrentRating.rating_id)
        .join(_RATED, _RATED.id == ValidatedRating.skill_id)
        .join(FrameworkVersion, FrameworkVersion.id == _RATED.version_id)
        .join(_READ, and_(_READ.key == CurrentRating.skill_key, _READ.version_id == version.id))
        .where(FrameworkVersion.number < version.number, _RATED.text != _READ.text)
    )
    if person_ids is not None:
        statement = statement.where(CurrentRating.person_id.in_(sorted(set(person_ids))))
    if keys is not None:
        statement = statement.where(CurrentRating.skill_key.in_(sorted(set(keys))))
    rows = db.session.execute(statement).all()
    if not rows:
        return {}
    wordings = _wordings({row.skill_key for row in rows}, version.number)
    found: dict[tuple[int, str], Reworded] = {}
    for person, key, rated_in, text in rows:
        reworded = _since(rated_in, text, wordings[key])
        if reworded is not None:
            found[(person, key)] = reworded
    return found


def reworded_for(person: User, version: FrameworkVersion) -> dict[str, Reworded]:
    """One person's ratings validated against an earlier wording than `version`'s, by key."""
    return {key: found for (_, key), found in earlier_wording(version, [person.id]).items()}


def superseded_wording(version: FrameworkVersion, latest: int | None = None) -> dict[str, Reworded]:
    """The skills of `version` that a later version has reworded, by key: an assessment of
    `version` is rated and validated against their earlier wording. Empty for the latest
    (`latest`: the newest version's number, when the caller has read it)."""
    if latest is None:
        latest = db.session.scalar(select(func.max(FrameworkVersion.number)))
    if latest is None or latest <= version.number:
        return {}
    texts = dict(
        db.session.execute(
            select(Skill.key, Skill.text).where(Skill.version_id == version.id)
        ).all()
    )
    found: dict[str, Reworded] = {}
    for key, wordings in _wordings(texts, latest).items():
        reworded = _since(version.number, texts[key], wordings)
        if reworded is not None:
            found[key] = replace(reworded, in_assessment=True)
    return found


def revalidation_cutoffs(
    version: FrameworkVersion, latest: int | None = None
) -> dict[str, datetime]:
    """For a sign-off of an assessment of `version` after later versions were loaded: the
    moment each of its skills' validations stopped counting (a later version reworded the
    skill with `revalidate: true`), by skill key; empty when `version` is the latest
    (`latest`: as for `superseded_wording`)."""
    return {
        key: found.stopped_at
        for key, found in superseded_wording(version, latest).items()
        if found.stopped_at is not None
    }


def reworded_in_assessment(assessment: Assessment) -> dict[str, Reworded]:
    """The skills of `assessment` to flag, by key: those whose current validation was made
    against an earlier wording than the assessment's, and those whose wording in the
    assessment a later version has changed (these first: they are about this rating)."""
    version = assessment.framework_version
    return {
        **reworded_for(assessment.person, version),
        **superseded_wording(version),
    }


def reworded_skills(assessment: Assessment) -> list[tuple[Element, int, Skill, Reworded]]:
    """`reworded_in_assessment` in the framework's order: (element, the skill's number in
    it, skill, how)."""
    found = reworded_in_assessment(assessment)
    if not found:
        return []
    return [
        (element, number, skill, found[skill.key])
        for competency in assessment.framework_version.competencies
        for element in competency.elements
        for number, skill in enumerate(element.skills, start=1)
        if skill.key in found
    ]


def _on_load(version: FrameworkVersion, previous: FrameworkVersion | None) -> dict[str, Any]:
    """After `version` is loaded: flag the validations its rewordings affect, and stop
    counting those it asks to be validated again. Returns the counts for the audit event
    (ids and counts only)."""
    if previous is None:
        return {}
    # Only the ratings of skills this version rewords (or adds back) can be newly flagged,
    # and only those of skills some version marks `revalidate` can stop counting: reading
    # just those keeps a load from reading every current rating of the installation (0.5 s
    # at 2,000 people, most of a 300-skill load; and it grows with the people).
    keys = _reworded_keys(version, previous) | set(
        db.session.scalars(select(Skill.key).where(Skill.revalidate).distinct())
    )
    if not keys:
        return {}
    found = earlier_wording(version, keys=keys)
    new = {where: r for where, r in found.items() if r.reworded_in == version.number}
    stopped = {where: r.stopped_at for where, r in found.items() if r.stopped_at is not None}
    brought_forward = bring_expiry_forward(stopped, version)
    if not new:
        return {}
    return {
        "reworded_skills": sorted({key for _, key in new}),
        "validations_flagged": len(new),
        "revalidate_skills": sorted({key for (_, key), r in new.items() if r.revalidate}),
        "validations_stopped": brought_forward,
    }


def _reworded_keys(version: FrameworkVersion, previous: FrameworkVersion) -> set[str]:
    """The skills of `version` whose text differs from `previous`'s, or that it lacks."""
    texts = select(Skill.key, Skill.text)
    before = dict(db.session.execute(texts.where(Skill.version_id == previous.id)).all())
    now = db.session.execute(texts.where(Skill.version_id == version.id)).all()
    return {key for key, text in now if before.get(key) != text}


after_version_loaded(_on_load)


def _effects(old: FrameworkVersion, new: FrameworkVersion, changes: list[Change]) -> dict[str, str]:
    """For each skill reworded between `old` and `new`: how many people's current
    validations were made against wording other than `new`'s (and are flagged when `new` is
    read), and whether `new` asks for them to be validated again."""
    keys = [
        c.key
        for c in changes
        if c.kind == "skill" and c.change == "reworded" and "text" in c.changed_fields
    ]
    if not keys:
        return {}
    revalidate = set(
        db.session.scalars(
            select(Skill.key).where(
                Skill.version_id == new.id, Skill.key.in_(keys), Skill.revalidate
            )
        )
    )
    counts: dict[str, int] = defaultdict(int)
    active = set(db.session.scalars(select(User.id).where(User.active)))
    for person, key in earlier_wording(new):
        if key in keys and person in active:
            counts[key] += 1
    effects = {}
    for key in keys:
        count = counts[key]
        held = "1 current validation" if count == 1 else f"{count} current validations"
        if key in revalidate:
            effects[key] = (
                f"Affects {held}: re-validation required; not counted since version "
                f"{new.number} was loaded."
            )
        else:
            its = "its" if count == 1 else "their"
            effects[key] = f"Affects {held}: flagged, counted until {its} next review."
    return effects


describe_effects(_effects)
