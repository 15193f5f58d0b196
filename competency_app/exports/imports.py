"""Imports from spreadsheets: the staff roster and e-learning completions.

A file is read whole, every row is checked (row, column, reason), and only a file with no
errors is applied, in one transaction: all or nothing. xlsx and csv are accepted.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role, Team, User
from competency_app.clock import today
from competency_app.coverage.development import record_completion
from competency_app.exports.xlsx import add_sheet, new_workbook, to_bytes, unneutralise
from competency_app.extensions import db
from competency_app.framework.services import current_version

MAX_ROWS = 20_000
ROSTER_COLUMNS = ["name", "email", "role", "team", "supervisor"]
COMPLETION_COLUMNS = ["email", "module", "date"]
KINDS = {"roster": ROSTER_COLUMNS, "completions": COMPLETION_COLUMNS}
OPTIONAL_COLUMNS = {"team", "supervisor"}


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, missing columns, too many rows)."""


@dataclass
class RowError:
    row: int
    column: str
    reason: str

    def format(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


@dataclass
class Preview:
    kind: str
    rows: list[dict]
    errors: list[RowError] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)

    def errors_for(self, row: int) -> list[RowError]:
        return [e for e in self.errors if e.row == row]


def read_rows(raw: bytes, filename: str, columns: list[str]) -> list[dict]:
    """Rows as {column: text, "_row": n} (n is the spreadsheet row number)."""
    name = filename.lower()
    table: list[list[Any]]
    if name.endswith(".csv"):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportFileError("The CSV file is not UTF-8: save it as 'CSV UTF-8'.") from None
        table = list(csv.reader(io.StringIO(text)))
    elif name.endswith(".xlsx"):
        try:
            book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError):
            raise ImportFileError("The file is not a readable .xlsx workbook.") from None
        sheet = book.worksheets[0]
        table = [
            ["" if v is None else v for v in row]
            for row in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2)
        ]
        book.close()
    else:
        raise ImportFileError("Upload an .xlsx or .csv file.")
    if not table:
        raise ImportFileError("The file is empty.")
    header = [str(h).strip().lower() for h in table[0]]
    missing = [c for c in columns if c not in header and c not in OPTIONAL_COLUMNS]
    if missing:
        raise ImportFileError(
            f"Row 1 must name the columns {', '.join(columns)}; missing: {', '.join(missing)}."
        )
    if len(table) - 1 > MAX_ROWS:
        raise ImportFileError(f"The file has more than {MAX_ROWS:,} rows.")
    rows = []
    for number, values in enumerate(table[1:], start=2):
        if not any(str(v).strip() for v in values):
            continue
        row: dict[str, Any] = {"_row": number}
        for column in columns:
            index = header.index(column) if column in header else None
            value = values[index] if index is not None and index < len(values) else ""
            if "\x00" in str(value):
                raise ImportFileError(f"Row {number}, column {column}: contains a NUL character.")
            row[column] = (
                value if isinstance(value, datetime | date) else unneutralise(str(value).strip())
            )
        rows.append(row)
    return rows


def _roles(text: str) -> list[Role] | None:
    try:
        return [
            Role(part.strip().lower()) for part in text.replace(",", ";").split(";") if part.strip()
        ]
    except ValueError:
        return None


def check_roster(rows: list[dict]) -> Preview:
    preview = Preview("roster", rows)
    teams = {t.slug: t for t in db.session.scalars(select(Team))}
    emails_in_file: dict[str, int] = {}
    supervisors_in_file = set()
    for row in rows:
        n = row["_row"]
        email = accounts.normalise_email(row["email"])
        if not accounts.EMAIL_PATTERN.match(email):
            preview.errors.append(RowError(n, "email", "not an email address"))
        elif email in emails_in_file:
            preview.errors.append(
                RowError(n, "email", f"appears again (first on row {emails_in_file[email]})")
            )
        emails_in_file.setdefault(email, n)
        if not row["name"] or len(row["name"]) > 200:
            preview.errors.append(RowError(n, "name", "give the full name (up to 200 characters)"))
        roles = _roles(row["role"])
        if not roles:
            allowed = ", ".join(r.value for r in Role)
            preview.errors.append(RowError(n, "role", f"use one or more of: {allowed}"))
        elif Role.SUPERVISOR in roles:
            supervisors_in_file.add(email)
        team = row["team"].lower()
        if team and team not in teams:
            preview.errors.append(RowError(n, "team", f"there is no team {row['team']!r}"))
        if roles and any(r.team_scoped for r in roles) and not team:
            preview.errors.append(RowError(n, "team", "a team role needs a team"))
    for row in rows:
        supervisor = accounts.normalise_email(row.get("supervisor") or "")
        if not supervisor:
            continue
        existing = accounts.user_by_email(supervisor)
        if supervisor not in supervisors_in_file and (
            existing is None or Role.SUPERVISOR not in existing.role_set
        ):
            preview.errors.append(
                RowError(row["_row"], "supervisor", f"{supervisor} is not a supervisor here")
            )
        if supervisor == accounts.normalise_email(row["email"]):
            preview.errors.append(
                RowError(row["_row"], "supervisor", "cannot supervise themselves")
            )
    new = sum(1 for email in emails_in_file if accounts.user_by_email(email) is None)
    preview.summary = [f"{new} new people", f"{len(emails_in_file) - new} people updated"]
    return preview


