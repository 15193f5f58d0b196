"""The HR workbooks: a team's, or the whole organisation's.

Built from the same services as the coverage page (so the figures agree), written through
`common.xlsx` (so no cell is ever a formula), streamed from SQL rows (never ORM objects
counted in Python) into write-only sheets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import and_, func, select

from competency_app.accounts.models import Role, Team, User
from competency_app.accounts.services import members_of_teams
from competency_app.assessments.models import (
    Assessment,
    CurrentRating,
    SelfRating,
    Status,
    ValidatedRating,
)
from competency_app.clock import today as today_in_london
from competency_app.clock import utcnow
from competency_app.common.dates import london_day, uk_date
from competency_app.common.xlsx import (
    EXCEL_ROW_LIMIT,
    SheetWriter,
    add_sheet,
    new_workbook,
    safe_text,
    to_bytes,
)
from competency_app.coverage.figures import figures_for_teams
from competency_app.coverage.services import (
    TeamCoverage,
    coverage_for_team,
    judge,
    rule_sentence,
    training_plan,
)
from competency_app.database import chunks
from competency_app.extensions import db
from competency_app.framework.models import FrameworkVersion, Skill
from competency_app.training.models import ModuleCompletion, TrainingAssignment
from competency_app.training.required import (
    DUE,
    EXPIRING,
    OVERDUE,
    ComplianceCounts,
    completion_expiry,
    compliance_from,
    organisation_compliance_counts,
)
from competency_app.training.services import (
    PROGRESS_LABELS,
    completed_since,
    progress_status,
)

# Rows fetched at a time from a streamed (server-side, on PostgreSQL) cursor.
STREAM_ROWS = 5000

# Fills by where a level stands against the scale's competent level (as on the pages), so
# that any scale reads the same: below, one below, competent, above.
FILLS = {"below": "F0F4F5", "developing": "FFF9C4", "competent": "CCE5D8", "above": "A2D5B7"}


def level_fills(version: FrameworkVersion) -> dict[int, str]:
    competent = version.settings.scale.competent_level
    fills = {}
    for level in version.settings.scale.levels:
        value = level.value
        band = (
            "above"
            if value > competent
            else "competent"
            if value == competent
            else "developing"
            if value == competent - 1
            else "below"
        )
        fills[value] = FILLS[band]
    return fills


@dataclass
class Export:
    content: bytes
    rows: int
    filename: str


def _element_name(element) -> str:
    return element.display_name


def _summary_entry(cov: TeamCoverage) -> list[list]:
    """A team's rows of the Summary sheet (kept while the other teams are written)."""
    counts = cov.counts
    return [
        [],
        [
            cov.team.name,
            f"{counts['elements_met']} of {counts['elements']} elements met; "
            f"{counts['gaps']} gaps, {counts['at_risk']} at risk; "
            f"{counts['skill_gaps']} skills held by too few",
        ],
        ["Gaps", "; ".join(_why(cov, key) for key in cov.gap_keys) or "None"],
        ["At risk", "; ".join(_why(cov, key) for key in cov.at_risk_keys) or "None"],
    ]


def _summary(
    workbook,
    version: FrameworkVersion,
    teams: list[list[list]],
    members: int,
    scope: str,
    now: datetime,
    notes: list[str],
    single: TeamCoverage | None,
):
    """The Summary sheet: `teams` are the teams' `_summary_entry` rows; `single`, the one
    team's coverage of a team workbook (for its chart)."""
    sheet = add_sheet(workbook, "Summary", widths=(28, 70, 14, 60))
    sheet.header([f"{version.short_title}: workbook", scope])
    sheet.row(["Date", uk_date(now)])
    sheet.row(["Framework", f"{version.title}, version {version.number} ({version.label})"])
    sheet.row(["Teams", len(teams)])
    sheet.row(["Team members", members])
    if teams:
        sheet.row(["Rule", rule_sentence(version)])
    for rows in teams:
        for row in rows:
            sheet.row(row)
    sheet.row([])
    sheet.header(["Level", "Meaning"])
    for level in version.settings.scale.levels:
        sheet.row([level.value, f"{level.label}: {level.descriptor}"])
    sheet.row(["expired", "A validation older than the validity period: it no longer counts."])
    sheet.row([])
    sheet.row(
        [
            "Counting",
            "Only supervisor-validated, unexpired ratings at or above "
            f"{version.settings.scale.competent_level} count towards coverage.",
        ]
    )
    for note in notes:
        sheet.row(["Note", note])
    if single is not None:
        _holders_chart(sheet, single)
    return sheet


