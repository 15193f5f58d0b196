"""Imports from spreadsheets: the staff roster and e-learning completions.

A file is checked against the upload limits before anything parses it
(`upload_limits.py`), read in streaming mode with bounded rows and columns
(`import_files.py`), every row is checked (row, column, reason), and only a file with no
errors is applied, in one transaction: all or nothing. xlsx and csv are accepted. A large
file applied as a job is checked whole first, then written in batches (`apply_batches`),
each its own short transaction, so other people's writes (a sign-in) get through between
them on SQLite; applying the same file again is safe (rows already applied change nothing).

The roster is applied with bulk statements (a few per thousand rows, never one password
hash per person): new people get a one-time set-your-password link instead of a password.
Who may grant which role is one rule (`permissions.role_change_refusal`), asked for every
row: a row the importer may not apply is an error on the column `role`.

An import acts for the importer's organisation (the command line: the first one): the people
it creates are employed by it; it changes none employed by another organisation; it places a
person in a team of another organisation only of the same collaborative (a secondment); and
it records completions of its own people only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, bindparam, delete, select, update

from competency_app.accounts import password_links, scope
from competency_app.accounts import services as accounts
from competency_app.accounts.models import (
    Organisation,
    Role,
    RoleAssignment,
    SupervisionLink,
    Team,
    User,
)
from competency_app.accounts.permissions import active_admin_ids, role_change_refusal
from competency_app.clock import utcnow
from competency_app.common.text import email_problem
from competency_app.common.xlsx import add_sheet, new_workbook, to_bytes
from competency_app.coverage.development import record_completion
from competency_app.database import chunks, insert_rows
from competency_app.exports.import_files import (  # noqa: F401 - the file's errors, here too
    CSV_ENCODINGS,
    OPTIONAL_COLUMNS,
    ImportFileError,
    decode_csv,
    read_rows,
)
from competency_app.extensions import db
from competency_app.framework.local_courses import visible_courses
from competency_app.framework.services import current_version, current_words
from competency_app.notifications.services import send_password_links
from competency_app.training.completion_dates import completion_date_refusal
from competency_app.training.models import ModuleCompletion

ROSTER_COLUMNS = ["name", "email", "role", "team", "supervisor", "leaving_date", "start_date"]
COMPLETION_COLUMNS = ["email", "module", "date"]
KINDS = {"roster": ROSTER_COLUMNS, "completions": COMPLETION_COLUMNS}
CHUNK = 500  # ids or emails per IN (...) list


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


def role_names() -> dict[str, Role]:
    """Every name a roster's `role` column may give a role, case-folded: its value
    (`practitioner`, `hr`, …), its label as the pages show it, and for the practitioner
    role the framework's own word (`keyworker`) and role label ("Keyworker
    (practitioner)")."""
    names = {role.value.casefold(): role for role in Role}
    names |= {role.label.casefold(): role for role in Role if role is not Role.PRACTITIONER}
    words = current_words()
    for name in (words.practitioner, words.role_label):
        names[name.casefold()] = Role.PRACTITIONER
    return names


def role_choices() -> str:
    """The role names an error lists: the practitioner role by the framework's word."""
    words = current_words()
    names = [words.practitioner if role is Role.PRACTITIONER else role.value for role in Role]
    if words.practitioner.casefold() != Role.PRACTITIONER.value:
        names.insert(1, f"{Role.PRACTITIONER.value} (the same as {words.practitioner})")
    return ", ".join(names)


def _roles(text: str, names: dict[str, Role]) -> list[Role] | None:
    """The roles a `role` cell names (separated by ";" or ","), or None for a name that
    is no role's."""
    roles = []
    for part in text.replace(",", ";").split(";"):
        name = " ".join(part.split()).casefold()
        if not name:
            continue
        if name not in names:
            return None
        roles.append(names[name])
    return roles


@dataclass
class _Person:
    """An existing person as the roster needs them: read with plain selects, no ORM."""

    id: int
    email: str
    name: str
    active: bool
    organisation_id: int
    leaving_date: date | None = None
    start_date: date | None = None
    grants: set[tuple[Role, int | None]] = field(default_factory=set)

    @property
    def role_set(self) -> set[Role]:  # what permissions.role_change_refusal reads
        return {role for role, _team in self.grants}


def _where_in(column, values: list) -> Iterable:
    """`column IN (values)` in chunks; for many values one scan of the whole table, which
    is faster on both databases than dozens of long IN lists (and needs no statistics)."""
    if len(values) > 2 * CHUNK:
        yield None
        return
    for chunk in chunks(values, CHUNK):
        yield column.in_(chunk)


