"""Collaboratives and organisations, as the installation administrator keeps them.

An installation holds collaboratives (regions); each holds organisations (employers). The
installation administrator creates both, keeps an organisation's name and email domains
(sign-in picks an organisation's identity provider by them, so a domain is listed by one
organisation only), and makes the first administrator of a new organisation, who then
adds everyone else. Nothing here deletes. Every change is audited in the log of the
organisation it concerns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from competency_app.accounts import password_links, services
from competency_app.accounts.audit import AuditAction
from competency_app.accounts.models import (
    Collaborative,
    Organisation,
    Role,
    RoleAssignment,
    Team,
    User,
)
from competency_app.accounts.services import AccountError
from competency_app.clock import utcnow
from competency_app.common.text import control_character_problem, has_control_characters
from competency_app.extensions import db

DOMAIN_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
DOMAINS_MAX = 500  # the column's length


def _slug(slug: str, what: str) -> str:
    slug = slug.strip().lower()
    if not services.SLUG_PATTERN.match(slug) or len(slug) > 60:
        raise AccountError(
            f"{what} short name must be lower-case letters, digits and single hyphens, "
            "up to 60 characters (for example north-region)",
            "slug",
        )
    return slug


def _name(name: str, what: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise AccountError(f"Enter the {what.lower()} name (up to 200 characters)", "name")
    if has_control_characters(name):
        raise AccountError(control_character_problem(f"{what} name"), "name")
    return name


def domain_problem(domain: str) -> str | None:
    """None when `domain` is a lower-case DNS name with at least two labels."""
    labels = domain.split(".")
    if (
        len(domain) > 253
        or len(labels) < 2
        or not all(DOMAIN_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        return (
            f"{domain} is not an email domain: use lower-case letters, digits, hyphens "
            "and dots, like trust.nhs.uk"
        )
    return None


def parse_domains(text: str, organisation: Organisation | None = None) -> list[str]:
    """The email domains typed (separated by spaces), checked: lower-case, each a valid
    domain, and none listed by another organisation than `organisation`."""
    if has_control_characters(text.replace("\n", " ").replace("\r", " ").replace("\t", " ")):
        raise AccountError(control_character_problem("Email domains"), "domains")
    domains: list[str] = []
    for domain in text.split():
        domain = domain.removeprefix("@")
        if domain != domain.lower():
            raise AccountError(
                f"Write the email domain {domain} in lower case: {domain.lower()}", "domains"
            )
        problem = domain_problem(domain)
        if problem:
            raise AccountError(problem, "domains")
        if domain not in domains:
            domains.append(domain)
    if len(" ".join(domains)) > DOMAINS_MAX:
        raise AccountError(
            f"The email domains are too long together (at most {DOMAINS_MAX} characters)",
            "domains",
        )
    for other in db.session.scalars(select(Organisation).where(Organisation.email_domains != "")):
        if organisation is not None and other.id == organisation.id:
            continue
        taken = sorted(set(other.domains) & set(domains))
        if taken:
            raise AccountError(
                f"The email domain {taken[0]} is already listed by {other.name}: a domain "
                "can belong to one organisation only",
                "domains",
            )
    return domains


def collaborative_by_slug(slug: str) -> Collaborative | None:
    return db.session.scalar(select(Collaborative).where(Collaborative.slug == slug))


def organisation_by_slug(slug: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.slug == slug))


def create_collaborative(slug: str, name: str, actor: User | None) -> Collaborative:
    slug = _slug(slug, "Collaborative")
    name = _name(name, "Collaborative")
    if collaborative_by_slug(slug) is not None:
        raise AccountError(f"A collaborative with the short name {slug} already exists", "slug")
    collaborative = Collaborative(slug=slug, name=name, created_at=utcnow())
    db.session.add(collaborative)
    db.session.flush()
    services.record(AuditAction.COLLABORATIVE_CREATED, actor, target=slug, name=name)
    return collaborative


def create_organisation(
    collaborative: Collaborative, slug: str, name: str, domains: str, actor: User | None
) -> Organisation:
    slug = _slug(slug, "Organisation")
    name = _name(name, "Organisation")
    if organisation_by_slug(slug) is not None:
        raise AccountError(f"An organisation with the short name {slug} already exists", "slug")
    parsed = parse_domains(domains)
    organisation = Organisation(
        collaborative=collaborative,
        slug=slug,
        name=name,
        email_domains=" ".join(parsed),
        created_at=utcnow(),
    )
    db.session.add(organisation)
    db.session.flush()
    services.record(
        AuditAction.ORGANISATION_CREATED,
        actor,
        target=slug,
        organisation_id=organisation.id,
        name=name,
        collaborative=collaborative.slug,
        domains=parsed,
    )
    return organisation


def removed_domains(organisation: Organisation, domains: str) -> list[str]:
    """The domains the organisation lists now that `domains` (as typed) leaves out."""
    kept = set(domains.lower().split())
    return [d for d in organisation.domains if d not in kept]


def update_organisation(
    organisation: Organisation, name: str, domains: str, actor: User | None
) -> bool:
    """Save a new name and email domains; False when nothing changed (nothing recorded)."""
    name = _name(name, "Organisation")
    parsed = " ".join(parse_domains(domains, organisation))
    before = {"name": organisation.name, "domains": organisation.domains}
    if name == organisation.name and parsed == organisation.email_domains:
        return False
    organisation.name = name
    organisation.email_domains = parsed
    db.session.flush()
    services.record(
        AuditAction.ORGANISATION_CHANGED,
        actor,
        target=organisation.slug,
        organisation_id=organisation.id,
        old=before,
        new={"name": name, "domains": parsed.split()},
    )
    return True


def create_first_admin(
    organisation: Organisation, email: str, name: str, actor: User | None
) -> tuple[User, str]:
    """An administrator employed by `organisation`, with no password yet: returns them and
    the token of their one-time set-your-password link. The person is made by the
    installation (the rule of who may grant roles is an organisation's own); the event
    below names who asked."""
    user = services.create_user(
        email,
        name,
        services.temporary_password(),  # replaced below: nobody ever knows it
        [services.RoleGrant(Role.ADMIN, None)],
        None,
        organisation=organisation,
    )
    user.password_hash = services.NO_PASSWORD  # they choose it through their link
    db.session.flush()
    services.record(
        AuditAction.FIRST_ADMIN_CREATED,
        actor,
        target=user.email,
        organisation_id=organisation.id,
        organisation=organisation.slug,
    )
    token = password_links.issue_links(
        [user.id], actor, organisation_id=organisation.id, reason="first administrator"
    )[user.id]
    return user, token


def grant_installation_admin(user: User) -> bool:
    """Give `user` the installation administrator role (the command line); False when
    they hold it already."""
    if Role.INSTALLATION_ADMIN in user.role_set:
        return False
    user.roles.append(RoleAssignment(role=Role.INSTALLATION_ADMIN, team=None))
    user.session_version += 1  # their sessions pick up the new rights at once
    db.session.flush()
    services.record(
        AuditAction.INSTALLATION_ADMIN_GRANTED,
        None,
        target=user.email,
        organisation_id=user.organisation_id,
        actor_label="cli",
    )
    return True


@dataclass(frozen=True)
class OrganisationRow:
    organisation: Organisation
    people: int
    teams: int
    administrators: int


def overview() -> list[tuple[Collaborative, list[OrganisationRow]]]:
    """Every collaborative with its organisations and their counts (three queries)."""
    people = dict(
        db.session.execute(
            select(User.organisation_id, func.count(User.id))
            .where(User.active)
            .group_by(User.organisation_id)
        ).all()
    )
    teams = dict(
        db.session.execute(
            select(Team.organisation_id, func.count(Team.id)).group_by(Team.organisation_id)
        ).all()
    )
    admins = dict(
        db.session.execute(
            select(User.organisation_id, func.count(func.distinct(User.id)))
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.role == Role.ADMIN, User.active)
            .group_by(User.organisation_id)
        ).all()
    )
    collaboratives = db.session.scalars(select(Collaborative).order_by(Collaborative.name))
    return [
        (
            collaborative,
            [
                OrganisationRow(o, people.get(o.id, 0), teams.get(o.id, 0), admins.get(o.id, 0))
                for o in collaborative.organisations
            ],
        )
        for collaborative in collaboratives
    ]