def _why(cov: TeamCoverage, key: str) -> str:
    if key == "values":
        return cov.values.why
    e = next(e for e in cov.elements if e.element.key == key)
    return f"{_element_name(e.element)} ({e.why})"


def _against_rule(cov: TeamCoverage, e) -> tuple[int, int]:
    """(so far, needed) for the element under the framework's rule."""
    return e.against_rule


def _holders_chart(sheet, cov: TeamCoverage) -> None:
    """A native Excel bar chart of each element against its rule, with its data beside
    it: editable and readable in Excel, and no image to draw (PERFORMANCE: ~10 ms, where
    drawing the page's matplotlib chart cost ~250 ms)."""
    sheet.row([])
    unit = "skills" if cov.rule == "each_skill" else "people"
    sheet.header(["Element", f"Met so far ({unit}; everyone: people)", "Needed", "Status"])
    first = sheet.rows + 1
    for e in cov.elements:
        so_far, needed = _against_rule(cov, e)
        sheet.row([_element_name(e.element), so_far, needed, e.why])
    last = sheet.rows
    chart = BarChart()
    chart.type = "bar"
    chart.title = safe_text(f"{cov.team.name}: each element against its rule")
    chart.y_axis.title = "Skills or people"
    chart.height, chart.width = 9, 18
    data = Reference(sheet.sheet, min_col=2, max_col=3, min_row=first - 1, max_row=last)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet.sheet, min_col=1, min_row=first, max_row=last))
    sheet.sheet.add_chart(chart, "D2")


def _skills(version: FrameworkVersion) -> list[Skill]:
    return [s for c in version.competencies for e in c.elements for s in e.skills]


def _coverage_sheet(workbook, skills: list[Skill], skill_heading: str):
    """The Coverage sheet (its header; `_coverage_rows` adds each team) and the Skills
    sheet beside it."""
    sheet = add_sheet(workbook, "Coverage", widths=(24, 24, 30, *([8] * len(skills))))
    sheet.sheet.freeze_panes = "D2"
    sheet.header(["Team", "Team member", "Email", *[s.key for s in skills]])
    skill_sheet = add_sheet(workbook, "Skills", widths=(10, 44, 100))
    skill_sheet.header(["Skill", "Element", skill_heading])
    for skill in skills:
        skill_sheet.row([skill.key, _element_name(skill.element), skill.text])
    return sheet, skill_sheet.rows


def _coverage_rows(sheet: SheetWriter, cov: TeamCoverage, levels: dict[int, list]) -> None:
    """One team's members with their current level of every skill (`_levels`)."""
    for member in cov.members:
        sheet.row([cov.team.name, member.name, member.email, *levels[member.id]])


def _finish_coverage_sheet(
    sheet: SheetWriter, version: FrameworkVersion, skills: list[Skill]
) -> None:
    """The filter and the level fills, once every team's rows are written."""
    last_row = max(2, sheet.rows)
    last_col = get_column_letter(3 + len(skills))
    # Write-only sheets have both (openpyxl's type stubs miss them).
    sheet.sheet.auto_filter.ref = f"A1:{last_col}{last_row}"  # type: ignore[attr-defined]
    data = f"D2:{last_col}{last_row}"
    for value, colour in level_fills(version).items():
        sheet.sheet.conditional_formatting.add(  # type: ignore[attr-defined]
            data,
            CellIsRule(
                operator="equal",
                formula=[str(value)],
                fill=PatternFill("solid", fgColor=colour, bgColor=colour),
            ),
        )


GAPS_HEADER = ["Team", "Kind", "Id", "Title", "Status", "Why", "Holders", "Needed", "E-learning"]


def _gaps_sheet(workbook) -> SheetWriter:
    sheet = add_sheet(workbook, "Gaps", widths=(24, 9, 9, 50, 9, 70, 9, 9, 80))
    sheet.header(GAPS_HEADER)
    return sheet


