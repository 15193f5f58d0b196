"""The workbooks' Ratings: the self-ratings and their validations, long format, each row
saying whether it is validated, awaiting validation or a draft; a new sheet at Excel's row
limit."""

from __future__ import annotations

from collections.abc import Callable

from openpyxl import Workbook
from sqlalchemy import and_, func, select

from competency_app.accounts.models import User
from competency_app.assessments.models import Assessment, SelfRating, Status, ValidatedRating
from competency_app.common.xlsx import EXCEL_ROW_LIMIT, SheetWriter, add_table
from competency_app.coverage.vocabulary import skill_headings
from competency_app.database import chunks
from competency_app.extensions import db
from competency_app.framework.models import Skill

# Rows fetched at a time from a streamed (server-side, on PostgreSQL) cursor.
STREAM_ROWS = 5000

TITLES = [
    "Team member",
    "Email",
    "Cycle",
    "Assessment",
    "Rating",
    "Skill id",
    "Skill",
    "Self-rating",
    "Validated level",
    "Validated by",
    "Validated on",
    "Expires",
    "Comment",
]
WIDTHS = (24, 30, 7, 20, 30, 9, 40, 11, 15, 24, 14, 14, 60)


def rating_kind(status: Status, validated: int | None) -> str:
    """What the row is: only a validated level counts towards coverage."""
    if validated is not None:
        return "Validated in supervision"
    if status is Status.SUBMITTED:
        return "Self-rating awaiting validation"
    if status is Status.VALIDATED:
        return "Self-rating, not validated"
    return "Draft self-rating, not submitted"


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


def _statement(chunk: list[int], history: bool):
    validator = User.__table__.alias("validator")
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
    return statement


def ratings_sheets(
    workbook: Workbook,
    person_ids: list[int],
    skills: list[Skill],
    notes: list[str],
    history: bool,
    book_title: str,
    step: Callable[[int], None] | None = None,
) -> int:
    """Each person's current cycle (`_current_cycles`) by default; with `history`, every
    cycle, assessments in progress included. `step(n)` is told each time the ratings of n
    more people are written."""
    headings = skill_headings(skills)

    def new_sheet(title: str) -> SheetWriter:
        return add_table(workbook, title, TITLES, WIDTHS, book_title=book_title)

    sheet = new_sheet("Ratings")
    total, part = 0, 1
    kinds: dict[tuple, str] = {}
    for chunk in chunks(person_ids, 900):
        # Run as Core on the session's connection: plain rows, no ORM row processing.
        rows = db.session.connection().execute(
            _statement(chunk, history).execution_options(yield_per=STREAM_ROWS)
        )
        for row in rows:
            if sheet.rows >= EXCEL_ROW_LIMIT:
                part += 1
                sheet = new_sheet(f"Ratings {part}")
            name, email, cycle, status, key, own, level, by, at, expires, comment = row
            kind = kinds.get((status, level is None))
            if kind is None:
                kind = kinds[(status, level is None)] = rating_kind(status, level)
            sheet.row(
                [
                    name,
                    email,
                    cycle,
                    status.label,
                    kind,
                    key,
                    headings.get(key, key),  # a skill of an earlier version: its id
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
            "validated assessment. Ask for the whole history to see every cycle, "
            "self-ratings awaiting validation and drafts included (its Rating column says "
            "which each row is)."
        )
    if part > 1:
        notes.append(
            f"The ratings fill {part} sheets (Ratings to Ratings {part}): Excel holds "
            f"at most {EXCEL_ROW_LIMIT:,} rows a sheet. Nothing was left out."
        )
    return total
