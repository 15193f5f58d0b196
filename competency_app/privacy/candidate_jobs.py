"""A candidate's copy of their data, prepared as a job; asking for it and downloading it are
audited as every event about a candidate is (by reference and id, never the name)."""

from __future__ import annotations

from competency_app.accounts.models import User
from competency_app.accounts.services import record
from competency_app.extensions import db
from competency_app.jobs.models import Job
from competency_app.jobs.services import JobError, JobKind, JobResult, Progress, register
from competency_app.privacy import candidates
from competency_app.recruitment.models import Candidate, Vacancy
from competency_app.recruitment.permissions import can_request_candidate_data

ZIP = "application/zip"


def params_of(candidate: Candidate) -> dict:
    return {
        "vacancy": candidate.vacancy_id,
        "candidate": candidate.id,
        "reference": candidate.reference,
    }


def audit(action: str, actor: User, params: dict, **detail) -> None:
    """An event about the candidate named by the job's `params`, in the log of the
    organisation hosting the vacancy (the candidate's row may be gone since: purged)."""
    vacancy = db.session.get(Vacancy, int(params["vacancy"]))
    record(
        action,
        actor,
        target=f"candidate:{params['reference']}",
        organisation_id=vacancy.team.organisation_id if vacancy is not None else None,
        vacancy=int(params["vacancy"]),
        candidate=int(params["candidate"]),
        **detail,
    )


def _held(params: dict) -> Candidate | None:
    """The application the job names, while the product still holds it."""
    candidate = db.session.get(Candidate, int(params.get("candidate", 0)))
    if candidate is None or candidate.vacancy_id != int(params.get("vacancy", 0)):
        return None
    if candidates.refusal(candidate.vacancy) is not None:
        return None
    return candidate


def _run(params: dict, progress: Progress) -> JobResult:
    candidate = _held(params)
    if candidate is None:
        raise JobError(
            "This candidate's data is no longer held: it was purged after the retention period."
        )
    progress(0, 1)
    content, rows = candidates.archive(candidate.id)
    progress(1, 1)
    # The job's record outlives a purge of the candidate's data: it names them by
    # reference only.
    return JobResult(
        summary=f"The copy of candidate {candidate.reference}'s data: {rows:,} records.",
        content=content,
        filename=f"candidate-data-{candidate.reference}.zip",
    )


def _may_request(user: User, params: dict) -> bool:
    candidate = _held(params)
    return candidate is not None and can_request_candidate_data(user, candidate.vacancy)


def _audit_download(job: Job, user: User) -> None:
    audit("candidate_data_downloaded", user, job.params, job=job.id)


CANDIDATE_DATA = register(
    JobKind(
        name="candidate_data",
        title="A copy of a candidate's data",
        run=_run,
        mimetype=ZIP,
        on_download=_audit_download,
        may_request=_may_request,
    )
)
