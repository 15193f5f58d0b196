"""A populated database at any schema revision, and a fingerprint of its rows.

The rows are written with plain SQL against the schema reflected at that revision (never
through today's models, which may not match it): every table gets rows, every foreign key
points at a row that exists, every unique constraint holds, and every nullable column but a
few is filled, so a migration that loses, moves or rewrites a value changes the fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

# How many rows each table gets (others: DEFAULT_ROWS). The recruitment children match the
# old demo database that lost them (54 marks, 162 scores, 6 submissions, 81 agreed scores).
ROWS = {
    "organisation": 2,
    "framework_version": 2,
    "app_user": 12,
    "team": 3,
    "skill": 24,
    "self_rating": 40,
    "validated_rating": 30,
    "current_rating": 24,
    "vacancy": 3,
    "candidate": 9,
    "panel_member": 9,
    "shortlist_mark": 54,
    "interview_score": 162,
    "interview_submission": 6,
    "agreed_score": 81,
    "audit_event": 30,
    "notification": 20,
}
DEFAULT_ROWS = 8

# Columns holding one of a few words (enums stored as strings).
CHOICES = {
    "status": ["DRAFT", "SUBMITTED", "VALIDATED", "RETURNED"],
    "role_assignment.role": ["PRACTITIONER", "SUPERVISOR", "MANAGER", "RECRUITER", "HR", "ADMIN"],
    "panel_member.role": ["shortlister", "interviewer", "chair"],
    "outcome": ["EVIDENCED", "DISCUSS"],
    "requirement": ["essential", "desirable"],
    "vacancy.state": ["open", "shortlisting", "interviewing", "decided"],
    "job.state": ["queued", "running", "done", "failed"],
    "unit": ["rows", "people", "teams"],
    "email_state": ["pending", "sending", "sent", "in_app", "off", "failed"],
    "offer": ["made", "accepted", "declined"],
    "kind": ["self_assessment_due", "validation_expiring", "team_workbook", "roster_import"],
    "action": ["assessment.submit", "assessment.validate", "user.create", "vacancy.create"],
    "areas_kind": ["settings", "age_groups"],
    "criterion_key": [f"E{n}" for n in range(1, 7)] + [f"D{n}" for n in range(1, 4)],
    "skill_key": [f"{e}.s{n}" for e in ("1a", "1b", "2a", "2b") for n in range(1, 7)],
    "element_key": ["1a", "1b", "1c", "2a", "2b", "3a", "4a"],
    "module_key": [f"module.{n}" for n in ("autism", "ld-basics", "mca", "safeguarding")],
    "spec_key": ["keyworker-band-6", "keyworker-band-7"],
}
FIRST_NAMES = ["Amina", "Ben", "Chloe", "Dev", "Eilidh", "Farah", "Gareth", "Hana", "Ifeoma"]
LAST_NAMES = ["Okafor", "Hughes", "Patel", "Murray", "Nowak", "Evans", "Khan", "Price"]
SENTENCES = [
    "Led the multi-agency meeting and agreed a plan with the family.",
    "Explained the care and treatment review to the young person in easy read.",
    "Escalated the delayed placement to the commissioner with the family's consent.",
    "Used the communication passport when visiting the ward.",
]
START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def _value(table: sa.Table, column: sa.Column, i: int, rng: random.Random):
    """A realistic value for `column` in row `i` (foreign keys are chosen by the caller)."""
    name, kind = column.name, column.type
    choices = CHOICES.get(f"{table.name}.{name}") or CHOICES.get(name)
    if choices:
        return choices[i % len(choices)] if name != "criterion_key" else rng.choice(choices)
    if column.nullable and i % 5 == 4:
        return None  # a few empty optional values, as real rows have
    if isinstance(kind, sa.Boolean):
        return i % 3 != 0
    if isinstance(kind, sa.Integer):
        if name in ("level", "self_level", "score"):
            return i % 4 + (name == "score")
        return i + 1
    if isinstance(kind, sa.DateTime):
        moment = START + timedelta(days=i, minutes=17 * i, microseconds=1000 * i)
        return moment if kind.timezone else moment.replace(tzinfo=None)
    if isinstance(kind, sa.Date):
        return date(2026, 2, 1) + timedelta(days=3 * i)
    if isinstance(kind, sa.JSON):
        return {"row": i, "keys": ["1a", "2b"][: i % 3], "note": "café ≥ 2"}
    if isinstance(kind, sa.String):
        length = kind.length or 2000
        first, last = FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[i % len(LAST_NAMES)]
        if name == "email":
            text = f"{first}.{last}{i}@nhs.example".lower()
        elif name == "name":
            text = f"{first} {last}"
        elif name.endswith("hash"):
            text = hashlib.sha256(f"{table.name}{i}".encode()).hexdigest()
        elif name in ("key", "slug", "reference", "prefix", "subject", "active_key", "label"):
            text = f"{table.name[:6]}-{i + 1}"
        elif isinstance(kind, sa.Text) or length > 200:
            text = f"{SENTENCES[i % len(SENTENCES)]} ({table.name} {i + 1})"
        else:
            text = f"{name.replace('_', ' ').title()} {i + 1}"
        return text[:length]
    raise AssertionError(f"no sample value for {table.name}.{name} ({kind!r})")


def _unique_sets(table: sa.Table) -> list[tuple[str, ...]]:
    sets = [tuple(c.name for c in table.primary_key.columns)]
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            sets.append(tuple(c.name for c in constraint.columns))
    sets += [tuple(c.name for c in index.columns) for index in table.indexes if index.unique]
    return sets


def populate(connection: Connection, counts: dict[str, int] | None = None) -> dict[str, int]:
    """Fill every table of the database `connection` is on (as reflected now) with
    FK-consistent rows (`counts` overrides `ROWS` for some tables); returns the row count of
    each table."""
    wanted = {**ROWS, **(counts or {})}
    metadata = sa.MetaData()
    metadata.reflect(connection)
    written: dict[str, list[dict]] = {}
    for table in metadata.sorted_tables:
        if table.name == "alembic_version":
            continue
        rng = random.Random(table.name)
        target = wanted.get(table.name, DEFAULT_ROWS)
        uniques = _unique_sets(table)
        seen: set[tuple] = set()
        rows: list[dict] = []
        references = {
            element.parent.name: element.column
            for fk in table.foreign_key_constraints
            for element in fk.elements
        }
        key = [c.name for c in table.primary_key.columns]
        if len(key) == 1 and key[0] in references:  # one row per parent at most
            target = min(target, len(written[references[key[0]].table.name]))
        for attempt in range(target * 50):
            if len(rows) == target:
                break
            i = len(rows)
            row = {}
            for column in table.columns:
                if column.name in references:
                    parent = references[column.name]
                    row[column.name] = rng.choice(written[parent.table.name])[parent.name]
                elif column.primary_key and isinstance(column.type, sa.Integer):
                    row[column.name] = i + 1
                else:
                    row[column.name] = _value(table, column, i + attempt, rng)
            keys = {(columns, tuple(row[c] for c in columns)) for columns in uniques}
            if keys & seen:
                continue
            seen |= keys
            rows.append(row)
        assert len(rows) == target, f"could not make {target} distinct rows for {table.name}"
        connection.execute(table.insert(), rows)
        written[table.name] = rows
    return {name: len(rows) for name, rows in written.items()}


def columns_by_table(connection: Connection) -> dict[str, list[str]]:
    """The columns of every table (but Alembic's own) as the database has them now."""
    inspector = sa.inspect(connection)
    return {
        name: [column["name"] for column in inspector.get_columns(name)]
        for name in inspector.get_table_names()
        if name != "alembic_version"
    }


def read_rows(connection: Connection, tables: dict[str, list[str]]) -> dict[str, list[dict]]:
    """Every row of `tables` (their given columns), in primary-key order, each value as
    JSON text so rows read before and after a migration compare exactly."""
    inspector = sa.inspect(connection)
    found = {}
    for name, columns in tables.items():
        order = inspector.get_pk_constraint(name)["constrained_columns"]
        query = (
            sa.select(*(sa.column(c) for c in columns))
            .select_from(sa.table(name))
            .order_by(*(sa.column(c) for c in order))
        )
        found[name] = [
            {
                c: json.dumps(v, default=str, sort_keys=True)
                for c, v in zip(columns, row, strict=True)
            }
            for row in connection.execute(query)
        ]
    return found


def fingerprint(rows: dict[str, list[dict]], tables: dict[str, list[str]]) -> dict[str, tuple]:
    """(row count, SHA-256 of the rows' values) of each of `tables`, on its given columns."""
    found = {}
    for name, columns in tables.items():
        digest = hashlib.sha256()
        for row in rows[name]:
            digest.update(json.dumps([row[c] for c in columns]).encode())
        found[name] = (len(rows[name]), digest.hexdigest())
    return found
