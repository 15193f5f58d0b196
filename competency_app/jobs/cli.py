"""`flask worker` (the job queue's consumer) and `flask clean-jobs`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from competency_app.database import unit_of_work
from competency_app.extensions import db
from competency_app.jobs.models import Job
from competency_app.jobs.queue import configure_queue, huey, in_process
from competency_app.jobs.services import KINDS, clean_up, enqueue, request_job


@click.command("worker")
@click.option("--workers", default=2, show_default=True, help="Jobs run at once (threads).")
@with_appcontext
def worker_command(workers: int) -> None:
    """Run the jobs queued in Redis (JOBS_REDIS_URL), beside the web server."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    configure_queue(app)
    if in_process():
        raise click.UsageError(
            "JOBS_REDIS_URL is not set: jobs run inside the web process, no worker is needed."
        )
    click.echo(f"Worker: {workers} at a time, queue {huey.name}")
    huey.create_consumer(workers=workers, worker_type="thread", periodic=True).run()


@click.command("clean-jobs")
@with_appcontext
def clean_jobs_command() -> None:
    """Delete job files past their expiry; fail jobs stuck for hours."""
    with unit_of_work():
        files, stuck = clean_up()
    click.echo(f"{files} expired files deleted, {stuck} stuck jobs marked as failed.")


@click.command("run-job")
@click.argument("kind")
@click.option("--param", "params", multiple=True, help="NAME=VALUE, for the job's parameters.")
@with_appcontext
def run_job_command(kind: str, params: tuple[str, ...]) -> None:
    """Queue a job by its kind (e.g. purge_candidates); in-process, run it now."""
    if kind not in KINDS:
        raise click.BadParameter(f"choose one of {', '.join(sorted(KINDS))}", param_hint="KIND")
    values = dict(p.split("=", 1) for p in params if "=" in p)
    with unit_of_work():
        job, created = request_job(kind, values, None)
        job_id = job.id
    if created:
        enqueue(job_id)
    job = db.session.get_one(Job, job_id)
    db.session.refresh(job)
    click.echo(f"Job {job_id}: {job.status.label}. {job.summary or job.error or ''}".strip())
