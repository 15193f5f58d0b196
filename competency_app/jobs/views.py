"""A job's page (progress, then its file) and the file itself."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from competency_app.accounts.permissions import SIGNED_IN, access
from competency_app.common.downloads import send_download
from competency_app.database import unit_of_work
from competency_app.jobs import services
from competency_app.jobs.permissions import asked_for_job, job_by_id

blueprint = Blueprint("jobs", __name__)

REFRESH_SECONDS = 2


@blueprint.get("/jobs")
@access(SIGNED_IN)
def mine():
    return render_template(
        "jobs/mine.html",
        title="Your downloads and imports",
        jobs=services.jobs_of(current_user),
        kinds=services.KINDS,
    )


@blueprint.get("/jobs/<int:job_id>")
@access(asked_for_job)
def progress(job_id: int):
    job = job_by_id(job_id)
    with unit_of_work():  # an expired file is deleted on sight
        available = services.result_bytes(job) is not None if job.result_file else False
    kind = services.kind_of(job)
    return render_template(
        "jobs/progress.html",
        title=kind.title if kind else "Job",
        job=job,
        available=available,
        refresh=None if job.status.finished else REFRESH_SECONDS,
    )


@blueprint.get("/jobs/<int:job_id>/download")
@access(asked_for_job)
def download(job_id: int):
    job = job_by_id(job_id)
    kind = services.kind_of(job)
    with unit_of_work():  # the download's audit event; an expired file is deleted
        content = services.result_bytes(job)
        if content is None or kind is None:
            abort(404)
        if kind.on_download is not None:
            kind.on_download(job, current_user._get_current_object())
    return send_download(content, kind.mimetype, job.result_name or f"job-{job.id}")
