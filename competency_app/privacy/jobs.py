"""A person's copy of their data, prepared as a job (a large record takes a while)."""

from __future__ import annotations

from competency_app.accounts.models import User
from competency_app.accounts.permissions import can_request_personal_data
from competency_app.accounts.services import record
from competency_app.extensions import db
from competency_app.jobs.models import Job
from competency_app.jobs.services import JobError, JobKind, JobResult, Progress, register
from competency_app.privacy.export import archive

ZIP = "application/zip"


def _run(params: dict, progress: Progress) -> JobResult:
    person = db.session.get(User, int(params["person"]))
    if person is None:
        raise JobError("This person's record is no longer held.")
    progress(0, 1)
    content, rows = archive(person.id)
    progress(1, 1)
    stamp = person.email.split("@", 1)[0].replace(".", "-")
    return JobResult(
        summary=f"The copy of {person.name}'s data: {rows:,} records.",
        content=content,
        filename=f"personal-data-{stamp}.zip",
    )


def _may_request(user: User, params: dict) -> bool:
    person = db.session.get(User, int(params.get("person", 0)))
    return person is not None and can_request_personal_data(user, person)


def _audit_download(job: Job, user: User) -> None:
    person = db.session.get(User, int(job.params["person"]))
    record(
        "personal_data_downloaded",
        user,
        target=person.email if person is not None else None,
        organisation_id=person.organisation_id if person is not None else None,
        job=job.id,
    )


PERSONAL_DATA = register(
    JobKind(
        name="personal_data",
        title="A copy of a person's data",
        run=_run,
        mimetype=ZIP,
        on_download=_audit_download,
        may_request=_may_request,
    )
)
