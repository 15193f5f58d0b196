"""`flask export-xlsx` and `flask import-staff`."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from competency_app.accounts.models import Team
from competency_app.accounts.password_links import link_url, links_csv_text
from competency_app.database import unit_of_work
from competency_app.exports import imports, services
from competency_app.extensions import db


@click.command("export-xlsx")
@click.option("--team", "team_slug", help="The team's short name.")
@click.option("--all", "everything", is_flag=True, help="The whole organisation.")
@click.option(
    "--history",
    is_flag=True,
    help="With --team: every cycle's ratings, not only each member's current cycle.",
)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True)
@with_appcontext
def export_command(team_slug: str | None, everything: bool, history: bool, output: Path) -> None:
    """Write the HR workbook for a team (--team SLUG) or the organisation (--all)."""
    if bool(team_slug) == everything:
        click.echo("Error: give either --team SLUG or --all.", err=True)
        raise SystemExit(2)
    if history and everything:
        click.echo("Error: --history is for --team (--all holds every cycle).", err=True)
        raise SystemExit(2)
    label = f"cli:{getpass.getuser()}"
    with unit_of_work():  # the audit event is kept only if the file is written
        try:
            if everything:
                export = services.export_organisation(None, label)
            else:
                team = db.session.scalar(select(Team).where(Team.slug == team_slug))
                if team is None:
                    click.echo(f"Error: --team: there is no team {team_slug!r}.", err=True)
                    raise SystemExit(2)
                export = services.export_team(team, None, label, history=history)
        except services.ExportError as error:
            click.echo(f"Error: {error}", err=True)
            raise SystemExit(2) from None
        try:
            output.write_bytes(export.content)
        except OSError as error:
            click.echo(f"Error: -o: cannot write {output}: {error.strerror}", err=True)
            raise SystemExit(2) from None
    click.echo(f"Wrote {output} ({export.rows:,} rows).")


@click.command("import-staff")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--check", is_flag=True, help="Check the file only; change nothing.")
@click.option(
    "--links",
    "links_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write new people's set-your-password links to this CSV file (mode 0600) "
    "instead of printing them.",
)
@with_appcontext
def import_staff_command(path: Path, check: bool, links_path: Path | None) -> None:
    """Import a staff roster (.xlsx or .csv: name, email, role, team, supervisor)."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        click.echo(f"{path}: cannot read the file: {error.strerror}", err=True)
        raise SystemExit(2) from None
    try:
        result = imports.preview_file("roster", raw, path.name)
    except imports.ImportFileError as error:
        click.echo(f"{path}: {error}", err=True)
        raise SystemExit(2) from None
    if result.errors:
        for problem in result.errors:
            click.echo(f"{path}: {problem.format()}", err=True)
        click.echo(f"{path}: {len(result.errors)} problems; nothing was imported.", err=True)
        raise SystemExit(2)
    if check:
        click.echo(f"{path}: {len(result.rows)} rows, no problems ({', '.join(result.summary)}).")
        return
    with unit_of_work():  # nothing is stored unless the links could be written
        applied = imports.apply_roster(result, None)
        links = [(name, email, link_url(token)) for name, email, token in applied.links]
        if links_path is not None and links:
            try:
                descriptor = os.open(links_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as file:
                    file.write(links_csv_text(links))
            except OSError as error:
                click.echo(f"Error: --links: cannot write {links_path}: {error.strerror}", err=True)
                raise SystemExit(2) from None
    click.echo(
        f"Imported {len(result.rows)} rows ({applied.created} new people, "
        f"{applied.updated} updated)."
    )
    if links_path is not None:
        if links:
            noun = "link" if len(links) == 1 else "links"
            click.echo(f"Wrote {len(links)} set-your-password {noun} to {links_path}.")
        return
    for _name, email, link in links:
        click.echo(f"  new: {email}  set-your-password link: {link}")
