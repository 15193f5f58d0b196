"""A large import applied as a job: the rows checked at the preview are checked again, then
applied all or nothing; the new people's set-your-password links are the job's file (for
the person who applied it, until it expires) and are emailed to each of them."""

from __future__ import annotations

from pathlib import Path

from competency_app.accounts.models import User
from competency_app.accounts.password_links import (
    link_url,
    links_csv_text,
    record_links_download,
)
from competency_app.exports import imports
from competency_app.exports.forms import KIND_LABELS
from competency_app.extensions import db
from competency_app.jobs.models import Job
from competency_app.jobs.services import (
    JobError,
    JobKind,
    JobResult,
    Progress,
    jobs_dir,
    register,
    writing,
)


def rows_file(name: str) -> Path:
    return jobs_dir() / name


def _apply(params: dict, progress: Progress) -> JobResult:
    path = rows_file(params["rows_file"])
    if not path.exists():
        raise JobError("The checked rows have expired: upload the file again.")
    try:
        kind = params["kind"]
        actor = db.session.get(User, params["actor_id"])
        if actor is None or not actor.active:
            raise JobError("The person who asked for this import can no longer apply it.")
        rows = imports.rows_from_json(path.read_text(encoding="utf-8"))
        total = len(rows)
        progress(0, 2 * total)
        preview = imports.check_rows(kind, rows, actor)  # check again, now
        if preview.errors:
            raise JobError("The data changed since the preview: upload the file again.")
        progress(total, 2 * total)
        with writing():  # all or nothing, in one transaction
            actor = db.session.get_one(User, params["actor_id"])
            preview = imports.check_rows(kind, rows, actor)
            if preview.errors:
                raise JobError("The data changed since the preview: upload the file again.")
            links = []
            if kind == "roster":
                links = imports.apply_roster(preview, actor).links
            else:
                imports.apply_completions(preview, actor)
        progress(2 * total, 2 * total)
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


def _audit_download(job: Job, user: User) -> None:
    """Each download of the job's links file is recorded, as the direct download is."""
    record_links_download(user, job=job.id)


APPLY_IMPORT = register(
    JobKind(
        name="apply_import",
        title="An import",
        run=_apply,
        mimetype="text/csv",
        on_download=_audit_download,
    )
)
