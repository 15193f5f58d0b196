"""Assessments, the two rating layers, the append-only history and the current projection.

- `SelfRating`: what the practitioner says, per skill, inside one assessment.
- `ValidatedRating`: append-only history of supervisors' judgements (never updated).
- `CurrentRating`: one row per (person, skill key), upserted in the same transaction as
  each validation; coverage is a GROUP BY over it.
- `AssessmentEvent`: append-only history of every transition.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from competency_app.accounts.models import User
from competency_app.database import UTCDateTime
from competency_app.extensions import Model
from competency_app.framework.models import CoreValue, FrameworkVersion, Skill


class Status(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    VALIDATED = "validated"
    RETURNED = "returned"  # back with the practitioner, editable like a draft

    @property
    def label(self) -> str:
        return {
            Status.DRAFT: "Draft",
            Status.SUBMITTED: "Awaiting validation",
            Status.VALIDATED: "Validated",
            Status.RETURNED: "Returned for changes",
        }[self]

    @property
    def editable(self) -> bool:
        return self in (Status.DRAFT, Status.RETURNED)


class Assessment(Model):
    __tablename__ = "assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    framework_version_id: Mapped[int] = mapped_column(ForeignKey("framework_version.id"))
    cycle: Mapped[int] = mapped_column(Integer)  # 1, 2, 3… per person
    status: Mapped[Status] = mapped_column(Enum(Status, native_enum=False, length=20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    return_comment: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    # Optimistic lock: a write based on a stale copy fails instead of overwriting.
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": row_version}
    __table_args__ = (UniqueConstraint("person_id", "cycle"),)

    person: Mapped[User] = relationship(foreign_keys=[person_id])
    validated_by: Mapped[User | None] = relationship(foreign_keys=[validated_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    framework_version: Mapped[FrameworkVersion] = relationship()
    self_ratings: Mapped[list[SelfRating]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan"
    )
    reflections: Mapped[list[ValueReflection]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan"
    )


class SelfRating(Model):
    __tablename__ = "self_rating"
    __table_args__ = (UniqueConstraint("assessment_id", "skill_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"), index=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skill.id"))
    level: Mapped[int] = mapped_column(Integer)
    evidence: Mapped[str | None] = mapped_column(Text)

    assessment: Mapped[Assessment] = relationship(back_populates="self_ratings")
    skill: Mapped[Skill] = relationship()


class ValueReflection(Model):
    __tablename__ = "value_reflection"
    __table_args__ = (UniqueConstraint("assessment_id", "value_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"), index=True)
    value_id: Mapped[int] = mapped_column(ForeignKey("core_value.id"))
    text: Mapped[str] = mapped_column(Text)

    assessment: Mapped[Assessment] = relationship(back_populates="reflections")
    value: Mapped[CoreValue] = relationship()


class ValueReviewOutcome(enum.StrEnum):
    """The supervisor's view of one core-value reflection in supervision."""

    EVIDENCED = "evidenced"
    DISCUSS = "discuss"  # discuss further

    @property
    def label(self) -> str:
        return "Evidenced" if self is ValueReviewOutcome.EVIDENCED else "Discuss further"


class ValueReview(Model):
    """The supervisor's sign-off of one core value's reflection in one assessment.

    One row per (assessment, value); written when the supervisor reviews the reflections
    and read by the supervision record and the coverage's values figure.
    """

    __tablename__ = "value_review"
    __table_args__ = (UniqueConstraint("assessment_id", "value_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"), index=True)
    value_id: Mapped[int] = mapped_column(ForeignKey("core_value.id"))
    outcome: Mapped[ValueReviewOutcome] = mapped_column(
        Enum(ValueReviewOutcome, native_enum=False, length=20)
    )
    comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    assessment: Mapped[Assessment] = relationship()
    value: Mapped[CoreValue] = relationship()
    reviewed_by: Mapped[User] = relationship()


class ValidationDraft(Model):
    """The supervisor's saved judgement of one skill while validating element by element.

    One row per (assessment, skill), written by each element's save and read at sign-off,
    which turns them into `ValidatedRating`s; removed at sign-off or when the assessment is
    returned. `level` None: agree with the self-rating.
    """

    __tablename__ = "validation_draft"
    __table_args__ = (UniqueConstraint("assessment_id", "skill_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"), index=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skill.id"))
    level: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    saved_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ValidatedRating(Model):
    """A supervisor's judgement of one skill in one assessment. Append-only."""

    __tablename__ = "validated_rating"
    __table_args__ = (UniqueConstraint("assessment_id", "skill_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skill.id"))
    skill_key: Mapped[str] = mapped_column(String(80))
    self_level: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    validated_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    validated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    validated_by: Mapped[User] = relationship(foreign_keys=[validated_by_id])


class CurrentRating(Model):
    """The latest validated level of each skill for each person (a projection)."""

    __tablename__ = "current_rating"
    __table_args__ = (
        UniqueConstraint("person_id", "skill_key"),
        # Covers the team coverage aggregates (per person and element, per skill): an
        # index-only scan of a team's rows, already in GROUP BY order (docs/performance.md).
        Index(
            "ix_current_rating_coverage",
            "person_id",
            "element_key",
            "level",
            "expires_at",
            "skill_key",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    skill_key: Mapped[str] = mapped_column(String(80), index=True)
    # The skill's element (stable ids never move between elements): coverage groups by it
    # without joining the framework tables.
    element_key: Mapped[str] = mapped_column(String(80))
    level: Mapped[int] = mapped_column(Integer)
    validated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("validated_rating.id"))


# What each kind of assessment event (`AssessmentEvent.action`, written by
# `assessments/services.py`) reads as in the history.
EVENT_LABELS = {
    "started": "Self-assessment started",
    "submitted": "Submitted for validation",
    "validated": "Validated in supervision",
    "returned": "Returned for changes",
    "values reviewed": "Core values reviewed in supervision",
}


class AssessmentEvent(Model):
    """Every transition and validation: who, when, what, old → new. Append-only."""

    __tablename__ = "assessment_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    action: Mapped[str] = mapped_column(String(40))
    old_status: Mapped[str | None] = mapped_column(String(20))
    new_status: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User] = relationship()

    @property
    def label(self) -> str:
        """What happened, in words (an unknown kind reads as its name)."""
        return EVENT_LABELS.get(self.action, self.action.replace("_", " ").capitalize())

    @property
    def change_label(self) -> str | None:
        """'Draft → Awaiting validation', or None when the state did not change."""
        if not self.new_status:
            return None
        new = _status_label(self.new_status)
        old = self.old_status
        return f"{_status_label(old)} → {new}" if old else new


def _status_label(value: str) -> str:
    try:
        return Status(value).label
    except ValueError:
        return str(value)


@event.listens_for(ValidatedRating, "before_update")
@event.listens_for(ValidatedRating, "before_delete")
@event.listens_for(AssessmentEvent, "before_update")
@event.listens_for(AssessmentEvent, "before_delete")
def _append_only(_mapper, _connection, target):
    raise RuntimeError(f"{type(target).__name__} rows are append-only")
