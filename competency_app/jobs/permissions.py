"""Who may see a job: only the people who asked for it."""

from __future__ import annotations

from competency_app.accounts.models import User
from competency_app.common.loaders import get_or_404
from competency_app.jobs.models import Job
from competency_app.jobs.services import is_requester, may_try_again


def job_by_id(job_id: int) -> Job:
    return get_or_404(Job, job_id)


def asked_for_job(user: User, job_id: int, **_kwargs) -> bool:
    """The rule of a job's page and file: one of the people who asked for it."""
    return is_requester(user, job_by_id(job_id))


def can_try_job_again(user: User, job_id: int, **_kwargs) -> bool:
    """The rule of "try again": a failed job's requester who may still ask for its kind."""
    return may_try_again(user, job_by_id(job_id))
