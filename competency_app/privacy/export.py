"""A person's whole record, as the product holds it: machine-readable JSON and a readable
page, together in one zip archive.

What goes in is what `registry.HOLDINGS` declares about the person: every row whose subject
is them (directly, or through a parent row that is theirs), their applications when they
were a candidate (and the rows about those applications), and the audit events of what
they did and of what was done to their account. People who acted in those rows appear by
name only; hidden columns (password and token hashes) never leave.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime
from typing import Any

from flask import render_template
from sqlalchemy import Table, or_, select

from competency_app.accounts.models import AuditEvent, User
from competency_app.clock import utcnow
from competency_app.extensions import db
from competency_app.privacy.registry import BY_TABLE, CANDIDATE, Holding, staff_holdings

FORMAT = 1


def _table(name: str) -> Table:
    return db.metadata.tables[name]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def about(holding: Holding, person_id: int, email: str | None = None):
    """The WHERE clause of `holding`'s rows about the person (staff, or their applications
    as a candidate); the audit log's also takes the events naming their sign-in address."""
    table = _table(holding.table)
    subject = holding.subject or ""
    if holding.kind == CANDIDATE and holding.table != "candidate":
        candidate = _table("candidate")
        mine = select(candidate.c.id).where(candidate.c.staff_user_id == person_id)
        return table.c[subject].in_(mine)
    if holding.through is not None:
        column, parent_name = holding.through
        parent = _table(parent_name)
        parent_subject = BY_TABLE[parent_name].subject or ""
        mine = select(parent.c.id).where(parent.c[parent_subject] == person_id)
        return table.c[column].in_(mine)
    if holding.table == "audit_event":
        return or_(AuditEvent.actor_id == person_id, AuditEvent.target == email)
    return table.c[subject] == person_id


def _rows_of(holding: Holding, person_id: int, email: str) -> list[dict]:
    table = _table(holding.table)
    statement = (
        select(table).where(about(holding, person_id, email)).order_by(*table.primary_key.columns)
    )
    return [dict(row._mapping) for row in db.session.execute(statement)]


def _name(names: dict[int, str], person_id: int | None) -> str | None:
    if person_id is None:
        return None
    return names.get(person_id, "(no longer held)")


def _shown(
    holding: Holding,
    row: dict,
    names: dict[int, str],
    person_id: int,
    by_address: dict[str, str],
) -> dict:
    """The row as the copy shows it: actors by name, hidden columns left out."""
    item: dict[str, Any] = {}
    for column, value in row.items():
        if column in holding.hidden:
            continue
        if column in holding.actors:
            item[column.removesuffix("_id")] = _name(names, value)
        else:
            item[column] = _plain(value)
    if holding.table == "audit_event":
        # Who acted, by name; another person's sign-in address and network address are
        # theirs, not the subject's.
        by_them = row["actor_id"] == person_id
        item.pop("actor_label", None)
        item["actor"] = _name(names, row["actor_id"]) or "the system"
        if not by_them:
            item.pop("ip_address", None)
            item.pop("actor_id", None)
        item["detail"] = {
            key: by_address.get(value, value) if isinstance(value, str) else value
            for key, value in (row["detail"] or {}).items()
        }
    return item


def collect(person_id: int) -> dict:
    """Everything the product holds about the person, by section and table."""
    person = db.session.get(User, person_id)
    if person is None:
        raise LookupError(person_id)
    found: list[tuple[Holding, list[dict]]] = [
        (holding, _rows_of(holding, person_id, person.email)) for holding in staff_holdings()
    ]
    actor_ids = {
        row[column]
        for holding, rows in found
        for row in rows
        for column in (*holding.actors, *(("actor_id",) if holding.table == "audit_event" else ()))
        if row.get(column) is not None
    }
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(actor_ids))).all())
    # Audit details name people by sign-in address (the new supervisor): by name here.
    addresses = {
        value
        for holding, rows in found
        if holding.table == "audit_event"
        for row in rows
        for value in (row["detail"] or {}).values()
        if isinstance(value, str) and "@" in value and value != person.email
    }
    by_address = dict(
        db.session.execute(select(User.email, User.name).where(User.email.in_(addresses))).all()
    )
    sections: dict[str, dict[str, dict]] = {}
    for holding, rows in found:
        out = [_shown(holding, row, names, person_id, by_address) for row in rows]
        sections.setdefault(holding.section, {})[holding.table] = {
            "purpose": holding.purpose,
            "rows": out,
        }
    return {
        "format": FORMAT,
        "generated_at": utcnow().isoformat(),
        "person": {"id": person.id, "name": person.name, "email": person.email},
        "organisation": person.organisation.name,
        "sections": sections,
    }


def archive(person_id: int) -> tuple[bytes, int]:
    """The zip archive (data.json and record.html) and the number of rows in it."""
    data = collect(person_id)
    rows = sum(len(t["rows"]) for tables in data["sections"].values() for t in tables.values())
    page = render_template("privacy/record.html", data=data, rows=rows)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive_file:
        archive_file.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
        archive_file.writestr("record.html", page)
    return buffer.getvalue(), rows
