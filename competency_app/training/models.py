"""Records of training: completed e-learning (evidence for reassessment, never competence
itself) and modules assigned to a person with a due date."""

from __future__ import annotations

from datetime import date, datetime
from itertools import chain

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from competency_app.accounts.models import User, move_teams_on
from competency_app.database import UTCDateTime
from competency_app.extensions import Model


class ModuleCompletion(Model):
    __tablename__ = "module_completion"
    __table_args__ = (UniqueConstraint("person_id", "module_key", "completed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    module_key: Mapped[str] = mapped_column(String(80))  # stable id from the catalogue
    completed_on: Mapped[date] = mapped_column(Date)
    certificate_ref: Mapped[str | None] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))

    person: Mapped[User] = relationship(foreign_keys=[person_id])


class TrainingAssignment(Model):
    """A module a manager or supervisor asked a person to complete by a date.

    Completing it never counts as competence: it prompts reassessment of the linked skills
    at the next supervision. `element_key` names the team gap it was assigned to close, when
    it came from the coverage page's suggestions. Progress is read from completions of the
    module on or after `assigned_at`.
    """

    __tablename__ = "training_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    module_key: Mapped[str] = mapped_column(String(80))  # stable id from the catalogue
    due_on: Mapped[date] = mapped_column(Date)
    element_key: Mapped[str | None] = mapped_column(String(40))  # the gap it closes, if any
    note: Mapped[str | None] = mapped_column(Text)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    person: Mapped[User] = relationship(foreign_keys=[person_id])
    assigned_by: Mapped[User] = relationship(foreign_keys=[assigned_by_id])


@event.listens_for(Session, "after_flush")
def bump_training_epoch(session: Session, _context) -> None:
    """Move on the `training_epoch` of every team whose members' completions or assignments
    this flush wrote, in the same transaction (the coverage page's training line is cached
    by it). Every write of these records goes through the ORM; none is bulk."""
    people = {
        record.person_id
        for record in chain(session.new, session.dirty, session.deleted)
        if isinstance(record, ModuleCompletion | TrainingAssignment)
    }
    if people:
        move_teams_on("training_epoch", people, session.connection())