def _people(emails: Iterable[str]) -> dict[str, _Person]:
    """Existing people by email, with their roles, in a few queries."""
    wanted = sorted(set(emails))
    people: dict[str, _Person] = {}
    for condition in _where_in(User.email, wanted):
        statement = select(
            User.id,
            User.email,
            User.name,
            User.active,
            User.organisation_id,
            User.leaving_date,
            User.start_date,
        )
        for user_id, email, name, active, employer, leaving, start in db.session.execute(
            statement if condition is None else statement.where(condition)
        ):
            people[email] = _Person(user_id, email, name, active, employer, leaving, start)
    people = {email: people[email] for email in wanted if email in people}
    by_id = {person.id: person for person in people.values()}
    for condition in _where_in(RoleAssignment.user_id, sorted(by_id)):
        grants = select(RoleAssignment.user_id, RoleAssignment.role, RoleAssignment.team_id)
        for user_id, role, team_id in db.session.execute(
            grants if condition is None else grants.where(condition)
        ):
            if user_id in by_id:
                by_id[user_id].grants.add((role, team_id))
    return people


def _supervisors_of(user_ids: list[int]) -> dict[int, set[int]]:
    wanted = set(user_ids)
    links: dict[int, set[int]] = {}
    for condition in _where_in(SupervisionLink.supervisee_id, sorted(wanted)):
        statement = select(SupervisionLink.supervisee_id, SupervisionLink.supervisor_id)
        for supervisee, supervisor in db.session.execute(
            statement if condition is None else statement.where(condition)
        ):
            if supervisee in wanted:
                links.setdefault(supervisee, set()).add(supervisor)
    return links


@dataclass
class _RosterPlan:
    """What applying the rows would do, worked out once for the check and the apply."""

    teams: dict[str, Team]
    people: dict[str, _Person]  # existing people named in the file (people or supervisors)
    supervisors: dict[int, set[int]]  # existing supervisee id -> supervisor ids
    role_names: dict[str, Role]  # `role_names()`, read once for every row
    organisation: Organisation  # the importer's: it employs the people the file creates
    # every organisation of its collaborative, by id: a team or supervisor elsewhere is not
    # the file's to name
    collaborative: dict[int, Organisation]


def importer_organisation(actor: User | None) -> Organisation:
    """The organisation an import acts for: the importer's employer (the command line: the
    first organisation)."""
    return accounts.organisation_for(actor)


def _plan(rows: list[dict], actor: User | None = None) -> _RosterPlan:
    emails = {accounts.normalise_email(r["email"]) for r in rows}
    emails |= {accounts.normalise_email(r.get("supervisor") or "") for r in rows} - {""}
    people = _people(emails)
    organisation = importer_organisation(actor)
    collaborative = {
        o.id: o for o in scope.organisations_in_collaborative(organisation.collaborative_id)
    }
    return _RosterPlan(
        # only the collaborative's teams can be named: a team elsewhere is as if none
        teams={
            t.slug: t
            for t in db.session.scalars(
                select(Team).where(Team.organisation_id.in_(list(collaborative)))
            )
        },
        people=people,
        supervisors=_supervisors_of([u.id for u in people.values()]),
        role_names=role_names(),
        organisation=organisation,
        collaborative=collaborative,
    )


def employer_refusal(person: _Person, plan: _RosterPlan) -> str | None:
    """Why the import may not change `person` (employed by another organisation), or
    None."""
    if person.organisation_id == plan.organisation.id:
        return None
    employer = plan.collaborative.get(person.organisation_id)
    name = employer.name if employer is not None else "another organisation"
    return (
        f"{person.email} is employed by {name}: only {name}'s HR or administrator can change them"
    )


def _grants(row: dict, plan: _RosterPlan) -> set[tuple[Role, int | None]]:
    team = plan.teams.get(row["team"].lower())
    return {
        (role, team.id if role.team_scoped and team else None)
        for role in _roles(row["role"], plan.role_names) or []
    }


def _row_changes(row: dict, person: _Person, plan: _RosterPlan) -> bool:
    """Whether the row would change anything about an existing person."""
    if person.name != row["name"]:
        return True
    if person.grants != _grants(row, plan):
        return True
    email = accounts.normalise_email(row.get("supervisor") or "")
    if email and email not in plan.people:
        return True  # a supervisor new in the file
    wanted = {plan.people[email].id} if email else set()
    return plan.supervisors.get(person.id, set()) != wanted


