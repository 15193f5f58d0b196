"""Migrations keep every row: populated databases upgraded from each released schema, a
downgrade to nothing and back, and a multi-step downgrade and upgrade with data.

On SQLite a table rebuild (`batch_alter_table`) drops the old table; with foreign keys on,
that drop cascades into every child table (b19a7c3e5d21 rebuilding `candidate` emptied the
shortlisting marks, interview scores, submissions and agreed scores). The rows here are in
every table, so any migration that loses, moves or rewrites a value is caught by name.
"""

from __future__ import annotations

import os
import sqlite3

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade

from competency_app.database import ForeignKeyViolation
from competency_app.extensions import db
from tests.migrations.populate import columns_by_table, fingerprint, populate, read_rows

INITIAL = "23de1b5b6c62"
RELEASED_48E31F0 = "c733046c4a37"  # the head of the release at commit 48e31f0
BEFORE_RECRUITMENT_LIFECYCLE = "b20e7a4c9d15"  # the schema b19a7c3e5d21 upgrades

# Columns whose stored values a migration rewrites on purpose, as (table, column): left out
# of the comparison. None so far; columns a migration adds are not compared, since they were
# not there before.
CHANGED_COLUMNS: frozenset[tuple[str, str]] = frozenset()
# Tables or columns a migration removes on upgrade, as (table, column or None). None so far.
DROPPED: frozenset[tuple[str, str | None]] = frozenset()


def alembic_config():
    return current_app.extensions["migrate"].migrate.get_config()


def head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def foreign_key_violations() -> list:
    if db.engine.dialect.name != "sqlite":
        return []  # PostgreSQL never lets one in
    with db.engine.connect() as connection:
        return connection.exec_driver_sql("PRAGMA foreign_key_check").all()


def populated_at(revision: str) -> tuple[dict[str, list[str]], dict[str, list[dict]]]:
    """Migrate the empty scratch database to `revision`, put rows in every table; returns
    the columns of each table and its rows as written."""
    upgrade(revision=revision)
    with db.engine.begin() as connection:
        counts = populate(connection)
    with db.engine.connect() as connection:
        columns = columns_by_table(connection)
        assert set(columns) == set(counts), "a table without rows"
        return columns, read_rows(connection, columns)


def compared(columns: dict[str, list[str]]) -> dict[str, list[str]]:
    return {
        table: [c for c in names if (table, c) not in CHANGED_COLUMNS | DROPPED]
        for table, names in columns.items()
        if (table, None) not in DROPPED
    }


def count_lines(before: dict, after: dict) -> str:
    return "\n".join(
        f"{table}: {before[table][0]} → {after.get(table, (0,))[0]}" for table in sorted(before)
    )


@pytest.mark.parametrize("start", [INITIAL, RELEASED_48E31F0, BEFORE_RECRUITMENT_LIFECYCLE, "head"])
def test_upgrade_from_a_released_schema_keeps_every_row(scratch_app, start):
    columns, rows = populated_at(start)
    kept = compared(columns)
    before = fingerprint(rows, kept)

    upgrade()

    assert current_revision() == head()
    with db.engine.connect() as connection:
        now = columns_by_table(connection)
        lost = {(t, c) for t, names in kept.items() for c in names if c not in now.get(t, [])}
        assert not lost, f"columns gone after the upgrade: {sorted(lost)}"
        after = fingerprint(read_rows(connection, kept), kept)
    print(f"\n{db.engine.dialect.name} upgrade from {start}:\n{count_lines(before, after)}")
    counts = {table: figures[0] for table, figures in after.items()}
    assert counts == {table: figures[0] for table, figures in before.items()}, count_lines(
        before, after
    )
    changed = sorted(table for table in before if before[table] != after[table])
    assert not changed, f"rows changed by the upgrade in {changed}"
    assert foreign_key_violations() == []


def schema_of(connection) -> dict:
    """What the migrations build: tables, columns, keys, constraints and indexes."""
    inspector = sa.inspect(connection)
    found = {}
    for table in inspector.get_table_names():
        uniques = inspector.get_unique_constraints(table)
        indexes = inspector.get_indexes(table)
        found[table] = (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            inspector.get_pk_constraint(table)["constrained_columns"],
            sorted(
                (fk["name"], fk["constrained_columns"], fk["referred_table"], fk["options"])
                for fk in inspector.get_foreign_keys(table)
            ),
            sorted((u["name"], u["column_names"]) for u in uniques),
            sorted((i["name"], i["column_names"], i["unique"]) for i in indexes),
        )
    return found


def test_downgrade_to_base_with_data_then_upgrade_builds_the_same_schema(scratch_app):
    populated_at("head")
    with db.engine.connect() as connection:
        built = schema_of(connection)

    downgrade(revision="base")

    with db.engine.connect() as connection:
        assert set(sa.inspect(connection).get_table_names()) <= {"alembic_version"}
    upgrade()
    with db.engine.connect() as connection:
        assert schema_of(connection) == built
    assert current_revision() == head()


def test_multi_step_downgrade_and_upgrade_keep_the_surviving_rows(scratch_app):
    _, rows = populated_at("head")

    downgrade(revision=RELEASED_48E31F0)

    assert current_revision() == RELEASED_48E31F0
    with db.engine.connect() as connection:
        surviving = columns_by_table(connection)
        kept = fingerprint(read_rows(connection, surviving), surviving)
    assert fingerprint(rows, surviving) == kept, count_lines(fingerprint(rows, surviving), kept)
    assert foreign_key_violations() == []

    upgrade()

    assert current_revision() == head()
    with db.engine.connect() as connection:
        again = fingerprint(read_rows(connection, surviving), surviving)
    assert again == kept, count_lines(kept, again)
    assert foreign_key_violations() == []


@pytest.mark.skipif(
    os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="PostgreSQL checks every foreign key as it is written",
)
def test_sqlite_upgrade_refuses_to_finish_on_a_foreign_key_violation(scratch_app, scratch_url):
    populated_at(BEFORE_RECRUITMENT_LIFECYCLE)
    db.engine.dispose()
    # An orphan written without foreign keys, as an older tool or a hand edit could leave.
    orphan = sqlite3.connect(scratch_url.removeprefix("sqlite:///"))
    with orphan:
        orphan.execute(
            "INSERT INTO shortlist_mark (candidate_id, criterion_key, shortlister_id, met)"
            " VALUES (9999, 'E1', 1, 1)"
        )
    orphan.close()
    with db.engine.connect() as connection:
        marks = connection.execute(sa.text("SELECT count(*) FROM shortlist_mark")).scalar()

    with pytest.raises(ForeignKeyViolation, match=r"shortlist_mark.*candidate"):
        command.upgrade(alembic_config(), "head")

    assert current_revision() == BEFORE_RECRUITMENT_LIFECYCLE
    with db.engine.connect() as connection:
        assert "offer" not in columns_by_table(connection)["candidate"]
        assert connection.execute(sa.text("SELECT count(*) FROM shortlist_mark")).scalar() == marks
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
