"""A large import applied as a job: the rows checked at the preview are checked again, whole,
then written in batches (see `imports.apply_batches`); the new people's set-your-password
links are the job's file (for the person who applied it, until it expires) and are emailed
to each of them."""

from __future__ import annotations

import time
from pathlib import Path

from competency_app.accounts.models import User
from competency_app.accounts.password_links import (
    link_url,
    links_csv_text,
    record_links_download,
)
from competency_app.accounts.permissions import is_hr_or_admin
from competency_app.exports import imports
from competency_app.exports.forms import KIND_LABELS
from competency_app.extensions import db
from competency_app.jobs.models import Job
from competency_app.jobs.queue import job_app
from competency_app.jobs.services import (
    JobError,
    JobKind,
    JobResult,
    Progress,
    jobs_dir,
    register,
    writing,
)

SQLITE_GAP_SECONDS = 0.15  # between two batches, for whoever waits to write


def rows_file(name: str) -> Path:
    return jobs_dir() / name


def _apply(params: dict, progress: Progress) -> JobResult:
    path = rows_file(params["rows_file"])
    if not path.exists():
        raise JobError("The checked rows have expired: upload the file again.")
    kind = params["kind"]
    actor = db.session.get(User, params["actor_id"])
    if actor is None or not actor.active:
        path.unlink(missing_ok=True)
        raise JobError("The person who asked for this import can no longer apply it.")
    rows = imports.rows_from_json(path.read_text(encoding="utf-8"))
    total = len(rows)
    progress(0, 2 * total)
    preview = imports.check_rows(kind, rows, actor)  # the whole file, checked again now
    if preview.errors:
        path.unlink(missing_ok=True)
        raise JobError("The data changed since the preview: upload the file again.")
    progress(total, 2 * total)
    # Written in batches, each its own short transaction, so that other people's writes
    # (a sign-in) get through between them. If the process dies midway the rows written so
    # far stay; the rows file stays too, so "try again" applies the file again, and the
    # rows already applied change nothing. Any other failure deletes them.
    links: list[tuple[str, str, str]] = []
    written = 0
    size = int(job_app().config["IMPORT_BATCH_ROWS"])
    try:
        for batch in imports.apply_batches(kind, preview.rows, size):
            with writing():
                actor = db.session.get_one(User, params["actor_id"])
                part = imports.Preview(kind, batch)
                if kind == "roster":
                    links += imports.apply_roster(part, actor).links
                else:
                    imports.apply_completions(part, actor)
            written += len(batch)
            progress(total + written, 2 * total)
            if db.engine.dialect.name == "sqlite":
                # A writer waiting for SQLite's lock retries at intervals of up to 100 ms
                # (its busy handler): without a gap it may never find the lock free.
                time.sleep(SQLITE_GAP_SECONDS)
    finally:
        path.unlink(missing_ok=True)
    summary = f"{KIND_LABELS[kind]}: {total:,} rows imported."
    if not links:
        return JobResult(summary=summary)
    content = links_csv_text((name, email, link_url(token)) for name, email, token in links)
    return JobResult(
        summary=f"{summary} {len(links):,} new people: each is emailed their "
        "set-your-password link, and the file below lists them all.",
        content=content.encode("utf-8"),
        filename="set-password-links.csv",
    )


def _may_apply_again(user: User, params: dict) -> bool:
    """The person who applied the import, still HR or an administrator, while the checked
    rows are kept (a job that stopped midway keeps them; a finished one deletes them)."""
    return (
        is_hr_or_admin(user)
        and params.get("actor_id") == user.id
        and rows_file(params["rows_file"]).exists()
    )


def _audit_download(job: Job, user: User) -> None:
    """Each download of the job's links file is recorded, as the direct download is."""
    record_links_download(user, job=job.id)


APPLY_IMPORT = register(
    JobKind(
        name="apply_import",
        title="An import",
        run=_apply,
        mimetype="text/csv",
        may_request=_may_apply_again,
        on_download=_audit_download,
    )
)
