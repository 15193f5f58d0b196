"""Assigning modules to people (from a team's training plan or in supervision), their
progress, cancelling them, and the skills a completion asks to reassess."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from competency_app.accounts.audit import AuditAction
from competency_app.accounts.models import Team, User
from competency_app.accounts.services import record
from competency_app.assessments.models import CurrentRating
from competency_app.clock import today as today_in_london
from competency_app.clock import utcnow
from competency_app.common.dates import london_day, uk_date
from competency_app.database import chunks
from competency_app.extensions import db
from competency_app.framework.models import FrameworkVersion, Module, Skill
from competency_app.notifications import catalogue
from competency_app.notifications.services import notify
from competency_app.training import required
from competency_app.training.models import ModuleCompletion, TrainingAssignment


class AssignmentError(ValueError):
    """A refused assignment; `field` names the form field it is about. `confirmable`: the
    refusal is a warning the person may overrule ("assign it anyway")."""

    def __init__(self, message: str, field: str, *, confirmable: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.confirmable = confirmable


def in_date_completions(
    person_ids: Sequence[int], modules: Sequence[Module], day: date
) -> dict[tuple[int, str], tuple[date, date | None]]:
    """(person id, module key) -> (completed on, repeat by or None) for each latest
    completion still in date on `day` (its refresh, if any, not yet reached)."""
    keys = [module.key for module in modules]
    return in_date_of(required.latest_completions(person_ids, keys), modules, day)


def in_date_of(
    latest: dict, modules: Sequence[Module], day: date
) -> dict[tuple[int, str], tuple[date, date | None]]:
    """`in_date_completions` from latest completions already read (`latest`: (person id,
    module key) -> the latest completion on or before today, as `latest_completions`
    gives)."""
    by_key = {module.key: module for module in modules}
    found = {}
    for (person_id, key), done in latest.items():
        module = by_key.get(key)
        if module is None:
            continue
        expires = required.completion_expiry(done, module)
        if expires is None or expires > day:
            found[(person_id, key)] = (done, expires)
    return found


def in_date_warning(person: User, module: Module, done: date, expires: date | None) -> str:
    until = f"it is in date until {uk_date(expires)}" if expires else "it does not need repeating"
    return (
        f"{person.name} completed {module.title} on {uk_date(done)} and {until}. "
        "Choose another module, or tick “Assign it again anyway”."
    )


def assign_module(
    person: User,
    module_key: str,
    due_on: date,
    actor: User,
    version: FrameworkVersion,
    *,
    element_key: str | None = None,
    note: str | None = None,
    confirmed: bool = False,
) -> TrainingAssignment:
    """Ask `person` to complete `module_key` by `due_on` (flushes, never commits); the person
    is told in the same transaction (the modules-assigned notification, emailed after the
    commit).

    The module must be in `version`'s catalogue and the due date today (in London) or later.
    A module the person completed and is still in date for is refused unless `confirmed`
    (the refusal is `confirmable`: the page offers "assign it again anyway").
    """
    module = next((m for m in version.modules if m.key == module_key), None)
    if module is None:
        raise AssignmentError("Choose a module from the catalogue", "module")
    if due_on < today_in_london():
        raise AssignmentError("The due date must be today or later", "due_on")
    if not confirmed:
        held = in_date_completions([person.id], [module], today_in_london())
        if (person.id, module.key) in held:
            done, expires = held[(person.id, module.key)]
            raise AssignmentError(
                in_date_warning(person, module, done, expires), "module", confirmable=True
            )
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
    notify(
        person.id,
        catalogue.MODULES_ASSIGNED,
        f"assignment:{assignment.id}",
        due_on,
        f"/people/{person.id}/development",
        module=module.title,
        by=actor.name,
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


# ---- assigning from a team's training plan, progress, cancelling --------------------------

DONE, OPEN, LATE = "done", "due", "overdue"
PROGRESS_LABELS = {DONE: "Completed", OPEN: "Due", LATE: "Overdue"}
PROGRESS_TAGS = {DONE: "nhsuk-tag--green", OPEN: "nhsuk-tag--blue", LATE: "nhsuk-tag--red"}


@dataclass(frozen=True)
class AssignmentProgress:
    """An assignment and where it stands: completed (a completion of the module on or after
    the day it was assigned), due, or overdue."""

    assignment: TrainingAssignment
    completed_on: date | None
    today: date

    @property
    def status(self) -> str:
        return progress_status(self.completed_on, self.assignment.due_on, self.today)

    @property
    def label(self) -> str:
        return PROGRESS_LABELS[self.status]

    @property
    def tag_class(self) -> str:
        return PROGRESS_TAGS[self.status]

    @property
    def done(self) -> bool:
        return self.completed_on is not None


def progress_status(completed_on: date | None, due_on: date, today: date) -> str:
    """Where an assignment stands: done once completed, else overdue after its due day."""
    if completed_on is not None:
        return DONE
    return LATE if due_on < today else OPEN


def completed_since(
    assigned_at: datetime, dates: Iterable[date], today: date | None = None
) -> date | None:
    """The first of the module's completion `dates` on or after the London day it was
    assigned and not after `today`: the completion that counts for the assignment (a
    stored date in the future counts for nothing, as for required training)."""
    since = london_day(assigned_at)
    until = today or today_in_london()
    return min((day for day in dates if since <= day <= until), default=None)


def progress_of(assignments: Sequence[TrainingAssignment]) -> list[AssignmentProgress]:
    """Each assignment with its progress (one query for the completions of all of them)."""
    today = today_in_london()
    if not assignments:
        return []
    people = sorted({a.person_id for a in assignments})
    keys = sorted({a.module_key for a in assignments})
    done: dict[tuple[int, str], list[date]] = {}
    for part in chunks(people):
        for person_id, key, completed_on in db.session.execute(
            select(
                ModuleCompletion.person_id,
                ModuleCompletion.module_key,
                ModuleCompletion.completed_on,
            ).where(ModuleCompletion.person_id.in_(part), ModuleCompletion.module_key.in_(keys))
        ):
            done.setdefault((person_id, key), []).append(completed_on)
    result = []
    for assignment in assignments:
        dates = done.get((assignment.person_id, assignment.module_key), ())
        completed = completed_since(assignment.assigned_at, dates, today)
        result.append(AssignmentProgress(assignment, completed, today))
    return result


def person_assignments(person: User) -> list[AssignmentProgress]:
    """`person`'s assignments not cancelled, with progress: open ones first (soonest due)."""
    progress = progress_of(open_assignments(person))
    return sorted(progress, key=lambda p: (p.done, p.assignment.due_on, p.assignment.id))


