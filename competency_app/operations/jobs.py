"""Daily work in the worker (with Redis): reminders are recorded and sent, as `flask
send-reminders` does from cron; safe to run twice or on two hosts at once. Records past
their retention period are listed for HR each day by `privacy.jobs.daily_retention` (HR
confirms each erasure); `purge_candidates` stays as a job an operator can run."""

from __future__ import annotations

from huey import crontab

from competency_app.database import unit_of_work
from competency_app.extensions import db
from competency_app.jobs.queue import huey, job_app
from competency_app.jobs.services import JobKind, JobResult, Progress, register, writing
from competency_app.notifications.reminders import record_due_reminders
from competency_app.notifications.services import queue_delivery, retry_failed
from competency_app.recruitment.retention import candidate_months, purge_candidates
from competency_app.reminders.cli import london_today


def _purge(params: dict, progress: Progress) -> JobResult:
    months = int(params.get("months") or candidate_months())
    progress(0, 1)
    with writing():
        vacancies, candidates = purge_candidates(months, actor_label="worker")
    progress(1, 1)
    return JobResult(summary=f"{candidates} candidates' data purged from {vacancies} vacancies.")


PURGE = register(JobKind(name="purge_candidates", title="Purge candidates' data", run=_purge))


@huey.periodic_task(crontab(hour="7", minute="0"))
def daily_reminders() -> None:
    with job_app().app_context():
        try:
            with unit_of_work():
                record_due_reminders(london_today())
                retry_failed()
        finally:
            db.session.remove()
    queue_delivery()  # always: what earlier runs left waiting goes too
