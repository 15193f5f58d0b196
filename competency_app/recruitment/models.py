"""Recruitment records. Candidate personal data is purged after the retention period."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from competency_app.accounts.models import Team, User
from competency_app.database import UTCDateTime
from competency_app.extensions import Model

PANEL_ROLES = ("shortlister", "interviewer", "chair")

# The vacancy's life, in order. `services.TRANSITIONS` says which move follows which.
STATES = (
    "open",
    "shortlisting",
    "interviewing",
    "decided",
    "offer_made",
    "appointed",
    "withdrawn",
    "closed",
)
STATE_LABELS = {
    "open": "Open for applications",
    "shortlisting": "Shortlisting",
    "interviewing": "Interviewing",
    "decided": "Decided",
    "offer_made": "Offer made",
    "appointed": "Appointed",
    "withdrawn": "Offer withdrawn",
    "closed": "Closed",
}


class Vacancy(Model):
    __tablename__ = "vacancy"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    framework_version_id: Mapped[int] = mapped_column(ForeignKey("framework_version.id"))
    spec_key: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    closing_date: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(20), default="open", server_default="open")
    state_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    team: Mapped[Team] = relationship()
    panel: Mapped[list[PanelMember]] = relationship(
        back_populates="vacancy", cascade="all, delete-orphan"
    )
    candidates: Mapped[list[Candidate]] = relationship(
        back_populates="vacancy",
        order_by="Candidate.reference",
        cascade="all, delete-orphan",
    )

    def members(self, role: str) -> list[User]:
        return [p.user for p in self.panel if p.role == role]

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def lay_members(self) -> list[User]:
        return [p.user for p in self.panel if p.lay]


class PanelMember(Model):
    __tablename__ = "panel_member"
    __table_args__ = (UniqueConstraint("vacancy_id", "user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vacancy_id: Mapped[int] = mapped_column(ForeignKey("vacancy.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # shortlister / interviewer / chair
    # A lay or expert-by-experience member, invited for this vacancy alone.
    lay: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    vacancy: Mapped[Vacancy] = relationship(back_populates="panel")
    user: Mapped[User] = relationship()


class Candidate(Model):
    """The fewest personal details needed: a name and a contact email."""

    __tablename__ = "candidate"
    __table_args__ = (UniqueConstraint("vacancy_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vacancy_id: Mapped[int] = mapped_column(ForeignKey("vacancy.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when the chair records a complete set of agreed scores; until then any agreed
    # scores are a draft and the ranking shows "not agreed yet".
    scores_agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "offered", "withdrawn" or "appointed"; the staff record made on appointment.
    offer: Mapped[str | None] = mapped_column(String(20))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    start_date: Mapped[date | None] = mapped_column(Date)

    vacancy: Mapped[Vacancy] = relationship(back_populates="candidates")
    slot: Mapped[InterviewSlot | None] = relationship(
        back_populates="candidate", cascade="all, delete-orphan", passive_deletes=True
    )


class ShortlistMark(Model):
    __tablename__ = "shortlist_mark"
    __table_args__ = (UniqueConstraint("candidate_id", "criterion_key", "shortlister_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True
    )
    criterion_key: Mapped[str] = mapped_column(String(80))
    shortlister_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    met: Mapped[bool | None] = mapped_column(Boolean)  # essential criteria
    score: Mapped[int | None] = mapped_column(Integer)  # desirable criteria


class InterviewScore(Model):
    __tablename__ = "interview_score"
    __table_args__ = (UniqueConstraint("candidate_id", "criterion_key", "panel_member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True
    )
    criterion_key: Mapped[str] = mapped_column(String(80))
    panel_member_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    score: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)


class InterviewSubmission(Model):
    """A panel member's scores for a candidate are final (and others' visible) once submitted."""

    __tablename__ = "interview_submission"
    __table_args__ = (UniqueConstraint("candidate_id", "panel_member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True
    )
    panel_member_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AgreedScore(Model):
    __tablename__ = "agreed_score"
    __table_args__ = (UniqueConstraint("candidate_id", "criterion_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True
    )
    criterion_key: Mapped[str] = mapped_column(String(80))
    score: Mapped[int] = mapped_column(Integer)
    chair_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ShortlistModeration(Model):
    """The chair's or recruiter's decision on a criterion the shortlisters disagree on."""

    __tablename__ = "shortlist_moderation"
    __table_args__ = (UniqueConstraint("candidate_id", "criterion_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True
    )
    criterion_key: Mapped[str] = mapped_column(String(80))
    met: Mapped[bool | None] = mapped_column(Boolean)  # essential criteria
    score: Mapped[int | None] = mapped_column(Integer)  # desirable criteria
    reason: Mapped[str] = mapped_column(Text)
    moderator_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    moderated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InterviewSlot(Model):
    """When and where a candidate is interviewed: a place or a video link."""

    __tablename__ = "interview_slot"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), unique=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(500))

    candidate: Mapped[Candidate] = relationship(back_populates="slot")


class AssessmentScore(Model):
    """The panel's score for a task or presentation, on criteria assessed by "Assessment"."""

    __tablename__ = "assessment_score"
    __table_args__ = (UniqueConstraint("candidate_id", "criterion_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True
    )
    criterion_key: Mapped[str] = mapped_column(String(80))
    score: Mapped[int] = mapped_column(Integer)
    assessor_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime())


# A pre-employment check's outcome, as recorded: only "satisfactory" and "waived" (with its
# reason) let the candidate be appointed.
CHECK_OUTCOMES = {
    "satisfactory": "Satisfactory",
    "not_satisfactory": "Not satisfactory",
    "waived": "Waived",
}


class PreEmploymentCheckRecord(Model):
    """The outcome of one check a candidate's conditional offer depends on (the checks are
    the framework file's: the DBS check, references…), recorded by HR or a recruiter. No
    row: the check is outstanding."""

    __tablename__ = "pre_employment_check"
    __table_args__ = (UniqueConstraint("candidate_id", "check_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True
    )
    check_key: Mapped[str] = mapped_column(String(80))  # the check's id in the framework file
    outcome: Mapped[str] = mapped_column(String(20))  # a key of CHECK_OUTCOMES
    checked_on: Mapped[date] = mapped_column(Date)
    waiver_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    recorded_by: Mapped[User] = relationship()

    @property
    def outcome_label(self) -> str:
        return CHECK_OUTCOMES.get(self.outcome, self.outcome)