def team_assignments(people: Sequence[User]) -> list[AssignmentProgress]:
    """The assignments (not cancelled) of `people`, open ones first, soonest due first."""
    ids = [p.id for p in people]
    rows: list[TrainingAssignment] = []
    for part in chunks(ids):
        rows += db.session.scalars(
            select(TrainingAssignment).where(
                TrainingAssignment.person_id.in_(part), TrainingAssignment.cancelled_at.is_(None)
            )
        )
    progress = progress_of(rows)
    return sorted(progress, key=lambda p: (p.done, p.assignment.due_on, p.assignment.id))


@dataclass(frozen=True)
class Progress:
    """Assigned and completed counts (for the training plan and the coverage page)."""

    assigned: int
    completed: int
    overdue: int

    @classmethod
    def of(cls, items: Sequence[AssignmentProgress]) -> Progress:
        return cls(
            len(items),
            sum(1 for p in items if p.done),
            sum(1 for p in items if p.status == LATE),
        )


def assign_in_team(
    team: Team,
    members: Sequence[User],
    person_id: int | None,
    module_key: str,
    due_on: date,
    actor: User,
    version: FrameworkVersion,
    *,
    element_key: str | None = None,
    note: str | None = None,
    confirmed: bool = False,
) -> TrainingAssignment:
    """A manager assigns a module to one of `team`'s keyworkers (`members`).

    Refused, naming the field: someone not in the team, a module not in the catalogue, a
    due date in the past, a gap that is not an element of the framework, or the same
    module already assigned to the person and not yet completed."""
    person = next((m for m in members if m.id == person_id), None)
    if person is None:
        words = version.settings.words
        raise AssignmentError(f"Choose a {words.practitioner} in {team.name}", "person")
    if module_key not in {module.key for module in version.modules}:
        raise AssignmentError("Choose a module from the catalogue", "module")
    if element_key and element_key not in {e.key for c in version.competencies for e in c.elements}:
        raise AssignmentError("The gap named is not an element of the framework", "module")
    for existing in person_assignments(person):
        if existing.assignment.module_key == module_key and not existing.done:
            raise AssignmentError(
                f"{person.name} already has this module to complete by "
                f"{uk_date(existing.assignment.due_on)}",
                "module",
            )
    return assign_module(
        person,
        module_key,
        due_on,
        actor,
        version,
        element_key=element_key or None,
        note=note,
        confirmed=confirmed,
    )


