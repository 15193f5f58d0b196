"""Account writes (flush, never commit) and the audit log, shared by views and the CLI."""

from __future__ import annotations

import contextlib
import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context, has_request_context, request
from sqlalchemy import and_, bindparam, func, or_, select
from werkzeug.security import check_password_hash

from competency_app.accounts.audit import AuditAction
from competency_app.accounts.models import (
    AuditEvent,
    Collaborative,
    Organisation,
    Role,
    RoleAssignment,
    SupervisionLink,
    Team,
    User,
)
from competency_app.accounts.permissions import role_change_refusal
from competency_app.clock import utcnow
from competency_app.common.dates import date_error, parse_day
from competency_app.common.text import (
    control_character_problem,
    email_problem,
    has_control_characters,
)
from competency_app.config import Config
from competency_app.database import insert_rows
from competency_app.extensions import db

MIN_PASSWORD_LENGTH = 12
# Stored for people who have not yet set a password (through their link): no password can
# ever match it, so such an account cannot sign in with one.
NO_PASSWORD = "!no-password-set"  # noqa: S105 - a marker, never a password
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class AccountError(ValueError):
    """A refused account change; `field` names the form field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# ---- audit ------------------------------------------------------------------------------


def _log_of(actor: User | None, organisation_id: int | None) -> int | None:
    """The organisation whose audit log holds an event: the one named, else the actor's
    employer; None (the installation's log) for the system acting on nobody's behalf."""
    if organisation_id is not None:
        return organisation_id
    return actor.organisation_id if actor is not None else None


def record(
    action: AuditAction | str,
    actor: User | None,
    target: str | None = None,
    *,
    organisation_id: int | None = None,
    **detail,
) -> AuditEvent:
    """Append an audit event (no passwords, tokens or cookies ever go in `detail`).

    It goes in the log of `organisation_id` when given (the person's or team's employer
    for an event the system records), else of the actor's employer.

    `action` must be in the catalogue (`AuditAction`): anything else raises ValueError.
    Details hold ids and counts, never candidates' names or anyone's ratings.
    """
    action = AuditAction.coerce(action)
    event = AuditEvent(
        organisation_id=_log_of(actor, organisation_id),
        at=utcnow(),
        actor_id=actor.id if actor is not None and actor.id is not None else None,
        actor_label=actor.email if actor is not None else detail.pop("actor_label", "system"),
        action=action.value,
        target=target,
        detail=detail,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event


def record_many(
    action: AuditAction | str,
    actor: User | None,
    events: list[tuple[str | None, dict]],
    *,
    organisation_id: int | None = None,
) -> None:
    """Append one audit event per (target, detail) in a single statement (bulk imports).

    The same catalogue check as `record`: an action outside `AuditAction` raises ValueError.
    """
    action = AuditAction.coerce(action)
    if not events:
        return
    common = {
        "organisation_id": _log_of(actor, organisation_id),
        "at": utcnow(),
        "actor_id": actor.id if actor is not None else None,
        "actor_label": actor.email if actor is not None else "cli",
        "action": action.value,
        "ip_address": request.remote_addr if has_request_context() else None,
    }
    insert_rows(
        db.session,
        AuditEvent.__table__,
        [{**common, "target": target, "detail": detail} for target, detail in events],
    )


# ---- passwords --------------------------------------------------------------------------


@functools.cache
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    # Verified against when the email is unknown, so both failures take the same time.
    return hasher, hasher.hash("not-a-real-password")


def _hasher_and_dummy() -> tuple[PasswordHasher, str]:
    # argon2id at PASSWORD_HASH_COST (config.py): OWASP's recommended minimum (19 MiB,
    # 2 passes, above ASVS's bar) in every configuration but the tests'.
    cost = current_app.config["PASSWORD_HASH_COST"] if has_app_context() else None
    return _hasher(**(cost or Config.PASSWORD_HASH_COST))


def password_hasher() -> PasswordHasher:
    """The argon2id hasher at the running app's PASSWORD_HASH_COST."""
    return _hasher_and_dummy()[0]


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def check_password_strength(password: str, email: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters", "password"
        )
    if len(password) > 256:
        raise AccountError("Password must be 256 characters or fewer", "password")
    if email and password.lower() == email.lower():
        raise AccountError("Password must not be your email address", "password")


def _verify(user: User, password: str) -> bool:
    """Check a password; re-hash at the current cost when the stored hash is older."""
    stored = user.password_hash
    if stored == NO_PASSWORD:
        hasher, dummy_hash = _hasher_and_dummy()
        with contextlib.suppress(VerificationError):
            hasher.verify(dummy_hash, password)  # the same time as a wrong password
        return False
    if stored.startswith("$argon2"):
        hasher = password_hasher()
        try:
            hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
        if hasher.check_needs_rehash(stored):
            user.password_hash = hash_password(password)
        return True
    # Older Werkzeug (scrypt/pbkdf2) hashes: accept once, upgrade to argon2id.
    if check_password_hash(stored, password):
        user.password_hash = hash_password(password)
        return True
    return False


# ---- sign-in ----------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The user whose credentials these are, or None; both outcomes are audited."""
    user = user_by_email(email)
    if user is None:
        hasher, dummy_hash = _hasher_and_dummy()
        with contextlib.suppress(VerificationError):
            hasher.verify(dummy_hash, password)
        record("sign_in_failed", None, actor_label="unknown", reason="unknown email")
        return None
    if not _verify(user, password) or not user.active:
        reason = "wrong password" if user.active else "account disabled"
        record(
            "sign_in_failed",
            None,
            target=user.email,
            organisation_id=user.organisation_id,
            actor_label=user.email,
            reason=reason,
        )
        return None
    user.last_sign_in_at = utcnow()
    record("sign_in", user)
    return user


def sign_out(user: User, provider: bool | None = None) -> None:
    """End every session of `user` (a copied cookie stops working); for a session through
    the provider, `provider` says whether the provider was asked to sign them out too."""
    user.session_version += 1
    if provider is None:
        record("sign_out", user)
    else:
        record("sign_out", user, provider=provider)


def change_password(user: User, current: str, new: str) -> None:
    if not _verify(user, current):
        raise AccountError("Your current password is not correct", "current_password")
    check_password_strength(new, user.email)
    if current == new:
        raise AccountError("Choose a password different from the current one", "new_password")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.session_version += 1
    record("password_changed", user, target=user.email)


def reset_password(user: User, actor: User) -> str:
    """Give `user` a temporary password they must change at next sign-in; returns it."""
    temporary = temporary_password()
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    user.session_version += 1
    record("password_reset", actor, target=user.email, organisation_id=user.organisation_id)
    return temporary


# ---- organisation, teams, people --------------------------------------------------------


def default_organisation() -> Organisation:
    """The first organisation (made, in a first collaborative, when there is none): the one
    the command line acts for unless told another."""
    organisation = db.session.scalar(select(Organisation).order_by(Organisation.id))
    if organisation is None:
        collaborative = db.session.scalar(select(Collaborative).order_by(Collaborative.id))
        if collaborative is None:
            collaborative = Collaborative(
                slug="keyworking-collaborative", name="Keyworking collaborative"
            )
        organisation = Organisation(
            collaborative=collaborative, slug="keyworking-service", name="Keyworking service"
        )
        db.session.add(organisation)
        db.session.flush()
    return organisation


def organisation_for(actor: User | None, organisation: Organisation | None = None):
    """Where a new team or person goes: the organisation named, else the actor's employer
    (the command line: the first organisation)."""
    if organisation is not None:
        return organisation
    if actor is not None:
        return actor.organisation
    return default_organisation()


def create_team(
    slug: str, name: str, actor: User | None, organisation: Organisation | None = None
) -> Team:
    slug = slug.strip().lower()
    name = name.strip()
    if not SLUG_PATTERN.match(slug) or len(slug) > 60:
        raise AccountError(
            "Team short name must be lower-case letters, digits and single hyphens, "
            "up to 60 characters (for example north-team)",
            "slug",
        )
    if not name or len(name) > 200:
        raise AccountError("Enter the team name (up to 200 characters)", "name")
    if has_control_characters(name):
        raise AccountError(control_character_problem("Team name"), "name")
    if db.session.scalar(select(Team.id).where(Team.slug == slug)) is not None:
        raise AccountError(f"A team with the short name {slug} already exists", "slug")
    host = organisation_for(actor, organisation)
    team = Team(organisation=host, slug=slug, name=name, created_at=utcnow())
    db.session.add(team)
    db.session.flush()
    record("team_created", actor, target=slug, organisation_id=host.id, name=name)
    return team


@dataclass(frozen=True)
class RoleGrant:
    role: Role
    team: Team | None


def _check_grants(grants: list[RoleGrant]) -> None:
    if not grants:
        raise AccountError("Choose at least one role", "roles")
    for grant in grants:
        if grant.role.team_scoped and grant.team is None:
            raise AccountError(f"{grant.role.label} needs a team", "team")


def check_may_change(
    actor: User | None,
    person: User | None,
    roles: set[Role] | None = None,
    *,
    active: bool = True,
    field: str = "roles",
) -> None:
    """Raise AccountError when the rule of `permissions.role_change_refusal` says no."""
    refusal = role_change_refusal(actor, person, roles, active=active)
    if refusal:
        raise AccountError(refusal, field)


def create_user(
    email: str,
    name: str,
    password: str,
    grants: list[RoleGrant],
    actor: User | None,
    supervisor: User | None = None,
    must_change_password: bool = False,
    organisation: Organisation | None = None,
) -> User:
    email = normalise_email(email)
    name = name.strip()
    problem = email_problem(email)
    if problem:
        raise AccountError(problem, "email")
    if not name or len(name) > 200:
        raise AccountError("Enter the person's full name (up to 200 characters)", "name")
    if has_control_characters(name):
        raise AccountError(control_character_problem("Full name"), "name")
    if user_by_email(email) is not None:
        raise AccountError(f"Someone with the email {email} already exists", "email")
    check_password_strength(password, email)
    _check_grants(grants)
    check_may_change(actor, None, {g.role for g in grants})
    employer = organisation_for(actor, organisation)
    user = User(
        organisation=employer,
        email=email,
        name=name,
        password_hash=hash_password(password),
        active=True,
        must_change_password=must_change_password,
        session_version=1,
        created_at=utcnow(),
    )
    user.roles = [RoleAssignment(role=g.role, team=g.team) for g in grants]
    db.session.add(user)
    db.session.flush()
    record(
        "user_created",
        actor,
        target=email,
        organisation_id=employer.id,
        roles=[f"{g.role.value}@{g.team.slug if g.team else 'organisation'}" for g in grants],
    )
    if supervisor is not None:
        set_supervisor(user, supervisor, actor)
    return user


def set_roles(user: User, grants: list[RoleGrant], actor: User | None) -> None:
    """Replace `user`'s roles; their sessions end so the new rights apply at once."""
    _check_grants(grants)
    if (
        actor is not None
        and user.id == actor.id
        and Role.ADMIN in user.role_set
        and not any(g.role == Role.ADMIN for g in grants)
    ):
        raise AccountError("You cannot remove your own administrator role", "roles")
    check_may_change(actor, user, {g.role for g in grants})
    before = sorted(
        f"{a.role.value}@{a.team.slug if a.team else 'organisation'}" for a in user.roles
    )
    # A role held before and still granted is kept as it is: one the identity provider's
    # groups gave stays theirs to take away (accounts/sso.py).
    wanted = {(g.role, g.team.id if g.team else None): g for g in grants}
    for assignment in [a for a in user.roles if (a.role, a.team_id) not in wanted]:
        user.roles.remove(assignment)
    db.session.flush()
    kept = {(a.role, a.team_id) for a in user.roles}
    user.roles.extend(
        RoleAssignment(role=g.role, team=g.team) for key, g in wanted.items() if key not in kept
    )
    after = sorted(f"{g.role.value}@{g.team.slug if g.team else 'organisation'}" for g in grants)
    if before != after:
        user.session_version += 1
        record(
            "roles_changed",
            actor,
            target=user.email,
            organisation_id=user.organisation_id,
            old=before,
            new=after,
        )
    db.session.flush()


def supervisor_of(user: User) -> User | None:
    """The person's supervisor (the first linked, when a deputy is linked too)."""
    return db.session.scalar(
        select(User)
        .join(SupervisionLink, SupervisionLink.supervisor_id == User.id)
        .where(SupervisionLink.supervisee_id == user.id)
        .order_by(SupervisionLink.id)
    )


def set_supervisor(user: User, supervisor: User | None, actor: User | None) -> None:
    if supervisor is not None:
        if supervisor.id == user.id:
            raise AccountError("A person cannot supervise themselves", "supervisor")
        if Role.SUPERVISOR not in supervisor.role_set:
            raise AccountError(f"{supervisor.name} does not have the supervisor role", "supervisor")
    links = list(
        db.session.scalars(select(SupervisionLink).where(SupervisionLink.supervisee_id == user.id))
    )
    old = ", ".join(sorted(link.supervisor.email for link in links)) or None
    new = supervisor.email if supervisor else None
    if old == new:
        return
    check_may_change(actor, user, field="supervisor")
    for link in links:
        db.session.delete(link)
    db.session.flush()
    if supervisor is not None:
        db.session.add(SupervisionLink(supervisor_id=supervisor.id, supervisee_id=user.id))
    record(
        "supervisor_changed",
        actor,
        target=user.email,
        organisation_id=user.organisation_id,
        old=old,
        new=new,
    )
    db.session.flush()


def set_active(user: User, active: bool, actor: User | None) -> None:
    if actor is not None and user.id == actor.id and not active:
        raise AccountError("You cannot disable your own account", "active")
    if user.active == active:
        return
    check_may_change(actor, user, active=active, field="active")
    user.active = active
    user.session_version += 1
    record(
        "user_enabled" if active else "user_disabled",
        actor,
        target=user.email,
        organisation_id=user.organisation_id,
    )


def parse_leaving_date(text: str):
    """A leaving date as every date field takes it (`common.dates.parse_day`); None when
    blank. Raises AccountError (field `leaving_date`) for anything else."""
    return _parse_day(text, "leaving_date", "the leaving date")


def parse_start_date(text: str):
    """A start date as every date field takes it; None when blank. Raises AccountError
    (field `start_date`) for anything else. A day ahead is allowed (someone set up before
    they start counts from that day)."""
    return _parse_day(text, "start_date", "the start date")


def check_start_before_leaving(start, leaving) -> None:
    """A start date on or after the leaving date is refused (field `start_date`)."""
    if start is not None and leaving is not None and start >= leaving:
        raise AccountError("The start date must be before the leaving date", "start_date")


def _parse_day(text: str, field: str, what: str):
    text = (text or "").strip()
    if not text:
        return None
    day = parse_day(text)
    if day is None:
        raise AccountError(date_error(what), field)
    return day


def set_leaving_date(user: User, day, actor: User | None) -> None:
    """Set or clear the day the person leaves (the coverage forecast counts them until
    then). Audited; the detail says only whether a date is set."""
    if user.leaving_date == day:
        return
    user.leaving_date = day
    record(
        "leaving_date_changed",
        actor,
        target=user.email,
        organisation_id=user.organisation_id,
        set=day is not None,
        **({} if actor else {"actor_label": "cli"}),
    )


def set_start_date(user: User, day, actor: User | None) -> None:
    """Set or clear the day the person started (team coverage counts them from then).
    Audited; the detail says only whether a date is set."""
    if user.start_date == day:
        return
    user.start_date = day
    record(
        "start_date_changed",
        actor,
        target=user.email,
        organisation_id=user.organisation_id,
        set=day is not None,
        **({} if actor else {"actor_label": "cli"}),
    )


def supervisees(supervisor: User) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(SupervisionLink, SupervisionLink.supervisee_id == User.id)
            .where(SupervisionLink.supervisor_id == supervisor.id)
            .order_by(User.name)
        )
    )


