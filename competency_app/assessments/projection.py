"""The rating projection: the one place that writes validated ratings.

A sign-off appends one `ValidatedRating` per skill (the history, never changed), upserts
`CurrentRating` (each person's latest validation per skill key, what coverage reads) and
adds one to the `coverage_epoch` of every team the people belong to, all in the caller's
transaction. `write_ratings` does the three; the sign-off (`services.validate`, and through
it the demo) calls it. The exception is `flask seed-scale` (`operations/scale.py`), which
writes both tables in bulk for benchmarks, for new people in new teams (no epoch to move).

The statements are compiled once and run as Core on the session's connection (the ORM's
bulk path costs more than the database work); the benchmark's floor runs the one-row pair
(`INSERT_VALIDATED_RATINGS`, `UPSERT_CURRENT_RATINGS`). A sign-off's rows go in as one
multi-row INSERT on both databases: SQLAlchemy batches an executemany into one statement
("insertmanyvalues") only when it has a RETURNING clause, and, on SQLite, only when the
rows need not come back in order (then it sends one INSERT per row). So the ids come back
unordered and unused, and the projection is upserted from the new history rows by one
INSERT ... SELECT instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from competency_app.accounts.models import move_teams_on
from competency_app.assessments.models import CurrentRating, ValidatedRating
from competency_app.extensions import db
from competency_app.framework.models import Element, FrameworkVersion, Skill

_HISTORY = cast(Table, ValidatedRating.__table__)

_PROJECTED = ("person_id", "skill_key", "element_key", "level", "validated_at", "expires_at")
PROJECTED_COLUMNS = [*_PROJECTED, "rating_id"]


def history_as_current(assessments) -> Select:
    """The validated ratings of `assessments` (an assessment id's bind parameter, or a
    SELECT of ids) as current-rating rows (`PROJECTED_COLUMNS`; the element key from the
    framework: the history does not keep it)."""
    of = _HISTORY.c.assessment_id
    return (
        select(
            _HISTORY.c.person_id,
            _HISTORY.c.skill_key,
            Element.key,
            _HISTORY.c.level,
            _HISTORY.c.validated_at,
            _HISTORY.c.expires_at,
            _HISTORY.c.id,
        )
        .join(Skill, Skill.id == _HISTORY.c.skill_id)
        .join(Element, Element.id == Skill.element_id)
        .where(of.in_(assessments) if isinstance(assessments, Select) else of == assessments)
    )


_ASSESSMENT_RATINGS = history_as_current(bindparam("assessment_id"))


def _upsert_statement(dialect: str, from_history: bool = False):
    """The current-rating upsert: of the rows given, or (`from_history`) of an assessment's
    history rows. SQLite needs the SELECT's WHERE to read ON CONFLICT as the upsert's."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
        cast(Table, CurrentRating.__table__)
    )
    if from_history:
        statement = statement.from_select(PROJECTED_COLUMNS, _ASSESSMENT_RATINGS)
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


INSERT_VALIDATED_RATINGS = insert(_HISTORY).returning(_HISTORY.c.id, sort_by_parameter_order=True)
UPSERT_CURRENT_RATINGS = {name: _upsert_statement(name) for name in ("postgresql", "sqlite")}
_APPEND_HISTORY = insert(_HISTORY).returning(_HISTORY.c.id)  # RETURNING: see above
_UPSERT_FROM_HISTORY = {
    name: _upsert_statement(name, from_history=True) for name in ("postgresql", "sqlite")
}


# callback(person ids, version, {team id: its coverage epoch after this write})
AfterWrite = Callable[[set[int], FrameworkVersion, dict[int, int]], None]
_AFTER_WRITE: list[AfterWrite] = []


def after_ratings_written(callback: AfterWrite) -> None:
    """Have `callback(person_ids, version, epochs)` run after `write_ratings` has written
    those people's ratings of `version` and moved their teams' epochs on (`epochs`: each
    team's new epoch), in the same transaction (the stored coverage figures:
    `coverage/stored.py`, registered when it is imported, queue their update for after the
    commit)."""
    _AFTER_WRITE.append(callback)


def bump_coverage_epoch(person_ids: set[int]) -> dict[int, int]:
    """Invalidate the cached coverage (figures and charts) of every team these people are in;
    returns each such team's new epoch, by team id."""
    return move_teams_on("coverage_epoch", person_ids, db.session.connection())


def upsert_current(values: list[dict[str, Any]]) -> None:
    """Upsert current-rating rows (person_id, skill_key, element_key, level, validated_at,
    expires_at, rating_id) and move the people's teams' coverage epoch on."""
    if not values:
        return
    bump_coverage_epoch({v["person_id"] for v in values})
    connection = db.session.connection()
    connection.execute(UPSERT_CURRENT_RATINGS[connection.dialect.name], values)


def write_ratings(
    assessment_id: int, rows: list[dict[str, Any]], version: FrameworkVersion
) -> None:
    """Append the assessment's validated-rating rows (the history) and project them onto
    the current ratings.

    `rows` are `ValidatedRating` columns (assessment_id, person_id, skill_id, skill_key,
    self_level, level, comment, validated_by_id, validated_at, expires_at), one per skill,
    all of `assessment_id` (of `version`) and new to it. Two statements and the epoch
    bump, then what was registered with `after_ratings_written` (which queues the teams'
    stored coverage figures' update for after the commit), in the caller's transaction.
    """
    if not rows:
        return
    people = {row["person_id"] for row in rows}
    epochs = bump_coverage_epoch(people)
    connection = db.session.connection()
    connection.execute(_APPEND_HISTORY, rows)
    connection.execute(
        _UPSERT_FROM_HISTORY[connection.dialect.name], {"assessment_id": assessment_id}
    )
    for callback in _AFTER_WRITE:
        callback(people, version, epochs)


_CURRENT = cast(Table, CurrentRating.__table__)
_SHORTEN = (
    update(_CURRENT)
    .where(_CURRENT.c.id == bindparam("row_id"))
    .values(expires_at=bindparam("stopped_at"))
)


def bring_expiry_forward(
    stopped: dict[tuple[int, str], datetime], version: FrameworkVersion
) -> int:
    """End the current ratings keyed (person id, skill key) in `stopped` at the moment
    given, where they would have lasted longer (a reworded skill to be validated again:
    `reworded.py`), then move the people's teams' coverage epoch on and run what was
    registered with `after_ratings_written` for `version` (the stored coverage figures), in
    the caller's transaction. The history keeps each validation's own expiry. Returns the
    number of ratings ended."""
    if not stopped:
        return 0
    people = {person for person, _ in stopped}
    rows = db.session.execute(
        select(
            _CURRENT.c.id, _CURRENT.c.person_id, _CURRENT.c.skill_key, _CURRENT.c.expires_at
        ).where(_CURRENT.c.person_id.in_(sorted(people)))
    ).all()
    changes = [
        {"row_id": row.id, "stopped_at": stopped[(row.person_id, row.skill_key)]}
        for row in rows
        if (row.person_id, row.skill_key) in stopped
        and _aware(row.expires_at) > stopped[(row.person_id, row.skill_key)]
    ]
    if not changes:
        return 0
    ended = {row.person_id for row in rows if row.id in {c["row_id"] for c in changes}}
    epochs = bump_coverage_epoch(ended)
    db.session.connection().execute(_SHORTEN, changes)
    for callback in _AFTER_WRITE:
        callback(ended, version, epochs)
    return len(changes)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
