"""What every copy of someone's data shares (a member of staff's, `export`; a candidate's,
`candidates`): each row shown with plain values, the people who acted by name only and
hidden columns left out, and the zip archive holding data.json and record.html."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from competency_app.accounts.models import User
from competency_app.extensions import db
from competency_app.privacy.registry import Holding

AUDIT = "audit_event"

Found = Iterable[tuple[Holding, list[dict]]]


def plain(value: Any) -> Any:
    """A column's value as JSON holds it: ISO dates, hex bytes, an enum's value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def name_of(names: dict[int, str], person_id: int | None) -> str | None:
    if person_id is None:
        return None
    return names.get(person_id, "(no longer held)")


def actor_columns(holding: Holding) -> tuple[str, ...]:
    """The columns naming people who acted in the holding's rows (an audit event's actor)."""
    return (*holding.actors, *(("actor_id",) if holding.table == AUDIT else ()))


def names_of(found: Found) -> dict[int, str]:
    """The names of everyone who acted in the rows found, by id."""
    ids = {
        row[column]
        for holding, rows in found
        for row in rows
        for column in actor_columns(holding)
        if row.get(column) is not None
    }
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def names_by_address(found: Found, own_email: str | None = None) -> dict[str, str]:
    """Audit details name people by sign-in address (the new supervisor): their names,
    but for the subject's own address."""
    addresses = {
        value
        for holding, rows in found
        if holding.table == AUDIT
        for row in rows
        for value in (row["detail"] or {}).values()
        if isinstance(value, str) and "@" in value and value != own_email
    }
    if not addresses:
        return {}
    return dict(
        db.session.execute(select(User.email, User.name).where(User.email.in_(addresses))).all()
    )


def shown(
    holding: Holding,
    row: dict,
    names: dict[int, str],
    person_id: int | None,
    by_address: dict[str, str],
) -> dict:
    """The row as the copy shows it: actors by name, hidden columns left out. `person_id`
    is the subject's account (None for a candidate, who has none)."""
    item: dict[str, Any] = {}
    for column, value in row.items():
        if column in holding.hidden:
            continue
        if column in holding.actors:
            item[column.removesuffix("_id")] = name_of(names, value)
        else:
            item[column] = plain(value)
    if holding.table == AUDIT:
        # Who acted, by name; another person's sign-in address and network address are
        # theirs, not the subject's.
        by_them = person_id is not None and row["actor_id"] == person_id
        item.pop("actor_label", None)
        item["actor"] = name_of(names, row["actor_id"]) or "the system"
        if not by_them:
            item.pop("ip_address", None)
            item.pop("actor_id", None)
        item["detail"] = {
            key: by_address.get(value, value) if isinstance(value, str) else value
            for key, value in (row["detail"] or {}).items()
        }
    return item


def zipped(data: dict, page: str) -> bytes:
    """The archive: `data` for other software (data.json) and the readable `page`
    (record.html)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive_file:
        archive_file.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
        archive_file.writestr("record.html", page)
    return buffer.getvalue()
