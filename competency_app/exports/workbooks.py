"""The HR workbooks: a team's, or the whole organisation's.

Built from the same services as the coverage page (so the figures agree), written through
`common.xlsx` (so no cell is ever a formula), streamed from SQL rows (never ORM objects
counted in Python) into write-only sheets. Every sheet is one table (`common.xlsx.add_table`:
frozen header, auto-filter, landscape print one page wide with the header repeated); the
sheets are written by `workbook_summary`, `workbook_coverage`, `workbook_ratings` and
`workbook_training`, and put together here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import select

from competency_app.accounts.models import Role, Team, User
from competency_app.accounts.services import members_of_teams
from competency_app.assessments.models import CurrentRating
from competency_app.clock import utcnow
from competency_app.common.xlsx import building, save, to_bytes
from competency_app.coverage.figures import figures_for_teams
from competency_app.coverage.services import coverage_for_team, judge
from competency_app.coverage.stored import stored_figures_of_teams
from competency_app.database import chunks
from competency_app.exports.workbook_coverage import (
    GAPS_HEADER,
    all_skills,
    coverage_rows,
    coverage_sheet,
    elements_rows,
    elements_sheet,
    finish_coverage_sheet,
    gaps_rows,
    gaps_sheet,
    values_rows,
    values_sheet,
)
from competency_app.exports.workbook_ratings import STREAM_ROWS, ratings_sheets
from competency_app.exports.workbook_summary import summary_sheet, teams_row, teams_sheet
from competency_app.exports.workbook_training import (
    SHEETS as TRAINING_SHEETS,
)
from competency_app.exports.workbook_training import (
    training_of,
    training_rows,
    training_sheets,
)
from competency_app.extensions import db
from competency_app.framework.models import FrameworkVersion, Skill

__all__ = ["GAPS_HEADER", "Export", "build_workbook"]


@dataclass
class Export:
    content: bytes  # empty when the workbook was written `into` a file
    rows: int
    filename: str


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


# Teams whose members are read in one statement: the members of a few teams are held at a
# time, not the whole organisation's (100,000 names and emails were 20 MB of the peak).
TEAMS_PER_READ = 50


def _team_members(teams: list[Team], now: datetime) -> dict[int, list[Member]]:
    """Team id -> its active keyworkers who have not left by `now`'s day, by name (the
    people `coverage_for_team` counts), in one statement."""
    members: dict[int, list[Member]] = {team.id: [] for team in teams}
    ids = [team.id for team in teams]
    for team_id, person, name, email in members_of_teams(ids, Role.PRACTITIONER, now):
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
    lapsed, None when never validated), a statement per chunk of people. (This and the
    other batch reads run as Core on the session's connection: plain rows, no ORM row
    processing, which cost more than the query. These rows are read straight from the
    driver's cursor: every column is an integer or text, which needs no converting, and
    making a result row of each of the batch's tens of thousands cost a fifth of the read.)
    """
    column = {skill.key: index for index, skill in enumerate(skills)}
    levels: dict[int, list[int | str | None]] = {p: [None] * len(skills) for p in person_ids}
    live = (CurrentRating.expires_at > now).label("live")
    for chunk in chunks(sorted(levels), 900):
        result = db.session.connection().execute(
            select(
                CurrentRating.person_id, CurrentRating.skill_key, CurrentRating.level, live
            ).where(CurrentRating.person_id.in_(chunk))
        )
        with result:
            while rows := result.cursor.fetchmany(STREAM_ROWS):
                for person, key, level, in_date in rows:
                    index = column.get(key)
                    if index is not None:
                        levels[person][index] = level if in_date else "expired"
    return levels


def _teams_together(
    teams: list[Team], version: FrameworkVersion, now: datetime, skills: list[Skill]
):
    """Each team's (coverage, members' levels, training) in order, computed a batch of
    teams at a time: what `coverage_for_team(team, version, now)` gives, from the teams'
    stored figures where they are current (one read for the batch) and one aggregate over
    the other teams' people (`figures_for_teams`), and one read each of their levels,
    completions and assignments."""
    for start in range(0, len(teams), TEAMS_PER_READ):
        yield from _batches_together(teams[start : start + TEAMS_PER_READ], version, now, skills)


