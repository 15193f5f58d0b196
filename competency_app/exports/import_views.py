"""Upload → preview with per-row errors → apply all or nothing.

A file of more than IMPORT_JOB_ROWS rows is applied as a job (exports/import_jobs.py):
its page shows the progress, then the new people's links; a smaller one in the request.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
import time
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm

from competency_app.accounts.password_links import (
    link_url,
    links_csv_text,
    record_links_download,
)
from competency_app.accounts.permissions import access, is_hr_or_admin
from competency_app.common.downloads import send_download, send_xlsx
from competency_app.database import unit_of_work
from competency_app.exports import import_jobs, imports
from competency_app.exports.forms import KIND_LABELS, ApplyForm, UploadForm
from competency_app.jobs import services as jobs

blueprint = Blueprint("imports", __name__, url_prefix="/admin/imports")
# Up to this many new people's links are shown on the page; all are in the CSV download.
LINKS_ON_PAGE = 50
# Rows kept between preview and apply, and an undownloaded links file, are removed after
# this long (the links themselves stay valid until they expire).
PENDING_SECONDS = 3600


def _pending_dir() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, mode=0o700, exist_ok=True)
    return path


def _sweep() -> None:
    """Remove pending rows and undownloaded links left for longer than an hour."""
    for old in _pending_dir().iterdir():
        try:
            if time.time() - old.stat().st_mtime > PENDING_SECONDS:
                old.unlink(missing_ok=True)
        except OSError:  # another worker removed it first
            continue


def _page(errors=None, kind="roster", status=200):
    return (
        render_template(
            "exports/import_upload.html",
            title="Import from a spreadsheet",
            errors=errors or {},
            kind=kind,
            kinds=KIND_LABELS,
            form=FlaskForm(),
        ),
        status,
    )


@blueprint.get("")
@access(is_hr_or_admin)
def upload():
    return _page()


@blueprint.post("/preview")
@access(is_hr_or_admin)
def preview():
    form = UploadForm()
    if not form.validate():
        kind = form.kind.data if form.kind.data in KIND_LABELS else "roster"
        return _page(form.error_dict(), kind, 400)
    kind, upload = form.kind.data, form.file.data
    # Read at most one byte past the limit: the reader refuses anything larger.
    raw = upload.read(int(current_app.config["IMPORT_MAX_FILE_BYTES"]) + 1)
    try:
        result = imports.preview_file(
            kind, raw, upload.filename, current_user._get_current_object()
        )
    except imports.ImportFileError as error:
        return _page({"file": f"{upload.filename}: {error}"}, kind, 400)
    token = None
    _sweep()
    if not result.errors:
        # Keep the checked file on the server until it is applied (never in the cookie).
        token = secrets.token_urlsafe(16)
        # The rows as read (not the file): the apply checks them again without re-reading.
        _write_private(_pending_dir() / f"{token}.json", imports.rows_to_json(result.rows))
        session["pending_import"] = {"token": token, "kind": kind, "filename": upload.filename}
    return (
        render_template(
            "exports/import_preview.html",
            title="Check the import",
            preview=result,
            kind=kind,
            kinds=KIND_LABELS,
            filename=upload.filename,
            token=token,
            form=FlaskForm(),
        ),
        400 if result.errors else 200,
    )


@blueprint.post("/apply")
@access(is_hr_or_admin)
def apply():
    pending = session.get("pending_import")
    if not pending or pending["token"] != ApplyForm().token.data:
        abort(409, "That import has already been applied or has expired: upload the file again.")
    path = _pending_dir() / f"{pending['token']}.json"
    if not path.exists():
        abort(409, "That import has expired: upload the file again.")
    kind = pending["kind"]
    actor = current_user._get_current_object()
    rows = imports.rows_from_json(path.read_text(encoding="utf-8"))
    if len(rows) > int(current_app.config["IMPORT_JOB_ROWS"]):
        return _apply_as_job(path, kind, actor)
    result = imports.check_rows(kind, rows, actor)  # check again, now
    if result.errors:
        path.unlink(missing_ok=True)
        session.pop("pending_import", None)
        abort(409, "The data changed since the preview: upload the file again.")
    links = []
    try:
        with unit_of_work():
            if kind == "roster":
                links = imports.apply_roster(result, actor).links
            else:
                imports.apply_completions(result, actor)
    finally:
        path.unlink(missing_ok=True)
        session.pop("pending_import", None)
    links = [(name, email, link_url(token)) for name, email, token in links]
    if links:
        _keep_links_for_download(links)
    return render_template(
        "exports/import_done.html",
        title="Import applied",
        rows=len(result.rows),
        kind=KIND_LABELS[kind],
        links=links,
        links_on_page=LINKS_ON_PAGE,
        form=FlaskForm(),
    )


def _apply_as_job(path: Path, kind: str, actor):
    """Hand the checked rows to a job (its file kept where the worker reads it)."""
    name = f"import-{secrets.token_urlsafe(16)}.json"
    _write_private(import_jobs.rows_file(name), path.read_text(encoding="utf-8"))
    path.unlink(missing_ok=True)
    session.pop("pending_import", None)
    with unit_of_work():
        job, _ = jobs.request_job(
            import_jobs.APPLY_IMPORT.name,
            {"kind": kind, "rows_file": name, "actor_id": actor.id},
            actor,
            unit="rows",
        )
        job_id = job.id
    jobs.enqueue(job_id)
    return redirect(url_for("jobs.progress", job_id=job_id), code=303)


def _keep_links_for_download(links: list[tuple[str, str, str]]) -> None:
    """Write the links to a private file, downloadable once by this session."""
    name = f"{secrets.token_urlsafe(16)}-links.csv"
    _write_private(_pending_dir() / name, links_csv_text(links))
    session["import_links"] = name


def _write_private(path: Path, text: str) -> None:
    """Personal data at rest: readable by the service's own user only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as file:
        file.write(text)


@blueprint.post("/links.csv")
@access(is_hr_or_admin)
def links_csv():
    """The new people's set-your-password links, once: the file is deleted as it is sent."""
    name = session.pop("import_links", None)
    path = _pending_dir() / name if name else None
    if path is None or not path.exists():
        abort(409, "Those links have already been downloaded or have expired.")
    content = path.read_bytes()
    with unit_of_work():
        rows = len(list(csv.reader(io.StringIO(content.decode("utf-8"))))) - 1
        record_links_download(current_user._get_current_object(), links=rows)
    path.unlink(missing_ok=True)
    return send_download(content, "text/csv", "set-password-links.csv")


@blueprint.get("/roster.xlsx")
@access(is_hr_or_admin)
def roster():
    return send_xlsx(
        imports.roster_workbook(current_user._get_current_object()), "staff-roster.xlsx"
    )
