"""The workbooks' training: five tables, one kind of row each, every column one type.

Compliance (the figures of the compliance pages, percentages as numbers), each keyworker's
required training, the modules assigned with their progress, the completions, and the
suggested plan. Each team's rows come from its batch's completions and assignments
(`training_of`), read a chunk of people a statement.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import Workbook
from sqlalchemy import select

from competency_app.accounts.models import User
from competency_app.clock import today as today_in_london
from competency_app.common.dates import london_day
from competency_app.common.xlsx import Percent, SheetWriter, add_table
from competency_app.coverage.actions import training_plan
from competency_app.coverage.services import TeamCoverage
from competency_app.database import chunks
from competency_app.extensions import db
from competency_app.framework.models import FrameworkVersion
from competency_app.training.models import ModuleCompletion, TrainingAssignment
from competency_app.training.required import (
    DUE,
    EXPIRING,
    IN_DATE,
    OVERDUE,
    ComplianceCounts,
    completion_expiry,
    compliance_from,
    counted_until,
    organisation_compliance_counts,
)
from competency_app.training.services import (
    PROGRESS_LABELS,
    completed_since,
    progress_status,
)

SHEETS = ["Compliance", "Required training", "Assigned training", "Completions", "Suggested"]


@dataclass
class TrainingSheets:
    compliance: SheetWriter
    required: SheetWriter
    assigned: SheetWriter
    completions: SheetWriter
    suggested: SheetWriter

    @property
    def rows(self) -> int:
        return sum(
            sheet.rows
            for sheet in (
                self.compliance,
                self.required,
                self.assigned,
                self.completions,
                self.suggested,
            )
        )


def training_sheets(
    workbook: Workbook,
    version: FrameworkVersion,
    now: datetime,
    scope: str,
    book_title: str,
    organisation_id: int | None = None,
) -> TrainingSheets:
    """The five training tables, with the organisation's compliance figures first in the
    organisation workbook; `training_rows` adds each team."""
    words = version.settings.words
    sheets = TrainingSheets(
        compliance=add_table(
            workbook,
            "Compliance",
            [
                "Team",
                "Module",
                "Required",
                "Compliant",
                "Compliant %",
                "Overdue",
                "Never done",
                "Expiring",
                "In date",
                f"{words.practitioners.capitalize()} in date on every module",
            ],
            (30, 50, 11, 11, 12, 10, 11, 10, 10, 20),
            book_title=book_title,
        ),
        required=add_table(
            workbook,
            "Required training",
            ["Team", "Team member", "Module", "Completed on", "Repeat by", "Status"],
            (24, 24, 60, 14, 14, 18),
            book_title=book_title,
        ),
        assigned=add_table(
            workbook,
            "Assigned training",
            [
                "Team",
                "Team member",
                "Module",
                "Assigned on",
                "Assigned by",
                "For element",
                "Due by",
                "Completed on",
                "Progress",
            ],
            (24, 24, 60, 14, 24, 40, 14, 14, 14),
            book_title=book_title,
        ),
        completions=add_table(
            workbook,
            "Completions",
            ["Team", "Team member", "Module", "Completed on", "Repeat by", "Certificate"],
            (24, 24, 60, 14, 14, 26),
            book_title=book_title,
        ),
        suggested=add_table(
            workbook,
            "Suggested",
            ["Team", "Team member", "Module", "Would help close"],
            (24, 24, 60, 60),
            book_title=book_title,
        ),
    )
    if scope == "Organisation":
        # Counted from the keyworkers' ids a chunk at a time, not from every keyworker loaded
        # at once (which grew the peak memory with the organisation).
        overall = organisation_compliance_counts(version, now, organisation_id=organisation_id)
        compliance_rows(
            sheets.compliance, f"Organisation (each {words.practitioner} once)", overall
        )
    return sheets


def compliance_rows(sheet: SheetWriter, team_name: str, compliance: ComplianceCounts) -> None:
    """The figures of the compliance pages: per required module, then overall (whose
    `Required` counts (person, module) pairs). Percentages as the pages round them."""
    totals = dict.fromkeys((OVERDUE, DUE, EXPIRING, IN_DATE), 0)
    for mc in compliance.modules:
        counts = mc.counts
        for status in totals:
            totals[status] += counts.get(status, 0)
        sheet.row(
            [
                team_name,
                mc.module.title,
                mc.people,
                mc.compliant,
                Percent(mc.percent / 100),
                counts.get(OVERDUE, 0),
                counts.get(DUE, 0),
                counts.get(EXPIRING, 0),
                counts.get(IN_DATE, 0),
                None,
            ]
        )
    if compliance.modules:
        sheet.row(
            [
                team_name,
                "All required training",
                compliance.required,
                compliance.compliant,
                Percent(compliance.percent / 100),
                totals[OVERDUE],
                totals[DUE],
                totals[EXPIRING],
                totals[IN_DATE],
                compliance.fully_compliant,
            ]
        )


@dataclass
class Training:
    """A batch's completions and assignments (not cancelled), by person."""

    completions: dict[int, list[tuple]]  # person -> (id, module key, completed on, cert.)
    assignments: dict[int, list[tuple]]  # person -> (id, key, due, element, at, by whom)