def _gaps_rows(sheet: SheetWriter, cov: TeamCoverage) -> None:
    """Every element, skill and expectation of the team below its rule or at risk, with the
    reason: the same statuses as the page and the API (one computation)."""
    for e in cov.gaps + cov.at_risk:
        modules = [m.title for m in cov.version.modules if e.element.key in m.element_keys]
        sheet.row(
            [
                cov.team.name,
                "element",
                e.element.key,
                e.element.title,
                STATUS_WORDS[e.status],
                e.why,
                len(e.holder_expiry),
                e.needed,
                "; ".join(modules),
            ]
        )
    if cov.values.status != "met":
        values = cov.values
        sheet.row(
            [
                cov.team.name,
                "values",
                "values",
                "Core values",
                STATUS_WORDS[values.status],
                values.why,
                len(values.met),
                len(cov.members),
                None,
            ]
        )
    for s in cov.skill_gaps + cov.skills_at_risk:
        wanted = {s.skill.key, s.skill.element.key}
        modules = [m.title for m in cov.version.modules if wanted & set(m.develops)]
        sheet.row(
            [
                cov.team.name,
                "skill",
                s.skill.key,
                s.skill.text,
                STATUS_WORDS[s.status],
                s.why,
                s.holders,
                s.min_holders,
                "; ".join(modules),
            ]
        )


STATUS_WORDS = {"gap": "gap", "at_risk": "at risk", "met": "met"}


def _current_cycles():
    """Each person's current cycle: their latest validated assessment, the one whose
    validated ratings the coverage counts (an assessment still in progress is not yet)."""
    latest = Assessment.__table__.alias("latest")
    return (
        select(func.max(latest.c.cycle))
        .where(
            latest.c.person_id == Assessment.person_id,
            latest.c.status == Status.VALIDATED,
        )
        .scalar_subquery()
    )


def _ratings_sheets(
    workbook,
    person_ids: list[int],
    notes: list[str],
    history: bool,
    step: Callable[[int], None] | None = None,
) -> int:
    """The self-ratings and their validations, long format; a new sheet at Excel's row limit.

    Each person's current cycle (`_current_cycles`) by default; with `history`, every
    cycle, assessments in progress included. `step(n)` is told each time the ratings of n
    more people are written."""
    validator = User.__table__.alias("validator")
    titles = [
        "Team member",
        "Email",
        "Cycle",
        "Status",
        "Skill",
        "Self-rating",
        "Validated level",
        "Validated by",
        "Validated on",
        "Expires",
        "Comment",
    ]
    widths = (24, 30, 7, 12, 8, 11, 15, 24, 14, 14, 60)
    sheet = add_sheet(workbook, "Ratings", widths=widths)
    sheet.header(titles)
    total, part = 0, 1
    for chunk in chunks(person_ids, 900):
        statement = (
            select(
                User.name,
                User.email,
                Assessment.cycle,
                Assessment.status,
                Skill.key,
                SelfRating.level,
                ValidatedRating.level,
                validator.c.name,
                ValidatedRating.validated_at,
                ValidatedRating.expires_at,
                ValidatedRating.comment,
            )
            .select_from(SelfRating)
            .join(Assessment, Assessment.id == SelfRating.assessment_id)
            .join(User, User.id == Assessment.person_id)
            .join(Skill, Skill.id == SelfRating.skill_id)
            .outerjoin(
                ValidatedRating,
                and_(
                    ValidatedRating.assessment_id == SelfRating.assessment_id,
                    ValidatedRating.skill_id == SelfRating.skill_id,
                ),
            )
            .outerjoin(validator, validator.c.id == ValidatedRating.validated_by_id)
            .where(Assessment.person_id.in_(chunk))
            .order_by(User.name, Assessment.cycle, Skill.id)
        )
        if not history:
            statement = statement.where(Assessment.cycle == _current_cycles())
        # Run as Core on the session's connection: plain rows, no ORM row processing.
        rows = db.session.connection().execute(statement.execution_options(yield_per=STREAM_ROWS))
        for row in rows:
            if sheet.rows >= EXCEL_ROW_LIMIT:
                part += 1
                sheet = add_sheet(workbook, f"Ratings {part}", widths=widths)
                sheet.header(titles)
            name, email, cycle, status, key, own, level, by, at, expires, comment = row
            sheet.row(
                [
                    name,
                    email,
                    cycle,
                    status.label,
                    key,
                    own,
                    level,
                    by,
                    at.date() if at else None,
                    expires.date() if expires else None,
                    comment,
                ]
            )
            total += 1
        if step is not None:
            step(len(chunk))
    if not history:
        notes.append(
            "The Ratings sheet holds each team member's current cycle: their latest "
            "validated assessment. Ask for the whole history to see every cycle."
        )
    if part > 1:
        notes.append(
            f"The ratings fill {part} sheets (Ratings to Ratings {part}): Excel holds "
            f"at most {EXCEL_ROW_LIMIT:,} rows a sheet. Nothing was left out."
        )
    return total


