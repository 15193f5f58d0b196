"""Erasing a person: what identifies them goes, what the figures count stays.

HR or an administrator of the person's employer erases a leaver past retention, or anyone
on request where the law allows, with the reason recorded. Each table does what the
registry says (`Holding.erase`): its rows about the person are deleted (supervision
records, reflections, notifications, sign-in links), kept with their free text emptied
(ratings, their dates and levels, which team coverage "as at" a past date counts;
completions; assessments) or kept under a pseudonym (the account: "Erased person 12",
still a member of their teams for their dates, so past figures stay true; their
applications). Then every text column of every table is searched for their name and
sign-in address, which are replaced by the pseudonym wherever another record quoted them
(another person's notification, an audit event's detail).

The audit log is append-only for the application; the erasure is the one writer allowed
to rewrite the name and address in it (through SQL, not the ORM's guard), and it records
itself there without them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import JSON, String, Table, Text, cast, delete, select, update

from competency_app.accounts.models import User
from competency_app.accounts.services import NO_PASSWORD, record
from competency_app.extensions import db
from competency_app.privacy.export import about
from competency_app.privacy.registry import DELETE, KEEP, Holding, staff_holdings

REASON_LIMIT = 500


class ErasureRefused(ValueError):
    """Why this person cannot be erased now (shown on the form)."""


@dataclass
class Erasure:
    pseudonym: str
    deleted: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    rewritten: dict[str, int] = field(default_factory=dict)


def pseudonym_of(person_id: int) -> tuple[str, str]:
    return f"Erased person {person_id}", f"erased-{person_id}@erased.invalid"


def refusal(person: User, actor: User, reason: str) -> str | None:
    """Why `actor` may not erase `person` with `reason` now; None when they may."""
    if person.id == actor.id:
        return "You cannot erase your own record: ask HR"
    if person.email.endswith("@erased.invalid"):
        return f"{person.name}'s record is already erased"
    if person.active:
        return (
            f"{person.name}'s account is still active: disable it first "
            "(a person is erased once they have left)"
        )
    if not reason.strip():
        return "Enter the reason for the erasure (the law that allows it, or the request)"
    if len(reason) > REASON_LIMIT:
        return f"The reason must be {REASON_LIMIT} characters or fewer"
    return None


def _table(name: str) -> Table:
    return db.metadata.tables[name]


def _child_first(holdings: list[Holding]) -> list[Holding]:
    order = {table.name: i for i, table in enumerate(db.metadata.sorted_tables)}
    return sorted(holdings, key=lambda h: order[h.table], reverse=True)


def _emptied(table: Table, column: str):
    return {} if isinstance(table.c[column].type, JSON) else None


def _count(result) -> int:
    """The rows an UPDATE or DELETE touched."""
    return int(getattr(result, "rowcount", 0) or 0)


def _replace(text: str, swaps: list[tuple[str, str]]) -> str:
    for old, new in swaps:
        text = text.replace(old, new)
    return text


def _scrub(swaps: list[tuple[str, str]], erasure: Erasure) -> None:
    """Every text and JSON value quoting the person's name or address, in every table,
    rewritten with the pseudonym (in Python, so a longer value is cut to its column)."""
    for table in db.metadata.sorted_tables:
        if "id" not in table.c or table.name == "app_user":
            continue
        for column in table.columns:
            kind = column.type
            if not isinstance(kind, String | Text | JSON):
                continue
            text = cast(column, Text()) if isinstance(kind, JSON) else column
            found = db.session.execute(
                select(table.c.id, column).where(
                    text.contains(swaps[0][0], autoescape=True)
                    | text.contains(swaps[1][0], autoescape=True)
                )
            ).all()
            for row_id, value in found:
                if isinstance(kind, JSON):
                    new = json.loads(_replace(json.dumps(value), swaps))
                else:
                    new = _replace(value, swaps)
                    length = getattr(kind, "length", None)
                    new = new[:length] if length else new
                db.session.execute(
                    update(table).where(table.c.id == row_id).values({column.name: new})
                )
            if found:
                key = f"{table.name}.{column.name}"
                erasure.rewritten[key] = erasure.rewritten.get(key, 0) + len(found)


def expire(person: User, actor: User, classes: list[str], reason: str) -> dict[str, int]:
    """Delete the person's rows of the retention `classes` that an erasure deletes (what has
    passed its period before the whole record has: their notifications, sign-in links);
    within the caller's transaction. Returns the rows deleted by table."""
    deleted: dict[str, int] = {}
    for holding in _child_first(staff_holdings()):
        if holding.kept in classes and holding.erase == DELETE:
            table = _table(holding.table)
            clause = about(holding, person.id, person.email)
            deleted[holding.table] = _count(db.session.execute(delete(table).where(clause)))
    record(
        "personal_data_expired",
        actor,
        target=person.email,
        organisation_id=person.organisation_id,
        classes=sorted(classes),
        reason=reason.strip()[:REASON_LIMIT],
        deleted=deleted,
    )
    return deleted


def erase(person: User, actor: User, reason: str) -> Erasure:
    """Erase `person` (refused with ErasureRefused); within the caller's transaction."""
    problem = refusal(person, actor, reason)
    if problem:
        raise ErasureRefused(problem)
    name, email = person.name, person.email
    pseudonym, address = pseudonym_of(person.id)
    erasure = Erasure(pseudonym=pseudonym)
    db.session.flush()
    # What stays under a pseudonym, besides the account and the audit log (below): their
    # applications.
    pseudonymised = {"candidate": {"name": pseudonym, "email": None}}
    for holding in _child_first(staff_holdings()):
        table = _table(holding.table)
        clause = about(holding, person.id, email)
        if holding.erase == DELETE:
            erasure.deleted[holding.table] = _count(db.session.execute(delete(table).where(clause)))
            continue
        if holding.erase == KEEP:
            values = {column: _emptied(table, column) for column in holding.clear}
        else:  # ANONYMISE
            values = pseudonymised.get(holding.table, {})
        if values:
            result = db.session.execute(update(table).where(clause).values(values))
            erasure.kept[holding.table] = _count(result)
    db.session.execute(
        update(User)
        .where(User.id == person.id)
        .values(
            name=pseudonym,
            email=address,
            password_hash=NO_PASSWORD,
            active=False,
            must_change_password=False,
            last_sign_in_at=None,
            session_version=User.session_version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    # the network addresses they signed in from are theirs too
    audit = _table("audit_event")
    db.session.execute(update(audit).where(audit.c.actor_id == person.id).values(ip_address=None))
    _scrub([(email, address), (name, pseudonym)], erasure)
    db.session.expire(person)
    record(
        "personal_data_erased",
        actor,
        target=pseudonym,
        organisation_id=person.organisation_id,
        reason=_replace(reason.strip(), [(email, address), (name, pseudonym)]),
        deleted=erasure.deleted,
        kept=erasure.kept,
        rewritten=sum(erasure.rewritten.values()),
    )
    return erasure
