"""`flask create-team`, `flask create-user` and `flask grant-installation-admin`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from competency_app.accounts import organisations, services
from competency_app.accounts.models import Role, Team
from competency_app.database import unit_of_work
from competency_app.extensions import db


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(2)


@click.command("create-team")
@click.argument("slug")
@click.option("--name", required=True, help="The team's full name.")
@with_appcontext
def create_team_command(slug: str, name: str) -> None:
    """Create a team with the short name SLUG."""
    try:
        with unit_of_work():
            team = services.create_team(slug, name, actor=None)
    except services.AccountError as error:
        _fail(str(error))
    click.echo(f"Created team {team.slug} ({team.name}).")


@click.command("create-user")
@click.argument("email")
@click.option("--name", required=True, help="Full name.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="A role; repeat for several.",
)
@click.option("--team", "team_slug", help="Team short name (for team roles).")
@click.option("--supervisor", "supervisor_email", help="Email of their supervisor.")
@click.password_option(
    "--password", prompt="Password", help="Prompted for (hidden, with confirmation)."
)
@with_appcontext
def create_user_command(
    email: str,
    name: str,
    roles: tuple[str, ...],
    team_slug: str | None,
    supervisor_email: str | None,
    password: str,
) -> None:
    """Create a person with one or more roles (the password is prompted for)."""
    team = None
    if team_slug:
        team = db.session.scalar(select(Team).where(Team.slug == team_slug))
        if team is None:
            _fail(f"--team: there is no team {team_slug!r}")
    supervisor = None
    if supervisor_email:
        supervisor = services.user_by_email(supervisor_email)
        if supervisor is None:
            _fail(f"--supervisor: there is no one with the email {supervisor_email!r}")
    grants = [
        services.RoleGrant(Role(role), team if Role(role).team_scoped else None) for role in roles
    ]
    try:
        with unit_of_work():
            user = services.create_user(
                email, name, password, grants, actor=None, supervisor=supervisor
            )
    except services.AccountError as error:
        option = {"email": "EMAIL", "name": "--name", "password": "--password"}.get(
            error.field or "", f"--{error.field}" if error.field else ""
        )
        _fail(f"{option}: {error}" if option else str(error))
    click.echo(f"Created {user.email} ({', '.join(roles)}).")


@click.command("grant-installation-admin")
@click.argument("email")
@with_appcontext
def grant_installation_admin_command(email: str) -> None:
    """Make the person with EMAIL an installation administrator: they create
    collaboratives and organisations and add each new organisation's first administrator."""
    user = services.user_by_email(email)
    if user is None:
        _fail(f"EMAIL: there is no one with the email {email!r}")
    assert user is not None
    if not user.active:
        _fail(f"EMAIL: the account of {user.email} is disabled; enable it first")
    with unit_of_work():
        granted = organisations.grant_installation_admin(user)
    if granted:
        click.echo(f"{user.email} is now an installation administrator.")
    else:
        click.echo(f"{user.email} is already an installation administrator.")
