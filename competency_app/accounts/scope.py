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
organisation filter. `tests/accounts/test_organisation_matrix.py` checks the routes and
`tests/accounts/test_organisation_isolation.py` random list queries against them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, false, select, true

from competency_app.accounts.models import (
    AuditEvent,
    Collaborative,
    Organisation,
    Role,
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


def audit_events(user) -> ColumnElement[bool]:
    """The audit events `user` reads: every one for the installation administrator; their
    employer's for an administrator."""
    if is_installation_admin(user):
        return true()
    return _in(AuditEvent.organisation_id, organisation_ids(user, Role.ADMIN))


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
