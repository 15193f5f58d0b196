"""`flask purge-candidates`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from competency_app.database import unit_of_work
from competency_app.recruitment.retention import candidate_months, purge_candidates


@click.command("purge-candidates")
@click.option(
    "--months",
    type=click.IntRange(1, 120),
    default=None,
    help="Retention after the closing date (default: the candidate period in force).",
)
@with_appcontext
def purge_command(months: int | None) -> None:
    """Delete candidate personal data past the retention period (recorded in the audit log)."""
    months = months or candidate_months()
    with unit_of_work():
        vacancies, candidates = purge_candidates(months, actor_label="cli:purge-candidates")
    click.echo(
        f"Purged {candidates} candidates from {vacancies} vacancies closed more than "
        f"{months} months ago."
    )