def check_roster(rows: list[dict], actor: User | None = None) -> Preview:
    """Check every row; `actor` (None: the command line) must be allowed every change."""
    preview = Preview("roster", rows)
    plan = _plan(rows, actor)
    teams = plan.teams
    collaborative_name = plan.organisation.collaborative.name
    emails_in_file: dict[str, int] = {}
    supervisors_in_file = set()
    for row in rows:
        n = row["_row"]
        email = accounts.normalise_email(row["email"])
        if problem := email_problem(email):
            preview.errors.append(RowError(n, "email", f"not an email address ({problem})"))
        elif email in emails_in_file:
            preview.errors.append(
                RowError(n, "email", f"appears again (first on row {emails_in_file[email]})")
            )
        emails_in_file.setdefault(email, n)
        if not row["name"] or len(row["name"]) > 200:
            preview.errors.append(RowError(n, "name", "give the full name (up to 200 characters)"))
        roles = _roles(row["role"], plan.role_names)
        if not roles:
            preview.errors.append(RowError(n, "role", f"use one or more of: {role_choices()}"))
        elif Role.SUPERVISOR in roles:
            supervisors_in_file.add(email)
        team = row["team"].lower()
        if team and team not in teams:
            preview.errors.append(
                RowError(n, "team", f"there is no team {row['team']!r} in {collaborative_name}")
            )
        if roles and any(r.team_scoped for r in roles) and not team:
            preview.errors.append(RowError(n, "team", "a team role needs a team"))
        days = {}
        for column, parse in (
            ("leaving_date", accounts.parse_leaving_date),
            ("start_date", accounts.parse_start_date),
        ):
            value = row.get(column) or ""
            if isinstance(value, datetime | date):
                row[column] = value = value.strftime("%Y-%m-%d")
            try:
                days[column] = parse(value)
            except accounts.AccountError:
                preview.errors.append(
                    RowError(n, column, "use DD/MM/YYYY or YYYY-MM-DD, or leave blank")
                )
        person = plan.people.get(email)
        if person is not None and (refusal := employer_refusal(person, plan)):
            preview.errors.append(RowError(n, "email", refusal))
        start = days.get("start_date") or (person.start_date if person else None)
        leaving = days.get("leaving_date") or (person.leaving_date if person else None)
        if len(days) == 2 and start and leaving and start >= leaving:
            preview.errors.append(RowError(n, "start_date", "must be before the leaving date"))
    for row in rows:
        supervisor = accounts.normalise_email(row.get("supervisor") or "")
        if not supervisor:
            continue
        existing = plan.people.get(supervisor)
        if existing is not None and existing.organisation_id not in plan.collaborative:
            existing = None  # someone outside the collaborative supervises no one here
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
    _check_who_may_grant(rows, plan, actor, preview)
    new = sum(1 for email in emails_in_file if email not in plan.people)
    preview.summary = [f"{new} new people", f"{len(emails_in_file) - new} people updated"]
    return preview


def _check_who_may_grant(
    rows: list[dict], plan: _RosterPlan, actor: User | None, preview: Preview
) -> None:
    """Ask the one rule about every row that grants roles or changes someone."""
    admins = active_admin_ids(
        plan.organisation.id
    )  # the last-administrator rule is per organisation
    for row in rows:
        person = plan.people.get(accounts.normalise_email(row["email"]))
        roles = _roles(row["role"], plan.role_names)
        if roles is None or person is None or not person.active:
            continue
        if person.organisation_id != plan.organisation.id:
            continue  # refused on its email
        if Role.ADMIN in roles:
            admins.add(person.id)
        else:
            admins.discard(person.id)
    new_admins = sum(
        1
        for r in rows
        if Role.ADMIN in (_roles(r["role"], plan.role_names) or [])
        and accounts.normalise_email(r["email"]) not in plan.people
    )
    for row in rows:
        roles = _roles(row["role"], plan.role_names)
        if not roles:
            continue
        person = plan.people.get(accounts.normalise_email(row["email"]))
        if person is not None and person.organisation_id != plan.organisation.id:
            continue  # refused on its email
        if person is not None and not _row_changes(row, person, plan):
            continue  # an unchanged row (a re-imported roster) changes no one
        refusal = role_change_refusal(
            actor, person, set(roles), admins_after=len(admins) + new_admins
        )
        if refusal:
            preview.errors.append(RowError(row["_row"], "role", refusal))