def apply_roster(preview: Preview, actor: User | None) -> list[tuple[User, str]]:
    """Create or update everyone in the file; returns (new person, temporary password)."""
    teams = {t.slug: t for t in db.session.scalars(select(Team))}
    created: list[tuple[User, str]] = []
    for row in preview.rows:
        roles = _roles(row["role"]) or []
        team = teams.get(row["team"].lower())
        grants = [accounts.RoleGrant(r, team if r.team_scoped else None) for r in roles]
        user = accounts.user_by_email(row["email"])
        if user is None:
            password = accounts.temporary_password()
            user = accounts.create_user(
                row["email"], row["name"], password, grants, actor, must_change_password=True
            )
            created.append((user, password))
        else:
            if user.name != row["name"]:
                user.name = row["name"]
            accounts.set_roles(user, grants, actor)
    db.session.flush()
    for row in preview.rows:
        supervisor = accounts.normalise_email(row.get("supervisor") or "")
        user = accounts.user_by_email(row["email"])
        assert user is not None  # everyone in the file exists by now
        accounts.set_supervisor(
            user, accounts.user_by_email(supervisor) if supervisor else None, actor
        )
    accounts.record(
        "staff_imported",
        actor,
        target=f"{len(preview.rows)} rows",
        created=len(created),
        **({} if actor else {"actor_label": "cli"}),
    )
    return created


def check_completions(rows: list[dict]) -> Preview:
    preview = Preview("completions", rows)
    version = current_version()
    modules = {m.key for m in version.modules} if version else set()
    titles = {m.title.lower(): m.key for m in version.modules} if version else {}
    for row in rows:
        n = row["_row"]
        if accounts.user_by_email(row["email"]) is None:
            preview.errors.append(RowError(n, "email", f"no one has the email {row['email']!r}"))
        key = row["module"]
        if key not in modules and key.lower() not in titles:
            preview.errors.append(
                RowError(n, "module", "not a module id or title in the catalogue")
            )
        value = row["date"]
        if isinstance(value, datetime):
            value = value.date()
        if not isinstance(value, date):
            try:
                value = date.fromisoformat(str(value))
            except ValueError:
                preview.errors.append(RowError(n, "date", "use YYYY-MM-DD, for example 2026-11-02"))
                continue
        if value > today():
            preview.errors.append(RowError(n, "date", "is in the future"))
        row["date"] = value
    preview.summary = [f"{len(rows)} completions"]
    return preview


def apply_completions(preview: Preview, actor: User) -> None:
    version = current_version()
    assert version is not None  # the preview checked the modules against it
    titles = {m.title.lower(): m.key for m in version.modules}
    for row in preview.rows:
        key = titles.get(row["module"].lower(), row["module"])
        person = accounts.user_by_email(row["email"])
        assert person is not None  # the preview found everyone
        record_completion(person, key, row["date"], "", actor)
    accounts.record("completions_imported", actor, target=f"{len(preview.rows)} rows")


CHECKS = {"roster": check_roster, "completions": check_completions}


def preview_file(kind: str, raw: bytes, filename: str) -> Preview:
    return CHECKS[kind](read_rows(raw, filename, KINDS[kind]))


def roster_workbook() -> bytes:
    """Everyone's name, email, roles, team and supervisor, in the import's own format."""
    workbook = new_workbook()
    sheet = add_sheet(workbook, "Staff", widths=(28, 34, 28, 22, 34))
    sheet.header(ROSTER_COLUMNS)
    for user in db.session.scalars(select(User).where(User.active).order_by(User.name)):
        teams = sorted({a.team.slug for a in user.roles if a.team is not None})
        supervisor = accounts.supervisor_of(user)
        sheet.row(
            [
                user.name,
                user.email,
                "; ".join(sorted({a.role.value for a in user.roles})),
                teams[0] if teams else "",
                supervisor.email if supervisor else "",
            ]
        )
    return to_bytes(workbook)
