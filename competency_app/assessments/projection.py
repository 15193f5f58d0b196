"""The rating projection: the one place that writes validated ratings.

A sign-off appends one `ValidatedRating` per skill (the history, never changed), upserts
`CurrentRating` (each person's latest validation per skill key, what coverage reads) and
adds one to the `coverage_epoch` of every team the people belong to, all in the caller's
transaction. `write_ratings` does the three; the sign-off (`services.validate`, and through
it the demo) calls it. The exception is `flask seed-scale` (`operations/scale.py`), which
writes both tables in bulk for benchmarks, for new people in new teams (no epoch to move).

The two statements are compiled once and run as Core on the session's connection (the
ORM's bulk path costs more than the database work); the benchmark's floor runs them too.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from competency_app.accounts.models import RoleAssignment, Team
from competency_app.assessments.models import CurrentRating, ValidatedRating
from competency_app.extensions import db


def _upsert_statement(dialect: str):
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
        cast(Table, CurrentRating.__table__)
    )
    return statement.on_conflict_do_update(
        index_elements=["person_id", "skill_key"],
        set_={
            "level": statement.excluded.level,
            "element_key": statement.excluded.element_key,
            "validated_at": statement.excluded.validated_at,
            "expires_at": statement.excluded.expires_at,
            "rating_id": statement.excluded.rating_id,
        },
    )


_HISTORY = cast(Table, ValidatedRating.__table__)
INSERT_VALIDATED_RATINGS = insert(_HISTORY).returning(_HISTORY.c.id, sort_by_parameter_order=True)
UPSERT_CURRENT_RATINGS = {name: _upsert_statement(name) for name in ("postgresql", "sqlite")}


def bump_coverage_epoch(person_ids: set[int]) -> None:
    """Invalidate the cached coverage (figures and charts) of every team these people are in."""
    db.session.execute(
        update(Team)
        .where(
            Team.id.in_(
                select(RoleAssignment.team_id).where(RoleAssignment.user_id.in_(person_ids))
            )
        )
        .values(coverage_epoch=Team.coverage_epoch + 1)
        .execution_options(synchronize_session=False)
    )


def upsert_current(values: list[dict[str, Any]]) -> None:
    """Upsert current-rating rows (person_id, skill_key, element_key, level, validated_at,
    expires_at, rating_id) and move the people's teams' coverage epoch on."""
    if not values:
        return
    bump_coverage_epoch({v["person_id"] for v in values})
    connection = db.session.connection()
    connection.execute(UPSERT_CURRENT_RATINGS[connection.dialect.name], values)


def write_ratings(rows: list[dict[str, Any]], element_keys: list[str]) -> list[int]:
    """Append validated-rating rows (the history) and project them onto the current ratings.

    `rows` are `ValidatedRating` columns (assessment_id, person_id, skill_id, skill_key,
    self_level, level, comment, validated_by_id, validated_at, expires_at), one per skill;
    `element_keys` the element key of each row's skill, in the same order. Two statements
    and the epoch bump, in the caller's transaction; returns the new history row ids.
    """
    if not rows:
        return []
    ids = list(db.session.connection().execute(INSERT_VALIDATED_RATINGS, rows).scalars())
    upsert_current(
        [
            {
                "person_id": row["person_id"],
                "skill_key": row["skill_key"],
                "element_key": element_key,
                "level": row["level"],
                "validated_at": row["validated_at"],
                "expires_at": row["expires_at"],
                "rating_id": rating_id,
            }
            for row, element_key, rating_id in zip(rows, element_keys, ids, strict=True)
        ]
    )
    return ids