@dataclass
class RosterResult:
    created: int
    updated: int
    links: list[tuple[str, str, str]]  # (name, email, token) for each new person


def _set_dates(rows, plan, ids, column: str, parse, new_people: bool) -> list:
    """Write the file's `column` dates that differ from the stored ones, in one statement;
    (id, email, day) of each person changed, for the audit."""
    changed = []
    for row in rows:
        day = parse(row.get(column) or "")
        person = plan.people.get(row["email"])
        if day is None or (person is None and not new_people):
            continue
        if person is None or getattr(person, column) != day:
            changed.append((ids[row["email"]], row["email"], day))
    if changed:
        users = cast(Table, User.__table__)
        db.session.execute(
            update(users)
            .where(users.c.id == bindparam("person"))
            .values({column: bindparam("day")}),
            [{"person": person_id, "day": day} for person_id, _, day in changed],
        )
    return changed


def apply_roster(preview: Preview, actor: User | None) -> RosterResult:
    """Create or update everyone in the checked file with bulk statements.

    New people get no password and a one-time link to set it (returned, shown once).
    """
    plan = _plan(preview.rows, actor)
    now = utcnow()
    organisation_id = plan.organisation.id
    rows = [{**r, "email": accounts.normalise_email(r["email"])} for r in preview.rows]
    new_rows = [r for r in rows if r["email"] not in plan.people]
    insert_rows(
        db.session,
        User.__table__,
        [
            {
                "organisation_id": organisation_id,
                "email": r["email"],
                "name": r["name"],
                "password_hash": accounts.NO_PASSWORD,
                "active": True,
                "must_change_password": False,
                "session_version": 1,
                "created_at": now,
                "leaving_date": accounts.parse_leaving_date(r.get("leaving_date") or ""),
                "start_date": accounts.parse_start_date(r.get("start_date") or ""),
            }
            for r in new_rows
        ],
    )
    ids = {user.email: user.id for user in plan.people.values()}
    ids |= {email: person.id for email, person in _people(r["email"] for r in new_rows).items()}
    team_slugs = {t.id: t.slug for t in plan.teams.values()}
    email_of = {person_id: email for email, person_id in ids.items()}

    def label(grants) -> list[str]:
        return sorted(
            f"{role.value}@{team_slugs.get(team, 'organisation')}" for role, team in grants
        )

    # Roles: new people get theirs; existing people whose roles differ get them replaced.
    assignments, replaced, role_events, team_events, renamed = [], [], [], [], []
    for row in rows:
        grants = _grants(row, plan)
        person = plan.people.get(row["email"])
        if person is not None:
            before = person.grants
            if person.name != row["name"]:
                renamed.append((person.id, row["name"]))
            if before == grants:
                continue
            replaced.append(person.id)
            if {role for role, _ in before} != {role for role, _ in grants}:
                role_events.append((row["email"], {"old": label(before), "new": label(grants)}))
            old_teams = sorted(team_slugs.get(t, "") for _, t in before if t is not None)
            new_teams = sorted(team_slugs.get(t, "") for _, t in grants if t is not None)
            if old_teams != new_teams:
                team_events.append((row["email"], {"old": old_teams, "new": new_teams}))
        assignments += [
            {"user_id": ids[row["email"]], "role": role, "team_id": team} for role, team in grants
        ]
    for chunk in chunks(replaced, CHUNK):
        db.session.execute(delete(RoleAssignment).where(RoleAssignment.user_id.in_(chunk)))
        # their sessions end so the new rights apply at once
        db.session.execute(
            update(User).where(User.id.in_(chunk)).values(session_version=User.session_version + 1)
        )
    insert_rows(db.session, RoleAssignment.__table__, assignments)
    if renamed:
        users = cast(Table, User.__table__)
        db.session.execute(
            update(users).where(users.c.id == bindparam("person")).values(name=bindparam("new")),
            [{"person": person_id, "new": name} for person_id, name in renamed],
        )
    # Supervisors: replace the links of everyone whose supervisor differs.
    links, relinked, supervisor_events = [], [], []
    for row in rows:
        person_id = ids[row["email"]]
        supervisor_email = accounts.normalise_email(row.get("supervisor") or "")
        wanted = {ids[supervisor_email]} if supervisor_email else set()
        current = plan.supervisors.get(person_id, set())
        if wanted == current:
            continue
        if current:
            relinked.append(person_id)
        links += [{"supervisor_id": s, "supervisee_id": person_id} for s in wanted]
        supervisor_events.append((row["email"], {"new": supervisor_email or None}))
    for chunk in chunks(relinked, CHUNK):
        db.session.execute(delete(SupervisionLink).where(SupervisionLink.supervisee_id.in_(chunk)))
    insert_rows(db.session, SupervisionLink.__table__, links)
    # Dates: a date in the file is set; a blank cell leaves any date already set. New people
    # got their start date when they were made.
    leaving = _set_dates(rows, plan, ids, "leaving_date", accounts.parse_leaving_date, True)
    starting = _set_dates(rows, plan, ids, "start_date", accounts.parse_start_date, False)
    log = {"organisation_id": organisation_id}  # the importer's organisation's audit log
    accounts.record_many(
        "user_created",
        actor,
        [(r["email"], {"roles": label(_grants(r, plan))}) for r in new_rows],
        **log,
    )
    accounts.record_many("roles_changed", actor, role_events, **log)
    accounts.record_many("team_changed", actor, team_events, **log)
    accounts.record_many(
        "user_updated", actor, [(email_of[i], {"fields": ["name"]}) for i, _ in renamed], **log
    )
    accounts.record_many("supervisor_changed", actor, supervisor_events, **log)
    accounts.record_many(
        "leaving_date_changed", actor, [(email, {"set": True}) for _, email, _ in leaving], **log
    )
    accounts.record_many(
        "start_date_changed", actor, [(email, {"set": True}) for _, email, _ in starting], **log
    )
    cli = {} if actor else {"actor_label": "cli"}
    tokens = password_links.issue_links(
        [ids[r["email"]] for r in new_rows], actor, by="import", **cli
    )
    send_password_links(tokens, password_links.link_url)  # emailed after the commit
    accounts.record(
        "staff_imported",
        actor,
        target=f"{len(rows)} rows",
        created=len(new_rows),
        updated=len(rows) - len(new_rows),
        roles_changed=len(role_events),
        organisation_id=organisation_id,
        **cli,
    )
    db.session.expire_all()  # the bulk statements bypassed the identity map
    return RosterResult(
        created=len(new_rows),
        updated=len(rows) - len(new_rows),
        links=[(r["name"], r["email"], tokens[ids[r["email"]]]) for r in new_rows],
    )