def training_of(person_ids: list[int]) -> Training:
    completions: dict[int, list[tuple]] = defaultdict(list)
    assignments: dict[int, list[tuple]] = defaultdict(list)
    assigner = User.__table__.alias("assigner")
    for chunk in chunks(sorted(set(person_ids)), 900):
        for person, *row in db.session.connection().execute(
            select(
                ModuleCompletion.person_id,
                ModuleCompletion.id,
                ModuleCompletion.module_key,
                ModuleCompletion.completed_on,
                ModuleCompletion.certificate_ref,
            ).where(ModuleCompletion.person_id.in_(chunk))
        ):
            completions[person].append(tuple(row))
        for person, *row in db.session.connection().execute(
            select(
                TrainingAssignment.person_id,
                TrainingAssignment.id,
                TrainingAssignment.module_key,
                TrainingAssignment.due_on,
                TrainingAssignment.element_key,
                TrainingAssignment.assigned_at,
                assigner.c.name,
            )
            .join(assigner, assigner.c.id == TrainingAssignment.assigned_by_id)
            .where(
                TrainingAssignment.person_id.in_(chunk),
                TrainingAssignment.cancelled_at.is_(None),
            )
        ):
            assignments[person].append(tuple(row))
    return Training(completions, assignments)


def training_rows(
    sheets: TrainingSheets,
    version: FrameworkVersion,
    cov: TeamCoverage,
    now: datetime,
    training: Training,
) -> None:
    """The team's rows of each training table: its compliance figures and each
    keyworker's standing (as on the compliance pages), assigned modules with progress,
    completions (by date, then person and record) and the suggested plan."""
    modules = {m.key: m for m in version.modules}
    today = london_day(now)
    team = cov.team.name
    members = cov.members
    names = {m.id: m.name for m in members}
    ids = list(names)
    # each person's latest completion of each module on or before today, as the pages
    # read them (`latest_completions`): one dated later was stored before such dates were
    # refused and counts nowhere
    counted = counted_until(today)
    latest: dict[tuple[int, str], date] = {}
    for person in ids:
        for _id, key, completed, _certificate in training.completions.get(person, ()):
            if completed <= counted and (
                (person, key) not in latest or completed > latest[(person, key)]
            ):
                latest[(person, key)] = completed
    compliance = compliance_from(members, latest, version, today)
    compliance_rows(sheets.compliance, team, ComplianceCounts.of(compliance))
    for standing in compliance.standings:
        sheets.required.row(
            [
                team,
                standing.person.name,
                standing.module.title,
                standing.completed_on,
                standing.expires_on,
                standing.label,
            ]
        )
    _assigned_rows(sheets.assigned, cov, training, modules)
    done = sorted(
        (completed, person, number, key, certificate)
        for person in ids
        for number, key, completed, certificate in training.completions.get(person, ())
    )
    for completed, person, _number, key, certificate in done:
        module = modules.get(key)
        sheets.completions.row(
            [
                team,
                names[person],
                module.title if module else key,
                completed,
                completion_expiry(completed, module) if module else None,
                certificate,
            ]
        )
    for step in training_plan(cov, latest):
        closes = ", ".join(e.display_name for e in step.closes)
        who: list[User | None] = [*step.members] or [None]
        for member in who:
            sheets.suggested.row(
                [team, member.name if member else "Anyone in the team", step.module.title, closes]
            )


def _assigned_rows(sheet: SheetWriter, cov: TeamCoverage, training: Training, modules) -> None:
    """Each assignment's progress by the rules `training.services.progress_of` applies:
    open ones first, by due date."""
    progress_today = today_in_london()
    elements = {e.element.key: e.element for e in cov.elements}
    names = {m.id: m.name for m in cov.members}
    assigned = []
    for person in names:
        done_on: dict[str, list] = defaultdict(list)
        for _id, key, completed, _certificate in training.completions.get(person, ()):
            done_on[key].append(completed)
        for number, key, due_on, element_key, at, by in training.assignments.get(person, ()):
            completed_on = completed_since(at, done_on.get(key, ()))
            status = progress_status(completed_on, due_on, progress_today)
            assigned.append(
                (completed_on is not None, due_on, number, person, key, completed_on, status)
                + (by, at, element_key)
            )
    assigned.sort(key=lambda a: (a[0], a[1], a[2]))
    for _done, due_on, _number, person, key, completed_on, status, by, at, element in assigned:
        module = modules.get(key)
        sheet.row(
            [
                cov.team.name,
                names[person],
                module.title if module else key,
                london_day(at),
                by,
                elements[element].display_name if element in elements else None,
                due_on,
                completed_on,
                PROGRESS_LABELS[status],
            ]
        )
