"""Assigning modules to people (from a coverage gap's suggestions or in supervision)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from competency_app.accounts.audit import AuditAction
from competency_app.accounts.models import User
from competency_app.accounts.services import record
from competency_app.clock import today, utcnow
from competency_app.extensions import db
from competency_app.framework.models import FrameworkVersion
from competency_app.training.models import TrainingAssignment


class AssignmentError(ValueError):
    """A refused assignment; `field` names the form field it is about."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def assign_module(
    person: User,
    module_key: str,
    due_on: date,
    actor: User,
    version: FrameworkVersion,
    *,
    element_key: str | None = None,
    note: str | None = None,
) -> TrainingAssignment:
    """Ask `person` to complete `module_key` by `due_on` (flushes, never commits).

    The module must be in `version`'s catalogue and the due date today or later.
    """
    if module_key not in {module.key for module in version.modules}:
        raise AssignmentError("Choose a module from the catalogue", "module")
    if due_on < today():
        raise AssignmentError("The due date must be today or later", "due_on")
    assignment = TrainingAssignment(
        person_id=person.id,
        module_key=module_key,
        due_on=due_on,
        element_key=element_key,
        note=note or None,
        assigned_at=utcnow(),
        assigned_by_id=actor.id,
    )
    db.session.add(assignment)
    db.session.flush()
    record(
        AuditAction.MODULE_ASSIGNED,
        actor,
        target=f"user:{person.id}",
        module=module_key,
        assignment=assignment.id,
        due_on=due_on.isoformat(),
    )
    return assignment


def open_assignments(person: User) -> list[TrainingAssignment]:
    """`person`'s assignments not cancelled, soonest due first."""
    return list(
        db.session.scalars(
            select(TrainingAssignment)
            .where(
                TrainingAssignment.person_id == person.id,
                TrainingAssignment.cancelled_at.is_(None),
            )
            .order_by(TrainingAssignment.due_on, TrainingAssignment.id)
        )
    )
