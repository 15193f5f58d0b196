"""`flask send-reminders`: record what is due by today and email it (run daily)."""

from __future__ import annotations

from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext

from competency_app.clock import utcnow
from competency_app.common.dates import LONDON
from competency_app.database import unit_of_work
from competency_app.jobs.queue import in_process
from competency_app.notifications.reminders import record_due_reminders
from competency_app.notifications.services import (
    deliver_all,
    queue_delivery,
    retry_failed,
    sends_email,
    sweep_outbox,
)
from competency_app.reminders import (  # noqa: F401 - registers the sources and receivers
    cycle,
    recruitment,
    sources,
)


def london_today() -> date:
    return utcnow().astimezone(LONDON).date()


@click.command("send-reminders")
@with_appcontext
def send_reminders_command() -> None:
    """Record every reminder due by today (each once, however often this runs) and send
    every email waiting, new or not. Safe to run on several hosts at once, and after
    missed days."""
    with unit_of_work():
        result = record_due_reminders(london_today())
        retried = retry_failed()
    for kind, count in result.new.items():
        if count:
            click.echo(f"{kind}: {count} new")
    click.echo(f"{result.total} new reminders recorded; {retried} failed emails to retry.")
    if not in_process():
        # always: emails left waiting by an earlier run, or while Redis was down, go too
        if queue_delivery():
            click.echo("Every email waiting is queued for the worker.")
        else:
            click.echo("Could not reach the job queue: the worker sends them once it is back.")
        return
    outcome = deliver_all()  # batch after batch, however many wait
    if outcome.sent or outcome.failed:
        click.echo(f"{outcome.sent} emails sent, {outcome.failed} failed.")
    if not sends_email(current_app.config) and (waiting := sweep_outbox()):
        click.echo(f"MAIL_SERVER is not set here: {waiting} emails are left for the worker.")
