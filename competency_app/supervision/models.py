"""Supervision sessions, the schedules that create them, and the modules assigned in them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
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


class SessionKind:
    """A session's kind (stored as these words; the framework file says which are held)."""

    ONE_TO_ONE = "one_to_one"
    PEER = "peer"
    GROUP = "group"
    LABELS = {ONE_TO_ONE: "One-to-one", PEER: "Peer supervision", GROUP: "Group supervision"}
    HINTS = {
        ONE_TO_ONE: "A supervisee and their supervisor.",
        PEER: "Practitioners supervising each other, led by you or one of them.",
        GROUP: "Several supervisees with you, led by you.",
    }


class SupervisionGroup(Model):
    """A peer or group session booked once for several supervisees: each has a session
    (and so a record) of their own, private to them and their supervisor; this row only
    ties them together."""

    __tablename__ = "supervision_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))


class SupervisionSession(Model):
    """One supervisee's supervision meeting: one-to-one with their supervisor, or their
    place in a peer or group session (`group_id`; `led_by_id` names who led it when that
    was not the supervisor, such as a fellow practitioner leading peer supervision).

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
    kind: Mapped[str] = mapped_column(
        String(20), default=SessionKind.ONE_TO_ONE, server_default=SessionKind.ONE_TO_ONE
    )
    group_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_group.id"), index=True)
    led_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    supervisee: Mapped[User] = relationship(foreign_keys=[supervisee_id])
    supervisor: Mapped[User] = relationship(foreign_keys=[supervisor_id])
    led_by: Mapped[User | None] = relationship(foreign_keys=[led_by_id])
    schedule: Mapped[SupervisionSchedule | None] = relationship()

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def kind_label(self) -> str:
        return SessionKind.LABELS.get(self.kind, self.kind)


class PromptNote(Model):
    """What was said in a session about one of the framework file's discussion prompts.

    The prompt's title is kept as it was, so a note still reads under its heading after a
    later framework version drops or renames the prompt."""

    __tablename__ = "supervision_prompt_note"
    __table_args__ = (UniqueConstraint("session_id", "prompt_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("supervision_session.id"), index=True)
    prompt_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))


class SessionAssignment(Model):
    """A module assigned during a supervision session (the assignment itself is training's)."""

    __tablename__ = "supervision_session_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("supervision_session.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("training_assignment.id"), unique=True)

    assignment: Mapped[TrainingAssignment] = relationship()
