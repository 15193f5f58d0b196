"""Everything a sign-off reads, in one statement.

A supervisor's sign-off must know whether they supervise the person, which framework
version the assessment is of (its structure then comes from the per-process copy:
`framework.services.structure_of`, versions never change), the latest version's number (an
assessment of an earlier version validates reworded skills until the moment they stopped
counting), the judgements saved element by element, how many core values were reviewed,
the self-ratings, the person's levels validated before and the notices they do not want
emailed. Read one by one that is eight
round trips before anything is written; as one UNION ALL of tagged rows it is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, String, bindparam, func, literal, null, select, union_all
from sqlalchemy import cast as sql_cast

from competency_app.accounts.models import SupervisionLink
from competency_app.assessments.models import (
    CurrentRating,
    SelfRating,
    ValidationDraft,
    ValueReview,
)
from competency_app.extensions import db
from competency_app.framework.models import FrameworkVersion
from competency_app.notifications.models import NotificationPreference


@dataclass(frozen=True)
class SignOffReads:
    version_key: tuple[int, str, datetime]  # the assessment's version: id, content hash, loaded
    latest_number: int  # the newest version's number
    supervises: bool
    drafts: dict[int, tuple[int | None, str | None]]  # skill id -> (level or None, comment)
    values_reviewed: int
    selfs: dict[int, int]  # skill id -> self-rated level
    before: dict[str, int]  # skill key -> the level validated before
    emails_off: set[str]  # the notification kinds the person has asked not to be emailed


_MOMENT = FrameworkVersion.loaded_at.type


def _none(kind):
    return sql_cast(null(), kind)


def _statement():
    """The union, built once (building it costs more than running it): each part is
    (tag, a number, a level, a text, a moment); the first part's types rule."""
    version_id, assessment_id = bindparam("version_id"), bindparam("assessment_id")
    person_id, supervisor_id = bindparam("person_id"), bindparam("supervisor_id")
    version = select(
        literal("version"),
        FrameworkVersion.id,
        FrameworkVersion.number,
        FrameworkVersion.content_hash,
        FrameworkVersion.loaded_at,
    ).where(FrameworkVersion.id == version_id)
    latest = select(
        literal("latest"),
        _none(Integer),
        func.max(FrameworkVersion.number),
        _none(String),
        _none(_MOMENT),
    )
    link = select(
        literal("link"), SupervisionLink.id, _none(Integer), _none(String), _none(_MOMENT)
    ).where(
        SupervisionLink.supervisor_id == supervisor_id,
        SupervisionLink.supervisee_id == person_id,
    )
    drafts = select(
        literal("draft"),
        ValidationDraft.skill_id,
        ValidationDraft.level,
        ValidationDraft.comment,
        _none(_MOMENT),
    ).where(ValidationDraft.assessment_id == assessment_id)
    reviews = select(
        literal("reviews"),
        func.count(ValueReview.id),
        _none(Integer),
        _none(String),
        _none(_MOMENT),
    ).where(ValueReview.assessment_id == assessment_id)
    selfs = select(
        literal("self"),
        SelfRating.skill_id,
        SelfRating.level,
        _none(String),
        _none(_MOMENT),
    ).where(SelfRating.assessment_id == assessment_id)
    before = select(
        literal("before"),
        _none(Integer),
        CurrentRating.level,
        CurrentRating.skill_key,
        _none(_MOMENT),
    ).where(CurrentRating.person_id == person_id)
    emails_off = select(
        literal("off"),
        _none(Integer),
        _none(Integer),
        NotificationPreference.kind,
        _none(_MOMENT),
    ).where(NotificationPreference.user_id == person_id, NotificationPreference.email.is_(False))
    return union_all(version, latest, link, drafts, reviews, selfs, before, emails_off)


_READS = _statement()


def read_for_signoff(
    version_id: int, assessment_id: int, person_id: int, supervisor_id: int
) -> SignOffReads:
    """The sign-off's reads of assessment `assessment_id` (of `person_id`, against version
    `version_id`) by `supervisor_id`, in one statement."""
    rows = db.session.execute(
        _READS,
        {
            "version_id": version_id,
            "assessment_id": assessment_id,
            "person_id": person_id,
            "supervisor_id": supervisor_id,
        },
    )
    key: tuple[int, str, datetime] | None = None
    latest_number = 0
    supervises = False
    found_drafts: dict[int, tuple[int | None, str | None]] = {}
    reviewed = 0
    found_selfs: dict[int, int] = {}
    found_before: dict[str, int] = {}
    off: set[str] = set()
    for tag, number, level, text, moment in rows:
        if tag == "self":
            found_selfs[number] = level
        elif tag == "before":
            found_before[text] = level
        elif tag == "draft":
            found_drafts[number] = (level, text)
        elif tag == "version":
            key = (number, text, moment)
        elif tag == "latest":
            latest_number = level or 0
        elif tag == "link":
            supervises = True
        elif tag == "reviews":
            reviewed = number or 0
        elif tag == "off":
            off.add(text)
    if key is None:
        raise LookupError(f"framework version {version_id} is not stored")
    return SignOffReads(
        key, latest_number, supervises, found_drafts, reviewed, found_selfs, found_before, off
    )
