"""Upload → preview with per-row errors → apply all or nothing."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    session,
)
from flask_login import current_user
from flask_wtf import FlaskForm

from competency_app.accounts.permissions import access, is_hr_or_admin
from competency_app.exports import imports
from competency_app.exports.views import XLSX
from competency_app.extensions import db
from competency_app.ui.forms import require_form

blueprint = Blueprint("imports", __name__, url_prefix="/admin/imports")
KIND_LABELS = {"roster": "Staff roster", "completions": "E-learning completions"}


def _pending_dir() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


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
    require_form()
    kind = request.form.get("kind", "")
    if kind not in KIND_LABELS:
        return _page({"kind": "Choose what the file holds"}, "roster", 400)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page({"file": "Choose a file to upload"}, kind, 400)
    raw = upload.read()
    try:
        result = imports.preview_file(kind, raw, upload.filename)
    except imports.ImportFileError as error:
        return _page({"file": f"{upload.filename}: {error}"}, kind, 400)
    token = None
    if not result.errors:
        # Keep the checked file on the server until it is applied (never in the cookie).
        token = secrets.token_urlsafe(16)
        suffix = Path(upload.filename).suffix.lower()
        (_pending_dir() / f"{token}{suffix}").write_bytes(raw)
        session["pending_import"] = {
            "token": token,
            "kind": kind,
            "suffix": suffix,
            "filename": upload.filename,
        }
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
    require_form()
    pending = session.get("pending_import")
    if not pending or pending["token"] != request.form.get("token"):
        abort(409, "That import has already been applied or has expired: upload the file again.")
    path = _pending_dir() / f"{pending['token']}{pending['suffix']}"
    if not path.exists():
        abort(409, "That import has expired: upload the file again.")
    raw = path.read_bytes()
    kind = pending["kind"]
    result = imports.preview_file(kind, raw, pending["filename"])  # check again, now
    if result.errors:
        abort(409, "The data changed since the preview: upload the file again.")
    actor = current_user._get_current_object()
    created = []
    try:
        if kind == "roster":
            created = imports.apply_roster(result, actor)
        else:
            imports.apply_completions(result, actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        path.unlink(missing_ok=True)
        session.pop("pending_import", None)
    return render_template(
        "exports/import_done.html",
        title="Import applied",
        rows=len(result.rows),
        kind=KIND_LABELS[kind],
        created=created,
    )


@blueprint.get("/roster.xlsx")
@access(is_hr_or_admin)
def roster():
    response = Response(imports.roster_workbook(), mimetype=XLSX)
    response.headers["Content-Disposition"] = 'attachment; filename="staff-roster.xlsx"'
    return response
