"""A person's whole record, as the product holds it: machine-readable JSON and a readable
page, together in one zip archive.

What goes in is what `registry.HOLDINGS` declares about the person: every row whose subject
is them (directly, or through a parent row that is theirs), their applications when they
were a candidate (and the rows about those applications), and the audit events of what
they did and of what was done to their account. People who acted in those rows appear by
name only; hidden columns (password and token hashes) never leave.
"""

from __future__ import annotations

from flask import render_template
from sqlalchemy import Table, or_, select

from competency_app.accounts.models import AuditEvent, User
from competency_app.clock import utcnow
from competency_app.extensions import db
from competency_app.privacy.copies import names_by_address, names_of, shown, zipped
from competency_app.privacy.registry import BY_TABLE, CANDIDATE, Holding, staff_holdings

FORMAT = 1


def _table(name: str) -> Table:
    return db.metadata.tables[name]


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


def collect(person_id: int) -> dict:
    """Everything the product holds about the person, by section and table."""
    person = db.session.get(User, person_id)
    if person is None:
        raise LookupError(person_id)
    found: list[tuple[Holding, list[dict]]] = [
        (holding, _rows_of(holding, person_id, person.email)) for holding in staff_holdings()
    ]
    names = names_of(found)
    by_address = names_by_address(found, person.email)
    sections: dict[str, dict[str, dict]] = {}
    for holding, rows in found:
        out = [shown(holding, row, names, person_id, by_address) for row in rows]
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
    return zipped(data, page), rows
