"""A job's page (progress, then its file) and the file itself."""

from __future__ import annotations

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from competency_app.accounts.permissions import SIGNED_IN, access
from competency_app.common.downloads import send_download
from competency_app.database import unit_of_work
from competency_app.jobs import services
from competency_app.jobs.permissions import asked_for_job, can_try_job_again, job_by_id

blueprint = Blueprint("jobs", __name__)

REFRESH_SECONDS = 3


def start_and_follow(kind: str, params: dict, unit: str, on_request=None):
    """Ask for a job for the signed-in person (or join the identical one already queued)
    and send them to its page; `on_request(job)` runs in the same transaction (an audit
    event of the request)."""
    with unit_of_work():
        job, created = services.request_job(
            kind, params, current_user._get_current_object(), unit=unit
        )
        if on_request is not None:
            on_request(job)
        job_id = job.id
    if created:
        services.enqueue(job_id)
    return redirect(url_for("jobs.progress", job_id=job_id), code=303)


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
    if services.is_stalled(job):
        # Its worker is gone: fail it now, in a transaction that writes from the start.
        with services.writing():
            services.fail_stalled(job.id)
        job = job_by_id(job_id)
    with unit_of_work():  # an expired file is deleted on sight
        available = services.result_available(job)
    kind = services.kind_of(job)
    user = current_user._get_current_object()
    # Until the job ends the page reloads itself (the HTTP Refresh header: no JavaScript
    # needed); the person can stop that (WCAG 2.2.1) and refresh by hand instead.
    refresh = not job.status.finished and request.args.get("refresh") != "off"
    response = make_response(
        render_template(
            "jobs/progress.html",
            title=kind.title if kind else "Job",
            job=job,
            available=available,
            refresh=refresh,
            seconds=REFRESH_SECONDS,
            may_try_again=services.may_try_again(user, job),
        )
    )
    if refresh:
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


@blueprint.get("/jobs/<int:job_id>/download")
@access(asked_for_job)
def download(job_id: int):
    job = job_by_id(job_id)
    kind = services.kind_of(job)
    # The download's audit event (and an expired file deleted): a GET that writes, so its
    # transaction writes from the start (SQLite: a read upgraded to a write fails when a
    # worker committed in between).
    with services.writing():
        content = services.result_bytes(job)
        if content is None or kind is None:
            abort(404)
        if kind.on_download is not None:
            kind.on_download(job, current_user._get_current_object())
    return send_download(content, kind.mimetype, job.result_name or f"job-{job.id}")


@blueprint.post("/jobs/<int:job_id>/try-again")
@access(can_try_job_again)
def try_again(job_id: int):
    """A fresh job of the failed one's kind and parameters (or the identical one running)."""
    with unit_of_work():
        job, created = services.try_again(job_by_id(job_id), current_user._get_current_object())
        new_id = job.id
    if created:
        services.enqueue(new_id)
    return redirect(url_for("jobs.progress", job_id=new_id), code=303)