def _values_sheet(workbook) -> SheetWriter:
    sheet = add_sheet(workbook, "Values", widths=(24, 24, 40))
    sheet.header(["Team", "Team member", "Core values reflection signed off in supervision"])
    return sheet


def _values_rows(sheet: SheetWriter, cov: TeamCoverage) -> None:
    for member in cov.members:
        met = member.id in cov.values_met
        sheet.row(
            [cov.team.name, member.name, "Yes, within the validity period" if met else "Not yet"]
        )


TRAINING_HEADER = [
    "Team",
    "Team member",
    "Module",
    "Row",
    "Completed on",
    "Repeat or due by",
    "Status",
    "Certificate",
    "Notes",
]


def _compliance_rows(
    sheet, team_name: str, compliance: ComplianceCounts, practitioners: str
) -> None:
    """The figures of the compliance pages: per required module, then overall."""
    for mc in compliance.modules:
        counts = mc.counts
        sheet.row(
            [
                team_name,
                None,
                mc.module.title,
                "Compliance",
                None,
                None,
                f"{mc.percent}% compliant ({mc.compliant} of {mc.people})",
                None,
                f"{counts[OVERDUE]} overdue, {counts[DUE]} never done, {counts[EXPIRING]} expiring",
            ]
        )
    if compliance.modules:
        sheet.row(
            [
                team_name,
                None,
                "All required training",
                "Compliance",
                None,
                None,
                f"{compliance.percent}% compliant "
                f"({compliance.compliant} of {compliance.required})",
                None,
                f"{compliance.fully_compliant} of {compliance.people} {practitioners} in date "
                "on every required module",
            ]
        )


def _training_sheet(workbook, version: FrameworkVersion, now: datetime, scope):
    """The Training sheet, with the organisation's compliance figures first in the
    organisation workbook; `_training_rows` adds each team."""
    sheet = add_sheet(workbook, "Training", widths=(24, 24, 60, 18, 14, 16, 26, 20, 50))
    sheet.header(TRAINING_HEADER)
    if scope == "Organisation":
        # Counted from the keyworkers' ids a chunk at a time, not from every keyworker loaded
        # at once (which grew the peak memory with the organisation).
        overall = organisation_compliance_counts(version, now)
        words = version.settings.words
        _compliance_rows(
            sheet, f"Organisation (each {words.practitioner} once)", overall, words.practitioners
        )
    return sheet


# ---- the organisation: many teams at once -------------------------------------------------

# People whose figures, levels and training are read together, a few teams at a time: one
# set of statements per batch instead of one per team, and memory bounded by the batch.
BATCH_PEOPLE = 500


@dataclass(frozen=True, slots=True)
class Member:
    """A team member as the workbook needs them: read as a plain row, not an ORM object."""

    id: int
    name: str
    email: str


def _team_members(teams: list[Team], now: datetime) -> dict[int, list[Member]]:
    """Team id -> its active keyworkers who have not left by `now`'s day, by name (the
    people `coverage_for_team` counts), a chunk of teams a statement."""
    members: dict[int, list[Member]] = {team.id: [] for team in teams}
    for chunk in chunks([team.id for team in teams], 900):
        for team_id, person, name, email in members_of_teams(chunk, Role.PRACTITIONER, now):
            members[team_id].append(Member(person, name, email))
    return members


def _batches(teams: list[Team], members: dict[int, list[Member]]):
    """The teams in order, a few at a time: each batch up to `BATCH_PEOPLE` members (a
    larger team alone)."""
    batch: list[Team] = []
    people = 0
    for team in teams:
        size = len(members[team.id])
        if batch and people + size > BATCH_PEOPLE:
            yield batch
            batch, people = [], 0
        batch.append(team)
        people += size
    if batch:
        yield batch


def _levels(person_ids: list[int], skills: list[Skill], now: datetime) -> dict[int, list]:
    """Person -> their current level of every skill ("expired" when the validation has
    lapsed, None when never validated), from one streamed statement. (This and the other
    batch reads run as Core on the session's connection: plain rows, no ORM row
    processing, which cost more than the query.)"""
    column = {skill.key: index for index, skill in enumerate(skills)}
    levels: dict[int, list[int | str | None]] = {p: [None] * len(skills) for p in person_ids}
    live = (CurrentRating.expires_at > now).label("live")
    for chunk in chunks(sorted(levels), 900):
        for person, key, level, in_date in db.session.connection().execute(
            select(CurrentRating.person_id, CurrentRating.skill_key, CurrentRating.level, live)
            .where(CurrentRating.person_id.in_(chunk))
            .execution_options(yield_per=STREAM_ROWS)
        ):
            index = column.get(key)
            if index is not None:
                levels[person][index] = level if in_date else "expired"
    return levels