def assignment_in(team_people: Sequence[User], assignment_id: int) -> TrainingAssignment | None:
    """The assignment, when it is (not cancelled and) for one of `team_people`."""
    assignment = db.session.get(TrainingAssignment, assignment_id)
    if assignment is None or assignment.cancelled_at is not None:
        return None
    if assignment.person_id not in {p.id for p in team_people}:
        return None
    return assignment


def cancel_assignment(assignment: TrainingAssignment, actor: User) -> None:
    """Cancel an assignment not yet completed (flushes, never commits); audited."""
    if assignment.cancelled_at is not None:
        raise AssignmentError("This assignment was already cancelled", "assignment")
    if progress_of([assignment])[0].done:
        raise AssignmentError(
            "This module has been completed: there is nothing to cancel", "assignment"
        )
    assignment.cancelled_at = utcnow()
    db.session.flush()
    record(
        AuditAction.MODULE_ASSIGNMENT_CANCELLED,
        actor,
        target=f"user:{assignment.person_id}",
        module=assignment.module_key,
        assignment=assignment.id,
    )


# ---- completion prompts reassessment, never competence ---------------------------------


@dataclass(frozen=True)
class Reassess:
    """A skill to reassess at the next supervision, and the completion that prompts it."""

    skill: Skill
    module: Module
    completed_on: date


def skills_to_reassess(
    person: User, version: FrameworkVersion, catalogue: Sequence | None = None
) -> list[Reassess]:
    """Skills a completed module develops (the skill, or its element) that have not been
    validated since the completion: "reassess at your next supervision". A completion never
    changes a rating. `catalogue`: the modules to read (local courses included), else the
    version's."""
    latest: dict[str, date] = dict(
        db.session.execute(
            select(ModuleCompletion.module_key, func.max(ModuleCompletion.completed_on))
            .where(ModuleCompletion.person_id == person.id)
            .group_by(ModuleCompletion.module_key)
        ).all()
    )
    if not latest:
        return []
    validated = {
        key: london_day(at)
        for key, at in db.session.execute(
            select(CurrentRating.skill_key, CurrentRating.validated_at).where(
                CurrentRating.person_id == person.id
            )
        )
    }
    found: dict[str, Reassess] = {}
    for module in version.modules if catalogue is None else catalogue:
        completed_on = latest.get(module.key)
        if completed_on is None:
            continue
        develops = set(module.develops)
        for competency in version.competencies:
            for element in competency.elements:
                for skill in element.skills:
                    if skill.key not in develops and element.key not in develops:
                        continue
                    last = validated.get(skill.key)
                    if last is not None and last > completed_on:
                        continue  # validated since: the reassessment happened
                    seen = found.get(skill.key)
                    if seen is None or completed_on > seen.completed_on:
                        found[skill.key] = Reassess(skill, module, completed_on)
    order = {
        s.key: i
        for i, s in enumerate(s for c in version.competencies for e in c.elements for s in e.skills)
    }
    return sorted(found.values(), key=lambda r: order[r.skill.key])