_MEMBERS: dict[tuple, Any] = {}


def counted_on(day):
    """SQL: the person counts on `day` (a date or a bound parameter): started by then, or
    no start date recorded, and not yet left. The one rule of every member count."""
    return and_(
        or_(User.leaving_date.is_(None), User.leaving_date > day),
        or_(User.start_date.is_(None), User.start_date <= day),
    )


def present(today):
    """SQL: the person's account counts for the figures: active, or a leaver whose leaving
    day has come (their account disabled, or erased under a pseudonym), who still counts
    for the days before it (`counted_on`). A disabled account with no leaving day, or one
    still to come, counts for none."""
    return or_(User.active, User.leaving_date <= today)


def _team_members(
    what: tuple, team_ids: list[int], role: Role, on: datetime | None, ever: bool = False
):
    """The one query for "the teams' members in a role", by team, then name and id: the
    active ones; with `on`, those counted on that day, leavers included for the days before
    they left; `ever`: everyone who counts on some day (the active and the leavers). (Built
    once for each of its uses and run with parameters: every team page asks for its
    members.)"""
    key = (what, on is not None, ever)
    statement = _MEMBERS.get(key)
    if statement is None:
        statement = (
            select(*what)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(
                RoleAssignment.team_id.in_(bindparam("teams", expanding=True)),
                RoleAssignment.role == bindparam("role"),
            )
            .order_by(RoleAssignment.team_id, User.name, User.id)
        )
        if on is not None:
            statement = statement.where(present(bindparam("today")), counted_on(bindparam("day")))
        elif ever:
            statement = statement.where(present(bindparam("today")))
        else:
            statement = statement.where(User.active)
        _MEMBERS[key] = statement
    params: dict[str, Any] = {"teams": team_ids, "role": role}
    if on is not None:
        params["day"] = on.date()
    if on is not None or ever:
        params["today"] = utcnow().date()
    return statement, params