def _catalogue(version, organisation_id: int) -> list:
    """The framework's modules and the local courses the organisation's people see."""
    modules = list(version.modules) if version is not None else []
    return modules + visible_courses(organisation_id)


def check_completions(rows: list[dict], actor: User | None = None) -> Preview:
    """Check every row: a person of the importer's organisation, a module of the
    catalogue, a date."""
    preview = Preview("completions", rows)
    version = current_version()
    organisation = importer_organisation(actor)
    catalogue = _catalogue(version, organisation.id)
    modules = {m.key for m in catalogue}
    titles = {m.title.lower(): m.key for m in catalogue}
    for row in rows:
        n = row["_row"]
        person = accounts.user_by_email(row["email"])
        if person is None:
            preview.errors.append(RowError(n, "email", f"no one has the email {row['email']!r}"))
        elif person.organisation_id != organisation.id:
            preview.errors.append(
                RowError(
                    n,
                    "email",
                    f"{person.email} is not employed by {organisation.name}: their "
                    "employer records their completions",
                )
            )
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
        refusal = completion_date_refusal(value)
        if refusal:
            preview.errors.append(RowError(n, "date", refusal))
        row["date"] = value
    preview.summary = [f"{len(rows)} completions"]
    return preview


def apply_completions(preview: Preview, actor: User) -> None:
    """Record each completion; one already recorded (the same person, module and date,
    from an earlier run of the file or a row repeated in it) is not recorded twice."""
    version = current_version()
    assert version is not None  # the preview checked the modules against it
    catalogue = _catalogue(version, importer_organisation(actor).id)
    titles = {m.title.lower(): m.key for m in catalogue}
    people = {}
    for row in preview.rows:
        person = accounts.user_by_email(row["email"])
        assert person is not None  # the preview found everyone
        people[row["email"]] = person
    recorded = set()
    for chunk in chunks(sorted({person.id for person in people.values()}), CHUNK):
        recorded |= {
            (person_id, key, day)
            for person_id, key, day in db.session.execute(
                select(
                    ModuleCompletion.person_id,
                    ModuleCompletion.module_key,
                    ModuleCompletion.completed_on,
                ).where(ModuleCompletion.person_id.in_(chunk))
            )
        }
    for row in preview.rows:
        key = titles.get(row["module"].lower(), row["module"])
        person = people[row["email"]]
        if (person.id, key, row["date"]) in recorded:
            continue
        recorded.add((person.id, key, row["date"]))
        record_completion(person, key, row["date"], "", actor)
    accounts.record(
        "completions_imported",
        actor,
        target=f"{len(preview.rows)} rows",
        organisation_id=importer_organisation(actor).id,
    )


