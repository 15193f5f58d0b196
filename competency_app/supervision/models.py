"""Supervision sessions, the schedules that create them, and the modules assigned in them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from competency_app.accounts.models import User
from competency_app.database import UTCDateTime
from competency_app.extensions import Model
from competency_app.training.models import TrainingAssignment


class SupervisionSchedule(Model):
    """A repeating arrangement: a session every `every_weeks` weeks from the first one.

    Scheduling creates its sessions at once (`sessions` of them); each can then be
    rescheduled or cancelled on its own.
    """

    __tablename__ = "supervision_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    supervisee_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    every_weeks: Mapped[int] = mapped_column(Integer)
    sessions: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))


class SupervisionSession(Model):
    """One supervision meeting between a supervisee and their supervisor.

    `starts_at` is stored in UTC and shown in London time. A cancelled session keeps its
    row (who cancelled it and when) and no longer counts as the next session.
    """

    __tablename__ = "supervision_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    supervisee_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    place: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_schedule.id"))
    agreed_actions: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    supervisee: Mapped[User] = relationship(foreign_keys=[supervisee_id])
    supervisor: Mapped[User] = relationship(foreign_keys=[supervisor_id])
    schedule: Mapped[SupervisionSchedule | None] = relationship()

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None


class SessionAssignment(Model):
    """A module assigned during a supervision session (the assignment itself is training's)."""

    __tablename__ = "supervision_session_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("supervision_session.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("training_assignment.id"), unique=True)

    assignment: Mapped[TrainingAssignment] = relationship()