def _batches_together(
    teams: list[Team], version: FrameworkVersion, now: datetime, skills: list[Skill]
):
    """`_teams_together` for a few teams (`TEAMS_PER_READ`), their members read at once."""
    members = _team_members(teams, now)
    for batch in _batches(teams, members):
        groups = [members[team.id] for team in batch]
        ids = [[m.id for m in group] for group in groups]
        kept = stored_figures_of_teams(batch, version, ids, now)
        worked_out = iter(
            figures_for_teams(
                version, [i for team, i in zip(batch, ids, strict=True) if team.id not in kept], now
            )
        )
        figures = [kept[team.id] if team.id in kept else next(worked_out) for team in batch]
        everyone = [m.id for group in groups for m in group]
        levels = _levels(everyone, skills, now)
        training = training_of(everyone)
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
        yield cov, _levels(ids, skills, now), training_of(ids)


def build_workbook(
    teams: list[Team],
    version: FrameworkVersion,
    now: datetime,
    scope: str,
    progress: Callable[[int, int], None] | None = None,
    history: bool = False,
    team_by_team: bool | None = None,
    organisation_id: int | None = None,
    into: Path | None = None,
) -> Export:
    """The workbook for `teams` (one team, or all of them) as at `now`; its Ratings sheet
    holds each member's current cycle, or every cycle with `history`.

    `progress(done, total)`, when given, is told how far it has gone: each team member's
    coverage, then each member's ratings, then the last sheets (a job's progress page).

    Several teams are read a batch at a time (`_teams_together`); one team, or a moment in
    the past (read from the rating history), team by team through `coverage_for_team`
    (`team_by_team` chooses either way: the tests compare the two).

    `organisation_id`: whose keyworkers the organisation workbook's overall compliance counts
    (None: everyone's, for the command line).

    `into`: a file to write the workbook into, instead of returning its bytes (a job's:
    a region's workbook is tens of MB, not held in memory)."""
    if team_by_team is None:
        team_by_team = len(teams) == 1 or now < utcnow() - timedelta(hours=1)
    # A single team's figures come from (and go to) the pages' cache; a whole organisation's
    # are computed afresh, so that a bulk export does not fill every worker's cache. Each
    # team's coverage is written to every sheet that needs it and then let go: memory stays
    # bounded by the largest team, not the organisation.
    cached = len(teams) == 1
    with building() as workbook:
        title = f"{version.short_title}: {scope}"
        notes: list[str] = []
        skills = all_skills(version)
        coverage, skill_rows = coverage_sheet(
            workbook, skills, version.settings.words.skill_heading, title
        )
        team_sheet = teams_sheet(workbook, title)
        elements = elements_sheet(workbook, title)
        gaps = gaps_sheet(workbook, title)
        values = values_sheet(workbook, title)
        training = training_sheets(workbook, version, now, scope, title, organisation_id)
        headlines: list[list] = []
        person_ids: list[int] = []
        single = None
        for cov, levels, read in _teams(teams, version, now, cached, team_by_team, skills):
            coverage_rows(coverage, cov, levels)
            training_rows(training, version, cov, now, read)
            elements_rows(elements, cov)
            gaps_rows(gaps, cov)
            values_rows(values, cov)
            headlines.append(teams_row(team_sheet, cov))
            person_ids += [m.id for m in cov.members]
            single = cov if len(teams) == 1 else None
            if progress is not None:
                done = len(person_ids)
                progress(done, 2 * done + 4)  # the total grows as members are counted
        finish_coverage_sheet(coverage, version, skills)
        done, total = len(person_ids), 2 * len(person_ids) + 4

        def step(count: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(done, total)

        step(1)
        ratings = ratings_sheets(workbook, person_ids, skills, notes, history, title, step)
        summary = summary_sheet(
            workbook,
            version,
            headlines,
            len(person_ids),
            scope,
            now,
            notes,
            (elements, single) if single is not None else None,
            title,
        )
        step(1)
        # In reading order: the summary, the teams and their elements, the coverage and its
        # skills, the gaps, the ratings (written last, as they may fill several sheets), the
        # values and the training.
        order = ["Summary", "Teams", "Elements", "Coverage", "Skills", "Gaps"]
        order += [t for t in workbook.sheetnames if t.startswith("Ratings")]
        order += ["Values", *TRAINING_SHEETS]
        for index, sheet_title in enumerate(order):
            workbook.move_sheet(sheet_title, offset=index - workbook.sheetnames.index(sheet_title))
        rows = (
            coverage.rows
            + skill_rows
            + team_sheet.rows
            + elements.rows
            + gaps.rows
            + ratings
            + values.rows
            + training.rows
            + summary.rows
        )
        slug = teams[0].slug if len(teams) == 1 and scope != "Organisation" else "organisation"
        if into is None:
            content = to_bytes(workbook)
        else:
            save(workbook, into)
            content = b""
        step(1)
        return Export(content, rows, f"{slug}-competencies-{now:%Y-%m-%d}.xlsx")
