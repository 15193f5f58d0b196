"""People, teams, roles, supervision links and the append-only audit log."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    bindparam,
    event,
    false,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from competency_app.clock import utcnow
from competency_app.database import UTCDateTime
from competency_app.extensions import Model


class Role(enum.StrEnum):
    PRACTITIONER = "practitioner"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"
    RECRUITER = "recruiter"
    HR = "hr"
    ADMIN = "admin"
    # Sees a collaborative's figures (the regional view), never a person's ratings.
    REGIONAL_LEAD = "regional_lead"
    # Creates collaboratives and organisations; sees every organisation's audit log.
    INSTALLATION_ADMIN = "installation_admin"
    # A lay or expert-by-experience member invited onto one vacancy's interview panel.
    PANEL_MEMBER = "panel_member"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def team_scoped(self) -> bool:
        """HR and admin act for the whole organisation, a regional lead for the
        collaborative, an installation administrator for everything; the others within a
        team."""
        return self not in (
            Role.HR,
            Role.ADMIN,
            Role.PANEL_MEMBER,
            Role.REGIONAL_LEAD,
            Role.INSTALLATION_ADMIN,
        )


ROLE_LABELS = {
    Role.PRACTITIONER: "Keyworker (practitioner)",
    Role.SUPERVISOR: "Supervisor",
    Role.MANAGER: "Manager",
    Role.RECRUITER: "Recruiter",
    Role.HR: "HR",
    Role.ADMIN: "Administrator",
    Role.REGIONAL_LEAD: "Regional lead (the collaborative's figures)",
    Role.INSTALLATION_ADMIN: "Installation administrator (collaboratives and organisations)",
    Role.PANEL_MEMBER: "Interview panel member (lay or expert by experience)",
}


class Collaborative(Model):
    """A region's keyworking collaborative: the employers that deliver one service."""

    __tablename__ = "collaborative"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisations: Mapped[list[Organisation]] = relationship(
        back_populates="collaborative", order_by="Organisation.name"
    )


class Organisation(Model):
    """An employer (an NHS trust, a council, a charity): its people, its hosted teams."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    collaborative_id: Mapped[int] = mapped_column(ForeignKey("collaborative.id"), index=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The email domains of its people, lower-case, separated by spaces (nhs.net addresses
    # are shared by every trust, so a domain may be listed by one organisation only):
    # sign-in picks this organisation's identity provider by them.
    email_domains: Mapped[str] = mapped_column(String(500), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    collaborative: Mapped[Collaborative] = relationship(back_populates="organisations")
    teams: Mapped[list[Team]] = relationship(back_populates="organisation", order_by="Team.name")

    @property
    def domains(self) -> list[str]:
        return self.email_domains.split()


class Team(Model):
    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Bumped in the transaction that changes a member's validated ratings: the per-process
    # coverage cache is keyed by it (competency_app/coverage/services.py).
    coverage_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Bumped by every flush that records a member's completion or makes or cancels an
    # assignment (`training/models.py`): the coverage page's training line is
    # cached by it.
    training_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    organisation: Mapped[Organisation] = relationship(back_populates="teams")


class User(UserMixin, Model):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped at sign-out, password change, disabling and role change: every session cookie
    # carries the value it was issued with, and an older one is refused.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The day the person leaves (from then on they count for no team's coverage); the
    # coverage forecast reads it.
    leaving_date: Mapped[date | None] = mapped_column(Date)
    # The day the person started (before it they count for no team's coverage, so coverage
    # as at a past date counts who was a member then); None: not recorded, counted always.
    start_date: Mapped[date | None] = mapped_column(Date)

    # Whether the person sits on an interview panel, when the signed-in person is loaded
    # (`accounts.views.load_user`, in the same statement): the navigation asks on every
    # page. None when loaded otherwise.
    on_a_panel: Mapped[bool | None] = query_expression()
    organisation: Mapped[Organisation] = relationship()
    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="RoleAssignment.id"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def has_role(self, role: Role, team: Team | None = None) -> bool:
        return any(
            a.role == role and (team is None or a.team_id is None or a.team_id == team.id)
            for a in self.roles
        )

    def team_ids(self, *roles: Role) -> set[int]:
        """Teams where the person holds any of `roles` (all roles when none given)."""
        return {
            a.team_id
            for a in self.roles
            if a.team_id is not None and (not roles or a.role in roles)
        }

    @property
    def role_set(self) -> set[Role]:
        return {a.role for a in self.roles}


class RoleAssignment(Model):
    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("user_id", "role", "team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    # Given by the mapping of the identity provider's groups (OIDC_GROUP_ROLES) at a sign-in,
    # so taken away at the sign-in that no longer carries the group; a role given by hand
    # (an administrator, HR, an import, the command line) is never taken away that way.
    from_group: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    user: Mapped[User] = relationship(back_populates="roles")
    team: Mapped[Team | None] = relationship()


def teams_of(person_ids: Iterable[int]):
    """The ids of the teams these people hold any role in, as a subquery."""
    return select(RoleAssignment.team_id).where(RoleAssignment.user_id.in_(person_ids))


def move_teams_on(counter: str, person_ids: Iterable[int], connection) -> dict[int, int]:
    """Add one to `counter` (`coverage_epoch` or `training_epoch`) of every team these people
    hold a role in, on `connection` (the writing transaction's); returns each such team's
    new value, by team id."""
    statement = _MOVE_ON.get(counter)
    if statement is None:  # built once per counter: building costs more than running it
        column = getattr(Team, counter)
        people: Any = bindparam("people", expanding=True)  # the ids, given at each call
        statement = _MOVE_ON[counter] = (
            update(Team)
            .where(Team.id.in_(teams_of(people)))
            .values({counter: column + 1})
            .returning(Team.id, column)
            .execution_options(synchronize_session=False)
        )
    return dict(connection.execute(statement, {"people": sorted(person_ids)}).all())


_MOVE_ON: dict[str, Any] = {}


class SupervisionLink(Model):
    """`supervisor` supervises `supervisee`."""

    __tablename__ = "supervision_link"
    # Co-supervision is allowed: a supervisee may have a supervisor and a deputy.
    __table_args__ = (UniqueConstraint("supervisor_id", "supervisee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    supervisee_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))

    supervisor: Mapped[User] = relationship(foreign_keys=[supervisor_id])
    supervisee: Mapped[User] = relationship(foreign_keys=[supervisee_id])


class AuditEvent(Model):
    """Append-only: rows are never updated or deleted by the application."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(254))  # kept if the person is renamed
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    # The organisation whose log holds the event (the actor's employer, or the person's or
    # team's the event is about when the actor is the system); None: the installation's.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)

    actor: Mapped[User | None] = relationship()


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(_mapper, _connection, _target):
    raise RuntimeError("audit events are append-only")


class PasswordLink(Model):
    """A one-time, expiring set-your-password link; only the token's SHA-256 is stored."""

    __tablename__ = "password_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class SsoIdentity(Model):
    """The person an OpenID Connect provider's (issuer, subject) pair signs in.

    Linked at that person's first sign-in through the provider, by the verified email
    address an administrator or an import gave them; from then on the pair decides, so an
    address later given to someone else at the provider cannot sign in to this account.
    """

    __tablename__ = "sso_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject"), UniqueConstraint("user_id", "issuer"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(255))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
