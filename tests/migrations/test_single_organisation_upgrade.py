"""A populated one-organisation database at the schema before collaboratives (c3f9a2d7e184)
upgrades to head with every row it held unchanged, and ends as one collaborative holding
that organisation: every person employed by it, every team hosted by it, every audit event
in its log."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import upgrade

from competency_app.extensions import db
from tests.migrations.populate import columns_by_table, fingerprint, populate, read_rows
from tests.migrations.test_populated_upgrade import (
    compared,
    count_lines,
    current_revision,
    foreign_key_violations,
    head,
)

BEFORE_COLLABORATIVES = "c3f9a2d7e184"


def _scalar(connection, sql: str):
    return connection.execute(sa.text(sql)).scalar()


def test_one_organisation_upgrades_into_one_collaborative_keeping_every_row(scratch_app):
    upgrade(revision=BEFORE_COLLABORATIVES)
    with db.engine.begin() as connection:
        counts = populate(connection, {"organisation": 1})
    with db.engine.connect() as connection:
        columns = columns_by_table(connection)
        assert set(columns) == set(counts), "a table without rows"
        assert "collaborative" not in columns
        kept = compared(columns)
        before = fingerprint(read_rows(connection, columns), kept)
        (organisation_id,) = connection.execute(sa.text("SELECT id FROM organisation")).one()
        for table in ("app_user", "team", "audit_event"):
            assert _scalar(connection, f"SELECT count(*) FROM {table}") > 0  # noqa: S608

    upgrade()

    assert current_revision() == head()
    with db.engine.connect() as connection:
        after = fingerprint(read_rows(connection, kept), kept)
        assert after == before, count_lines(before, after)
        # one collaborative, holding the one organisation
        collaboratives = connection.execute(sa.text("SELECT id, slug FROM collaborative")).all()
        assert len(collaboratives) == 1
        assert connection.execute(
            sa.text("SELECT id, collaborative_id FROM organisation")
        ).all() == [(organisation_id, collaboratives[0][0])]
        # every person and team still in it, every audit event in its log
        for table in ("app_user", "team", "audit_event"):
            elsewhere = _scalar(
                connection,
                f"SELECT count(*) FROM {table} WHERE organisation_id IS NULL "  # noqa: S608
                f"OR organisation_id <> {int(organisation_id)}",
            )
            assert elsewhere == 0, f"{table}: {elsewhere} rows outside the organisation"
    assert foreign_key_violations() == []
