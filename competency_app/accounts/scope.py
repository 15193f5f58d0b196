"""Which organisations' data a person acts on: the one place every query is scoped through.

An installation holds collaboratives; each holds organisations (employers). People are
employed by one organisation; teams are hosted by one and may hold secondees employed by
another organisation of the same collaborative.

- Administrator and HR act for their employer only: its people (wherever they are
  seconded), its teams, its vacancies, its imports, exports and audit log.
- Managers, supervisors, recruiters and keyworkers act within their teams (the host
  team's manager works with a secondee as with anyone): `permissions.py` decides that.
- A regional lead sees the figures of their employer's collaborative (`regional/`), never
  a person's ratings.
- An installation administrator creates collaboratives and organisations and reads every
  organisation's audit log; it holds no organisation's people by that role.

Views, services, the API and the exports ask the functions here; none builds its own
organisation filter.

A person, team or vacancy of another organisation answers 404 (not 403) wherever an
administrator or HR names it by id on a page that lists only their own organisation's
(`person_or_404`): the answer does not reveal that it exists. A team's page, reached by the
slug its members share, keeps answering 403 (`permissions.can_view_team`).

A host team's manager and supervisor see a secondee as any member; the host
organisation's HR sees the team's pages (its figures, its members by name) but not the
secondee's person record, which their employer's HR and administrators keep.

No second wall in PostgreSQL (row-level security keyed by a per-transaction
`SET LOCAL app.organisation_ids`), decided against for now:
- the app connects as the tables' owner, so policies apply only with FORCE ROW LEVEL
  SECURITY, and then every connection must set the variable: the worker's jobs, the CLI,
  migrations, the reminders and the purge act for no one and would need a bypass value the
  app sets itself, which is no wall against the app's own mistakes;
- people and their ratings cross organisations by design: a secondee's row, ratings and
  completions are read by the host team's manager, supervisor and HR (team pages), and the
  stored team figures and coverage read every member, so `app_user` and the rating tables
  would need policies joining role_assignment → team → organisation on every row read;
- `audit_event` alone would fit a SELECT policy, but events are written into another
  organisation's log (a system event about a person lands in their employer's) and the
  installation administrator reads all, so its policy needs an "everything" value too;
- SQLite, the default for the tests and small installations, has no such wall: a rule
  enforced only on PostgreSQL would leave the common path unproven.
The one wall is this module, proven by the tests below.

`tests/accounts/test_organisation_matrix.py` checks the routes and
`tests/accounts/test_organisation_isolation.py` random list queries against them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import abort
from sqlalchemy import ColumnElement, false, func, or_, select, true

from competency_app.accounts.models import (
    AuditEvent,
    Collaborative,
    Organisation,
    Role,
    RoleAssignment,
    Team,
    User,
)
from competency_app.extensions import db

if TYPE_CHECKING:
    from collections.abc import Iterable

# The roles that act for the holder's whole employer.
ORGANISATION_WIDE = frozenset({Role.ADMIN, Role.HR})


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def is_installation_admin(user) -> bool:
    return _signed_in(user) and Role.INSTALLATION_ADMIN in user.role_set


def organisation_ids(user, *roles: Role) -> frozenset[int]:
    """The organisations `user` acts for as one of `roles` (administrator or HR when none
    are given): their employer, when they hold such a role; nothing otherwise."""
    if not _signed_in(user):
        return frozenset()
    wanted = set(roles) if roles else ORGANISATION_WIDE
    return frozenset({user.organisation_id}) if wanted & user.role_set else frozenset()


def acts_for(user, organisation_id: int | None, *roles: Role) -> bool:
    """`user` acts for organisation `organisation_id` as one of `roles` (admin or HR)."""
    return organisation_id is not None and organisation_id in organisation_ids(user, *roles)


def collaborative_id_of(organisation_id: int) -> int | None:
    return db.session.scalar(
        select(Organisation.collaborative_id).where(Organisation.id == organisation_id)
    )


def lead_collaborative_ids(user) -> frozenset[int]:
    """The collaboratives whose regional figures `user` sees (their employer's, as a
    regional lead)."""
    if not _signed_in(user) or Role.REGIONAL_LEAD not in user.role_set:
        return frozenset()
    collaborative_id = collaborative_id_of(user.organisation_id)
    return frozenset({collaborative_id}) if collaborative_id is not None else frozenset()


def same_collaborative(first_organisation_id: int, second_organisation_id: int) -> bool:
    """Both organisations are in one collaborative (a secondment may cross between them)."""
    if first_organisation_id == second_organisation_id:
        return True
    rows = db.session.execute(
        select(Organisation.id, Organisation.collaborative_id).where(
            Organisation.id.in_([first_organisation_id, second_organisation_id])
        )
    ).all()
    return len(rows) == 2 and rows[0].collaborative_id == rows[1].collaborative_id


# ---- WHERE clauses for list queries ------------------------------------------------------


def _in(column, ids: Iterable[int]) -> ColumnElement[bool]:
    ids = list(ids)
    return column.in_(ids) if ids else false()


def people(user, *roles: Role) -> ColumnElement[bool]:
    """People `user` keeps the records of as administrator or HR: their employer's."""
    return _in(User.organisation_id, organisation_ids(user, *roles))