@dataclass
class _Training:
    """A batch's completions and assignments (not cancelled), by person."""

    completions: dict[int, list[tuple]]  # person -> (id, module key, completed on, cert.)
    assignments: dict[int, list[tuple]]  # person -> (id, key, due, element, at, by whom)


def _training_of(person_ids: list[int]) -> _Training:
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
    return _Training(completions, assignments)


def _training_rows(
    sheet: SheetWriter,
    version: FrameworkVersion,
    cov: TeamCoverage,
    now: datetime,
    training: _Training,
) -> None:
    """The team's required training (each keyworker's standing and the compliance figures,
    as on the compliance pages), assigned modules with progress, completions (by date, then
    person and record) and the suggested plan, from its batch's completions and assignments
    (`_training_of`)."""
    modules = {m.key: m for m in version.modules}
    today = london_day(now)
    team = cov.team.name
    members = cov.members
    names = {m.id: m.name for m in members}
    ids = list(names)
    latest: dict[tuple[int, str], object] = {}
    for person in ids:
        for _id, key, completed, _certificate in training.completions.get(person, ()):
            if (person, key) not in latest or completed > latest[(person, key)]:
                latest[(person, key)] = completed
    compliance = compliance_from(members, latest, version, today)
    _compliance_rows(
        sheet, team, ComplianceCounts.of(compliance), version.settings.words.practitioners
    )
    for standing in compliance.standings:
        sheet.row(
            [
                team,
                standing.person.name,
                standing.module.title,
                "Required training",
                standing.completed_on,
                standing.expires_on,
                standing.label,
                None,
                None,
            ]
        )
    # Each assignment's progress by the rules `training.services.progress_of` applies.
    progress_today = today_in_london()
    gaps = {e.element.key: e.element for e in cov.elements}
    assigned = []
    for person in ids:
        done_on: dict[str, list] = defaultdict(list)
        for _id, key, completed, _certificate in training.completions.get(person, ()):
            done_on[key].append(completed)
        for number, key, due_on, element_key, at, by in training.assignments.get(person, ()):
            completed_on = completed_since(at, done_on.get(key, ()))
            status = progress_status(completed_on, due_on, progress_today)
            assigned.append(
                (
                    completed_on is not None,
                    due_on,
                    number,
                    person,
                    key,
                    completed_on,
                    status,
                    by,
                    at,
                    element_key,
                )
            )
    assigned.sort(key=lambda a: (a[0], a[1], a[2]))
    for _done, due_on, _number, person, key, completed_on, status, by, at, element_key in assigned:
        module = modules.get(key)
        sheet.row(
            [
                team,
                names[person],
                module.title if module else key,
                "Assigned",
                completed_on,
                due_on,
                PROGRESS_LABELS[status],
                None,
                f"Assigned by {by} on {uk_date(at)}"
                + (f", for {_element_name(gaps[element_key])}" if element_key in gaps else ""),
            ]
        )
    done = sorted(
        (completed, person, number, key, certificate)
        for person in ids
        for number, key, completed, certificate in training.completions.get(person, ())
    )
    for completed, person, _number, key, certificate in done:
        module = modules.get(key)
        sheet.row(
            [
                team,
                names[person],
                module.title if module else key,
                "Completion",
                completed,
                completion_expiry(completed, module) if module else None,
                None,
                certificate,
                "Completed: reassess the skills it covers",
            ]
        )
    _plan_rows(sheet, cov)


def _plan_rows(sheet: SheetWriter, cov: TeamCoverage) -> None:
    """The suggested plan: who could close which gap with which module."""
    for step in training_plan(cov):
        closes = ", ".join(_element_name(e) for e in step.closes)
        members: list[User | None] = [*step.members] or [None]
        for member in members:
            sheet.row(
                [
                    cov.team.name,
                    member.name if member else "Anyone in the team",
                    step.module.title,
                    "Suggested",
                    None,
                    None,
                    None,
                    None,
                    f"Suggested, for {closes}",
                ]
            )


