"""Jobs of personal data: a person's copy of their data (a large record takes a while),
and erasing records (past their retention period, confirmed by HR; or on request), each
person and vacancy in its own transaction, so one refusal leaves the others done."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from huey import crontab
from sqlalchemy import select

from competency_app.accounts import scope
from competency_app.accounts.models import Organisation, Role, RoleAssignment, User
from competency_app.accounts.permissions import can_erase_person, can_request_personal_data
from competency_app.accounts.services import record
from competency_app.clock import today
from competency_app.database import unit_of_work
from competency_app.extensions import db
from competency_app.jobs.models import Job
from competency_app.jobs.queue import huey, job_app
from competency_app.jobs.services import (
    JobError,
    JobKind,
    JobResult,
    Progress,
    register,
    writing,
)
from competency_app.notifications.catalogue import RECORDS_PAST_RETENTION
from competency_app.notifications.services import notify_many
from competency_app.privacy import erasure, retention
from competency_app.privacy.export import archive
from competency_app.recruitment.models import Vacancy
from competency_app.recruitment.retention import purge_vacancies

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


# ---- erasing records: past their retention period (confirmed by HR), or on request -------

ERASE_BATCH = 200  # people and vacancies in one confirmation


def _erase_person(person_id: int, actor: User, reason: str, on_request: bool) -> str:
    """What became of the person: "erased" (their pseudonym follows), "expired" or
    "skipped"."""
    person = db.session.get(User, person_id)
    if person is None or not can_erase_person(actor, person):
        return "skipped"
    if on_request:
        try:
            return f"erased:{erasure.erase(person, actor, reason).pseudonym}"
        except erasure.ErasureRefused:
            return "skipped"
    due = retention.due_leavers([person.organisation_id], only=[person.id])
    if not due:
        return "skipped"  # no longer due (back at work, say): nothing goes
    if due[0].whole:
        return f"erased:{erasure.erase(person, actor, reason).pseudonym}"
    erasure.expire(person, actor, [rule.key for rule in due[0].classes], reason)
    return "expired"


def _erase_vacancy(vacancy_id: int, actor: User, reason: str) -> int | None:
    vacancy = db.session.get(Vacancy, vacancy_id)
    if vacancy is None or not scope.acts_for(actor, vacancy.team.organisation_id):
        return None
    due = retention.due_vacancies([vacancy.team.organisation_id], only=[vacancy.id])
    if not due:
        return None
    return purge_vacancies([vacancy], actor, actor.email, reason=reason)


def _erase(params: dict, progress: Progress) -> JobResult:
    people = [int(i) for i in params.get("people", [])]
    vacancies = [int(i) for i in params.get("vacancies", [])]
    reason = str(params.get("reason", ""))
    total = len(people) + len(vacancies)
    outcomes: Counter[str] = Counter()
    pseudonyms: list[str] = []
    candidates = 0
    progress(0, total)
    for done, person_id in enumerate(people, 1):
        with writing():
            actor = _actor(params)
            outcome = _erase_person(person_id, actor, reason, bool(params.get("request")))
        outcome, _, pseudonym = outcome.partition(":")
        outcomes[outcome] += 1
        if pseudonym:
            pseudonyms.append(pseudonym)
        progress(done, total)
    for done, vacancy_id in enumerate(vacancies, len(people) + 1):
        with writing():
            purged = _erase_vacancy(vacancy_id, _actor(params), reason)
        if purged is None:
            outcomes["skipped"] += 1
        else:
            outcomes["vacancies"] += 1
            candidates += purged
        progress(done, total)
    parts = []
    if outcomes["erased"]:
        now = f" (now {', '.join(pseudonyms)})" if len(pseudonyms) <= 5 else ""
        parts.append(f"{outcomes['erased']} {_plural(outcomes['erased'], 'record')} erased{now}")
    if outcomes["expired"]:
        parts.append(
            f"{outcomes['expired']} {_plural(outcomes['expired'], 'leaver')}' shorter-kept "
            "records deleted"
        )
    if outcomes["vacancies"]:
        parts.append(
            f"{candidates} {_plural(candidates, 'candidate')}' data deleted from "
            f"{outcomes['vacancies']} {_plural(outcomes['vacancies'], 'vacancy', 'vacancies')}"
        )
    if outcomes["skipped"]:
        parts.append(f"{outcomes['skipped']} no longer due or no longer yours, left as they were")
    return JobResult(summary=("; ".join(parts) or "Nothing was due") + ".")


def _plural(count: int, one: str, many: str | None = None) -> str:
    return one if count == 1 else (many or f"{one}s")


def _actor(params: dict) -> User:
    actor = db.session.get(User, int(params["by"]))
    if actor is None or not actor.active:
        raise JobError("The person who confirmed the erasure can no longer act for it.")
    return actor


def _may_erase(user: User, params: dict) -> bool:
    if int(params.get("by", 0)) != user.id:
        return False
    people = [db.session.get(User, int(i)) for i in params.get("people", [])]
    vacancies = [db.session.get(Vacancy, int(i)) for i in params.get("vacancies", [])]
    return all(p is not None and can_erase_person(user, p) for p in people) and all(
        v is not None and scope.acts_for(user, v.team.organisation_id) for v in vacancies
    )


ERASURE = register(
    JobKind(
        name="erasure",
        title="Erasing records",
        run=_erase,
        may_request=_may_erase,
    )
)


# ---- the daily listing -------------------------------------------------------------------


def notify_reviewers(on: date) -> int:
    """Tell HR and administrators of each organisation with records past their period (at
    most once a week each, while any are). Returns the notifications written."""
    written = 0
    monday = on - timedelta(days=on.weekday())
    for organisation in db.session.scalars(select(Organisation).order_by(Organisation.id)):
        count = len(retention.due_leavers([organisation.id], on)) + len(
            retention.due_vacancies([organisation.id], on)
        )
        if not count:
            continue
        reviewers = db.session.scalars(
            select(RoleAssignment.user_id)
            .join(User, User.id == RoleAssignment.user_id)
            .where(
                User.organisation_id == organisation.id,
                User.active,
                RoleAssignment.role.in_((Role.HR, Role.ADMIN)),
            )
            .distinct()
        )
        written += notify_many(
            reviewers,
            RECORDS_PAST_RETENTION,
            "retention",
            monday,
            "/privacy/retention",
            count=count,
            organisation=organisation.name,
        )
    return written


@huey.periodic_task(crontab(hour="3", minute="15"))
def daily_retention() -> None:
    with job_app().app_context():
        try:
            with unit_of_work():
                notify_reviewers(today())
        finally:
            db.session.remove()