def teams(user, *roles: Role) -> ColumnElement[bool]:
    """Teams `user` acts for organisation-wide: those their employer hosts."""
    return _in(Team.organisation_id, organisation_ids(user, *roles))


def employed_by(organisation_id: int | None) -> ColumnElement[bool]:
    """People employed by `organisation_id`; None (the command line, a job acting for no
    one) is the whole installation."""
    return true() if organisation_id is None else User.organisation_id == organisation_id


def hosted_by(organisation_id: int | None) -> ColumnElement[bool]:
    """Teams hosted by `organisation_id`; None is the whole installation."""
    return true() if organisation_id is None else Team.organisation_id == organisation_id


def employer_id(user, *roles: Role) -> int:
    """The one organisation `user` acts for as one of `roles` (admin or HR): the
    organisation-wide pages (the workbook, training compliance) are that organisation's.
    403 if none: never None, which the functions taking it read as the whole installation."""
    ids = organisation_ids(user, *roles)
    if not ids:
        abort(403)
    return next(iter(ids))


def known_teams(user) -> ColumnElement[bool]:
    """The teams `user` may name in a filter: their employer's and those they hold a role
    in (a secondee's host team). Another organisation's team is answered as no team."""
    if not _signed_in(user):
        return false()
    return (Team.organisation_id == user.organisation_id) | Team.id.in_(list(user.team_ids()))


def in_hosted_teams(team_id_column, user, *roles: Role) -> ColumnElement[bool]:
    """Rows of a team (a vacancy by its `Vacancy.team_id`) that `user` sees organisation-wide
    (HR by default): those of the teams their employer hosts. Recruiters, managers,
    supervisors and panels see theirs by team or panel (`recruitment/permissions.py`)."""
    ids = organisation_ids(user, *(roles or (Role.HR,)))
    if not ids:
        return false()
    return team_id_column.in_(select(Team.id).where(Team.organisation_id.in_(list(ids))))


def vacancy_in_scope(user, vacancy, *roles: Role) -> bool:
    """`vacancy`'s team is hosted by an organisation `user` acts for (as HR by default)."""
    return acts_for(user, vacancy.team.organisation_id, *(roles or (Role.HR,)))


def person_or_404(user, person_id: int, *roles: Role) -> User:
    """The person `person_id` if `user` keeps their record (their employer's administrator
    by default); 404 otherwise, the same answer as for no such person."""
    person = db.session.get(User, person_id)
    if person is None or not acts_for(user, person.organisation_id, *(roles or (Role.ADMIN,))):
        abort(404)
    return person


def assignable_teams(user) -> ColumnElement[bool]:
    """The teams an administrator may put their people in: those of their employer's
    collaborative (a secondment stays inside it), their own organisation's first."""
    ids = organisation_ids(user, Role.ADMIN)
    if not ids:
        return false()
    collaborative = select(Organisation.collaborative_id).where(Organisation.id.in_(list(ids)))
    return Team.organisation_id.in_(
        select(Organisation.id).where(Organisation.collaborative_id.in_(collaborative))
    )


def assignable_supervisors(user) -> ColumnElement[bool]:
    """The supervisors an administrator may name for their people: those their employer
    employs, and those supervising in a team it hosts (a secondee supervisor)."""
    hosted = select(Team.id).where(teams(user, Role.ADMIN))
    return or_(
        User.roles.any(RoleAssignment.role == Role.SUPERVISOR) & people(user, Role.ADMIN),
        User.roles.any(
            (RoleAssignment.role == Role.SUPERVISOR) & RoleAssignment.team_id.in_(hosted)
        ),
    )


def count_people(user) -> int:
    """How many people `user` keeps the records of (administrator or HR)."""
    return db.session.scalar(select(func.count()).select_from(User).where(people(user))) or 0


def active_admin_ids(organisation_id: int | None = None) -> set[int]:
    """The active administrators of `organisation_id` (None: of every organisation). Each
    organisation keeps at least one: the last one cannot be removed or disabled."""
    return set(
        db.session.scalars(
            select(User.id)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.role == Role.ADMIN, User.active, employed_by(organisation_id))
        )
    )


def audit_events(user, *roles: Role) -> ColumnElement[bool]:
    """The audit events `user` reads: every one for the installation administrator; their
    employer's for an administrator (or one of `roles`: HR's home page lists its
    organisation's imports)."""
    if is_installation_admin(user):
        return true()
    return _in(AuditEvent.organisation_id, organisation_ids(user, *(roles or (Role.ADMIN,))))


def organisations_in_collaborative(collaborative_id: int) -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.collaborative_id == collaborative_id)
            .order_by(Organisation.name)
        )
    )


def collaboratives() -> list[Collaborative]:
    return list(db.session.scalars(select(Collaborative).order_by(Collaborative.name)))