def _teams_together(
    teams: list[Team], version: FrameworkVersion, now: datetime, skills: list[Skill]
):
    """Each team's (coverage, members' levels, training) in order, computed a batch of
    teams at a time: what `coverage_for_team(team, version, now, cached=False)` gives,
    from one aggregate over the batch's people (`figures_for_teams`) and one read each
    of their levels, completions and assignments."""
    members = _team_members(teams, now)
    for batch in _batches(teams, members):
        groups = [members[team.id] for team in batch]
        figures = figures_for_teams(version, [[m.id for m in group] for group in groups], now)
        everyone = [m.id for group in groups for m in group]
        levels = _levels(everyone, skills, now)
        training = _training_of(everyone)
        for team, group, team_figures in zip(batch, groups, figures, strict=True):
            people = cast(list[User], group)  # judged by id and name only
            yield judge(team, version, people, team_figures, now), levels, training


def _teams(
    teams: list[Team],
    version: FrameworkVersion,
    now: datetime,
    cached: bool,
    team_by_team: bool,
    skills: list[Skill],
):
    """(coverage, members' levels, training) of each team in order."""
    if not team_by_team:
        yield from _teams_together(teams, version, now, skills)
        return
    for team in teams:
        cov = coverage_for_team(team, version, now, cached=cached)
        ids = [m.id for m in cov.members]
        yield cov, _levels(ids, skills, now), _training_of(ids)


def build_workbook(
    teams: list[Team],
    version: FrameworkVersion,
    now: datetime,
    scope: str,
    progress: Callable[[int, int], None] | None = None,
    history: bool = False,
    team_by_team: bool | None = None,
) -> Export:
    """The workbook for `teams` (one team, or all of them) as at `now`; its Ratings sheet
    holds each member's current cycle, or every cycle with `history`.

    `progress(done, total)`, when given, is told how far it has gone: each team member's
    coverage, then each member's ratings, then the last sheets (a job's progress page).

    Several teams are read a batch at a time (`_teams_together`); one team, or a moment in
    the past (read from the rating history), team by team through `coverage_for_team`
    (`team_by_team` chooses either way: the tests compare the two)."""
    if team_by_team is None:
        team_by_team = len(teams) == 1 or now < utcnow() - timedelta(hours=1)
    # A single team's figures come from (and go to) the pages' cache; a whole organisation's
    # are computed afresh, so that a bulk export does not fill every worker's cache. Each
    # team's coverage is written to every sheet that needs it and then let go: memory stays
    # bounded by the largest team, not the organisation.
    cached = len(teams) == 1
    workbook = new_workbook()
    notes: list[str] = []
    skills = _skills(version)
    coverage_sheet, skill_rows = _coverage_sheet(
        workbook, skills, version.settings.words.skill_heading
    )
    gaps = _gaps_sheet(workbook)
    values = _values_sheet(workbook)
    training = _training_sheet(workbook, version, now, scope)
    summaries: list[list[list]] = []
    person_ids: list[int] = []
    single = None
    for cov, levels, read in _teams(teams, version, now, cached, team_by_team, skills):
        _coverage_rows(coverage_sheet, cov, levels)
        _training_rows(training, version, cov, now, read)
        _gaps_rows(gaps, cov)
        _values_rows(values, cov)
        summaries.append(_summary_entry(cov))
        person_ids += [m.id for m in cov.members]
        single = cov if len(teams) == 1 else None
        if progress is not None:
            done = len(person_ids)
            progress(done, 2 * done + 4)  # the total grows as members are counted
    _finish_coverage_sheet(coverage_sheet, version, skills)
    done, total = len(person_ids), 2 * len(person_ids) + 4

    def step(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, total)

    step(1)
    ratings = _ratings_sheets(workbook, person_ids, notes, history, step)
    summary = _summary(workbook, version, summaries, len(person_ids), scope, now, notes, single)
    step(1)
    # In reading order: the summary, the coverage and its skills, the gaps, the ratings
    # (written last, as they may fill several sheets), the values and the training.
    order = ["Summary", "Coverage", "Skills", "Gaps"]
    order += [t for t in workbook.sheetnames if t.startswith("Ratings")]
    order += ["Values", "Training"]
    for index, title in enumerate(order):
        workbook.move_sheet(title, offset=index - workbook.sheetnames.index(title))
    rows = (
        coverage_sheet.rows
        + skill_rows
        + gaps.rows
        + ratings
        + values.rows
        + training.rows
        + summary.rows
    )
    slug = teams[0].slug if len(teams) == 1 and scope != "Organisation" else "organisation"
    content = to_bytes(workbook)
    step(1)
    return Export(content, rows, f"{slug}-competencies-{now:%Y-%m-%d}.xlsx")
