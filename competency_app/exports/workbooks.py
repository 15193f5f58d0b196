"""The HR workbooks: a team's, or the whole organisation's.

Built from the same services as the coverage page (so the figures agree), written through
`common.xlsx` (so no cell is ever a formula), streamed from SQL rows (never ORM objects
counted in Python) into write-only sheets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import and_, func, select

from competency_app.accounts.models import Team, User
from competency_app.assessments.models import (
    Assessment,
    CurrentRating,
    SelfRating,
    Status,
    ValidatedRating,
)
from competency_app.common.dates import london_day, uk_date
from competency_app.common.xlsx import (
    EXCEL_ROW_LIMIT,
    add_sheet,
    new_workbook,
    safe_text,
    to_bytes,
)
from competency_app.coverage.services import TeamCoverage, coverage_for_team, training_plan
from competency_app.database import chunks
from competency_app.extensions import db
from competency_app.framework.models import FrameworkVersion, Skill
from competency_app.training.models import ModuleCompletion
from competency_app.training.required import (
    DUE,
    EXPIRING,
    OVERDUE,
    Compliance,
    completion_expiry,
    compliance_for,
    organisation_keyworkers,
)
from competency_app.training.services import team_assignments

# Fills by where a level stands against the scale's competent level (as on the pages), so
# that any scale reads the same: below, one below, competent, above.
# Rows fetched at a time from a streamed (server-side, on PostgreSQL) cursor.
STREAM_ROWS = 5000

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


def _summary(
    workbook,
    version: FrameworkVersion,
    coverages: list[TeamCoverage],
    scope: str,
    now: datetime,
    notes: list[str],
):
    sheet = add_sheet(workbook, "Summary", widths=(28, 70, 14, 60))
    sheet.header([f"{version.short_title}: workbook", scope])
    sheet.row(["Date", uk_date(now)])
    sheet.row(["Framework", f"{version.title}, version {version.number} ({version.label})"])
    sheet.row(["Teams", len(coverages)])
    sheet.row(["Team members", sum(len(c.members) for c in coverages)])
    if coverages:
        sheet.row(["Rule", coverages[0].rule_sentence])
    for cov in coverages:
        counts = cov.counts
        sheet.row([])
        sheet.row(
            [
                cov.team.name,
                f"{counts['elements_met']} of {counts['elements']} elements met; "
                f"{counts['gaps']} gaps, {counts['at_risk']} at risk; "
                f"{counts['skill_gaps']} skills held by too few",
            ]
        )
        sheet.row(["Gaps", "; ".join(_why(cov, key) for key in cov.gap_keys) or "None"])
        sheet.row(["At risk", "; ".join(_why(cov, key) for key in cov.at_risk_keys) or "None"])
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
    if len(coverages) == 1:
        _holders_chart(sheet, coverages[0])
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


def _coverage_sheet(workbook, version, coverages, now) -> int:
    skills = _skills(version)
    sheet = add_sheet(workbook, "Coverage", widths=(24, 24, 30, *([8] * len(skills))))
    sheet.sheet.freeze_panes = "D2"
    sheet.header(["Team", "Team member", "Email", *[s.key for s in skills]])
    column = {skill.key: index for index, skill in enumerate(skills)}
    for cov in coverages:  # one team at a time: memory stays bounded by the team's size
        levels: dict[int, list[int | str | None]] = {
            m.id: [None] * len(skills) for m in cov.members
        }
        # Plain tuples from a streamed cursor, the expiry judged by the database: no ORM
        # object and no datetime conversion per rating.
        live = (CurrentRating.expires_at > now).label("live")
        for person, key, level, in_date in db.session.execute(
            select(CurrentRating.person_id, CurrentRating.skill_key, CurrentRating.level, live)
            .where(CurrentRating.person_id.in_(list(levels) or [-1]))
            .execution_options(yield_per=STREAM_ROWS)
        ):
            index = column.get(key)
            if index is not None:
                levels[person][index] = level if in_date else "expired"
        for member in cov.members:
            sheet.row([cov.team.name, member.name, member.email, *levels[member.id]])
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
    skill_sheet = add_sheet(workbook, "Skills", widths=(10, 44, 100))
    skill_sheet.header(["Skill", "Element", "Skill to be demonstrated"])
    for skill in skills:
        skill_sheet.row([skill.key, _element_name(skill.element), skill.text])
    return sheet.rows + skill_sheet.rows


GAPS_HEADER = ["Team", "Kind", "Id", "Title", "Status", "Why", "Holders", "Needed", "E-learning"]


def _gaps_sheet(workbook, coverages) -> int:
    """Every element, skill and expectation below its rule or at risk, with the reason:
    the same statuses as the page and the API (one computation)."""
    sheet = add_sheet(workbook, "Gaps", widths=(24, 9, 9, 50, 9, 70, 9, 9, 80))
    sheet.header(GAPS_HEADER)
    for cov in coverages:
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
    return sheet.rows


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
        for row in db.session.execute(statement.execution_options(yield_per=STREAM_ROWS)):
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


def _values_sheet(workbook, version, coverages) -> int:
    sheet = add_sheet(workbook, "Values", widths=(24, 24, 40))
    sheet.header(["Team", "Team member", "Core values reflection signed off in supervision"])
    for cov in coverages:
        for member in cov.members:
            met = member.id in cov.values_met
            sheet.row(
                [
                    cov.team.name,
                    member.name,
                    "Yes, within the validity period" if met else "Not yet",
                ]
            )
    return sheet.rows


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


def _compliance_rows(sheet, team_name: str, compliance: Compliance) -> None:
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
                f"{compliance.fully_compliant} of {len(compliance.people)} keyworkers in date "
                "on every required module",
            ]
        )


def _training_sheet(workbook, version: FrameworkVersion, coverages, now: datetime, scope) -> int:
    """Required training (each keyworker's standing and the compliance figures, as on the
    compliance pages), assigned modules with progress, completions and the suggested plan."""
    modules = {m.key: m for m in version.modules}
    today = london_day(now)
    sheet = add_sheet(workbook, "Training", widths=(24, 24, 60, 18, 14, 16, 26, 20, 50))
    sheet.header(TRAINING_HEADER)
    if scope == "Organisation":
        overall = compliance_for(organisation_keyworkers(now), version, today)
        _compliance_rows(sheet, "Organisation (each keyworker once)", overall)
    for cov in coverages:
        compliance = compliance_for(cov.members, version, today)
        _compliance_rows(sheet, cov.team.name, compliance)
        for standing in compliance.standings:
            sheet.row(
                [
                    cov.team.name,
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
        gaps = {e.element.key: e.element for e in cov.elements}
        for item in team_assignments(cov.members):
            a = item.assignment
            module = modules.get(a.module_key)
            sheet.row(
                [
                    cov.team.name,
                    a.person.name,
                    module.title if module else a.module_key,
                    "Assigned",
                    item.completed_on,
                    a.due_on,
                    item.label,
                    None,
                    f"Assigned by {a.assigned_by.name} on {uk_date(a.assigned_at)}"
                    + (
                        f", for {_element_name(gaps[a.element_key])}"
                        if a.element_key in gaps
                        else ""
                    ),
                ]
            )
        ids = [m.id for m in cov.members]
        names = {m.id: m.name for m in cov.members}
        for person, key, completed, certificate in db.session.execute(
            select(
                ModuleCompletion.person_id,
                ModuleCompletion.module_key,
                ModuleCompletion.completed_on,
                ModuleCompletion.certificate_ref,
            )
            .where(ModuleCompletion.person_id.in_(ids or [-1]))
            .order_by(ModuleCompletion.completed_on)
        ):
            module = modules.get(key)
            sheet.row(
                [
                    cov.team.name,
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
    return sheet.rows


def build_workbook(
    teams: list[Team],
    version: FrameworkVersion,
    now: datetime,
    scope: str,
    progress: Callable[[int, int], None] | None = None,
    history: bool = False,
) -> Export:
    """The workbook for `teams` (one team, or all of them) as at `now`; its Ratings sheet
    holds each member's current cycle, or every cycle with `history`.

    `progress(done, total)`, when given, is told how far it has gone: each team member's
    coverage, then each member's ratings, then the last sheets (a job's progress page)."""
    # A single team's figures come from (and go to) the pages' cache; a whole organisation's
    # are computed afresh, so that a bulk export does not fill every worker's cache.
    cached = len(teams) == 1
    coverages = []
    done = 0
    for team in teams:
        coverages.append(coverage_for_team(team, version, now, cached=cached))
        done += len(coverages[-1].members)
        if progress is not None:
            progress(done, 2 * done + 4)  # the total grows as members are counted
    total = 2 * done + 4

    def step(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, total)

    workbook = new_workbook()
    notes: list[str] = []
    # The summary goes first but its notes depend on the other sheets: build them, then
    # move the summary to the front.
    rows = _coverage_sheet(workbook, version, coverages, now)
    rows += _gaps_sheet(workbook, coverages)
    step(1)
    rows += _ratings_sheets(
        workbook, [m.id for c in coverages for m in c.members], notes, history, step
    )
    rows += _values_sheet(workbook, version, coverages)
    rows += _training_sheet(workbook, version, coverages, now, scope)
    step(1)
    summary = _summary(workbook, version, coverages, scope, now, notes)
    step(1)
    workbook.move_sheet("Summary", offset=-(len(workbook.sheetnames) - 1))
    rows += summary.rows
    slug = teams[0].slug if len(teams) == 1 and scope != "Organisation" else "organisation"
    content = to_bytes(workbook)
    step(1)
    return Export(content, rows, f"{slug}-competencies-{now:%Y-%m-%d}.xlsx")