def apply_batches(kind: str, rows: list[dict], size: int) -> list[list[dict]]:
    """Checked rows cut into batches to apply one after another: a roster's supervisors
    before the people they supervise (a batch links only people who exist by then); the
    rows of a supervision loop, if any, together in the last batch."""
    if kind != "roster":
        return list(chunks(rows, size))
    by_email = {accounts.normalise_email(row["email"]): row for row in rows}
    depth: dict[str, int] = {}
    for email in by_email:
        chain, current = [], email
        while current in by_email and current not in depth and current not in chain:
            chain.append(current)
            current = accounts.normalise_email(by_email[current].get("supervisor") or "")
        if current in chain:  # a loop: its rows go last, together
            for member in chain:
                depth[member] = len(rows) + 1
            continue
        base = depth.get(current, -1)
        for step, person in enumerate(reversed(chain), start=1):
            depth[person] = base + step if base <= len(rows) else len(rows) + 1
    ordered = sorted(rows, key=lambda row: depth[accounts.normalise_email(row["email"])])
    looped = [row for row in ordered if depth[accounts.normalise_email(row["email"])] > len(rows)]
    straight = ordered[: len(ordered) - len(looped)]
    return list(chunks(straight, size)) + ([looped] if looped else [])


def check_rows(kind: str, rows: list[dict], actor: User | None = None) -> Preview:
    """Check rows read from a file; `actor` (None: the command line) for the role rule."""
    if kind == "roster":
        return check_roster(rows, actor)
    return check_completions(rows, actor)


def preview_file(kind: str, raw: bytes, filename: str, actor: User | None = None) -> Preview:
    """Read and check a file; a CSV file's summary says which encoding it was read in."""
    preview = check_rows(kind, read_rows(raw, filename, KINDS[kind]), actor)
    if filename.lower().endswith(".csv"):
        _text, encoding = decode_csv(raw)
        preview.summary.append(f"read as {CSV_ENCODINGS[encoding]}")
    return preview


def rows_to_json(rows: list[dict]) -> str:
    """Rows as read, for keeping between the preview and the apply (dates tagged)."""

    def encode(value):
        if isinstance(value, datetime | date):
            return {"date": value.isoformat()}
        return value

    return json.dumps([{key: encode(value) for key, value in row.items()} for row in rows])


def rows_from_json(text: str) -> list[dict]:
    def decode(value):
        if isinstance(value, dict):
            raw = value["date"]
            return datetime.fromisoformat(raw) if "T" in raw else date.fromisoformat(raw)
        return value

    return [{key: decode(value) for key, value in row.items()} for row in json.loads(text)]


def roster_workbook(actor: User | None = None) -> bytes:
    """The name, email, roles, team and supervisor of everyone `actor` keeps the records of
    (their organisation's people; everyone for the command line), in the import's own
    format."""
    workbook = new_workbook()
    sheet = add_sheet(workbook, "Staff", widths=(28, 34, 28, 22, 34, 14, 14))
    sheet.header(ROSTER_COLUMNS)
    practitioner = current_words().practitioner  # the role as the pages name it
    statement = select(User).where(User.active).order_by(User.name)
    if actor is not None:
        statement = statement.where(scope.people(actor))
    for user in db.session.scalars(statement):
        teams = sorted({a.team.slug for a in user.roles if a.team is not None})
        supervisor = accounts.supervisor_of(user)
        sheet.row(
            [
                user.name,
                user.email,
                "; ".join(
                    sorted(
                        {
                            practitioner if a.role is Role.PRACTITIONER else a.role.value
                            for a in user.roles
                        }
                    )
                ),
                teams[0] if teams else "",
                supervisor.email if supervisor else "",
                user.leaving_date.strftime("%d/%m/%Y") if user.leaving_date else "",
                user.start_date.strftime("%d/%m/%Y") if user.start_date else "",
            ]
        )
    return to_bytes(workbook)
