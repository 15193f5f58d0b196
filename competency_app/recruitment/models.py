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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from competency_app.accounts.models import Team, User
from competency_app.database import UTCDateTime
from competency_app.extensions import Model

PANEL_ROLES = ("shortlister", "interviewer", "chair")


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

    team: Mapped[Team] = relationship()
    panel: Mapped[list[PanelMember]] = relationship(
        back_populates="vacancy", cascade="all, delete-orphan"
    )
    candidates: Mapped[list[Candidate]] = relationship(
        back_populates="vacancy", order_by="Candidate.reference", cascade="all, delete-orphan"
    )

    def members(self, role: str) -> list[User]:
        return [p.user for p in self.panel if p.role == role]


class PanelMember(Model):
    __tablename__ = "panel_member"
    __table_args__ = (UniqueConstraint("vacancy_id", "user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vacancy_id: Mapped[int] = mapped_column(ForeignKey("vacancy.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # shortlister / interviewer / chair

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

    vacancy: Mapped[Vacancy] = relationship(back_populates="candidates")


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