def team_members_ever(team: Team, role: Role = Role.PRACTITIONER) -> list[User]:
    """Everyone who counts for the team on some day: its active members and its leavers
    (whose past days count); `coverage.services.is_member_on` says which days."""
    return list(db.session.scalars(*_team_members((User,), [team.id], role, None, ever=True)))


def team_members(
    team: Team, role: Role = Role.PRACTITIONER, on: datetime | None = None
) -> list[User]:
    """The team's active members with `role`, by name; with `on`, those who had started
    and had not left by that day."""
    return list(db.session.scalars(*_team_members((User,), [team.id], role, on)))


def team_member_names(team: Team, role: Role = Role.PRACTITIONER, on: datetime | None = None):
    """The same people as `team_members`, as (id, name) rows: no ORM objects, read on the
    session's connection after a flush (as the session would flush first), which costs
    half as much as through the session: every coverage page asks."""
    db.session.flush()
    statement, params = _team_members((User.id, User.name), [team.id], role, on)
    return db.session.connection().execute(statement, params).all()


def team_member_ids(team_id: int, role: Role = Role.PRACTITIONER, on: datetime | None = None):
    """The ids of the same people as `team_members`, in the same order."""
    return list(db.session.scalars(*_team_members((User.id,), [team_id], role, on)))


def members_of_teams(team_ids: list[int], role: Role = Role.PRACTITIONER, on=None):
    """(team id, id, name, email) of the same people as `team_members` for each of these
    teams, team by team in that order, as plain rows streamed from the session's
    connection (the organisation workbook's thousands)."""
    statement, params = _team_members(
        (RoleAssignment.team_id, User.id, User.name, User.email), team_ids, role, on
    )
    return db.session.connection().execute(statement, params, execution_options={"yield_per": 5000})


def count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


def temporary_password() -> str:
    """A random password to hand over once; the person must change it at next sign-in."""
    return "-".join(secrets.token_hex(3) for _ in range(4))
