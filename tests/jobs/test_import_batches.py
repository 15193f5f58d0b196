"""Large imports write in batches, each its own short transaction: on SQLite a sign-in
gets through while a 20,000-row roster job writes (one long transaction made it wait
10.9 s, then answer 503). The batches put supervisors before the people they supervise,
and applying the same file again changes nothing."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import func, select

from competency_app.accounts.models import AuditEvent, SupervisionLink, User
from competency_app.accounts.services import user_by_email
from competency_app.clock import utcnow
from competency_app.database import unit_of_work
from competency_app.exports import import_jobs, imports
from competency_app.extensions import db
from competency_app.jobs import services as jobs
from competency_app.jobs.models import JobState
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD
from tests.jobs.test_worker_redis import (  # noqa: F401 - the module's skip rule and fixture
    apply_roster_as_job,
    pytestmark,
    read_job,
    signed_in,
    wait_for,
    worker,
)
from tests.notifications.conftest import smtp_server  # noqa: F401 - the worker's fixture

ROWS = 20_000
PEOPLE = [f"kw{n}.{team}" for team in ("north", "south") for n in range(3)]
PEOPLE += ["sue.north", "sue.south", "hal.hr"]


def test_sign_in_gets_through_while_a_large_import_writes(
    app,
    organisation,
    worker,  # noqa: F811 - the fixture imported above
):
    hana = signed_in(app, "hana.hr")
    job_id = apply_roster_as_job(hana, ROWS)
    wait_for(lambda: read_job(app, job_id).done >= ROWS, seconds=120)  # checked: writing
    waits, answers = [], []
    for local in PEOPLE:
        job = read_job(app, job_id)
        if job.status.finished:
            break
        client = app.test_client()
        started = time.monotonic()
        response = sign_in(client, f"{local}@example.nhs.uk", PASSWORD)
        waits.append(time.monotonic() - started)
        answers.append(response.status_code)
    job = wait_for(lambda: (job := read_job(app, job_id)).status.finished and job, 300)
    print(
        f"{len(waits)} sign-ins while {ROWS:,} rows were written: longest "
        f"{max(waits, default=0):.2f} s, answers {answers}"
    )
    assert job.status is JobState.DONE, job.error
    assert waits, "the import finished before any sign-in was tried"
    assert all(code == 303 for code in answers), answers  # signed in, never the 503 page
    assert max(waits) < 3


def roster(*rows: tuple[str, str, str, str]) -> list[dict]:
    return [
        {"_row": n, "name": name, "email": email, "role": role, "team": "north",
         "supervisor": supervisor, "leaving_date": ""}
        for n, (name, email, role, supervisor) in enumerate(rows, start=2)
    ]  # fmt: skip


def test_batches_put_supervisors_first_and_a_second_run_changes_nothing(app, organisation):
    rows = roster(
        ("Kay Keyworker", "kay@example.nhs.uk", "practitioner", "sam@example.nhs.uk"),
        ("Sam Supervisor", "sam@example.nhs.uk", "supervisor", "lee@example.nhs.uk"),
        ("Lee Lead", "lee@example.nhs.uk", "supervisor", ""),
        ("Ann Loop", "ann@example.nhs.uk", "supervisor", "bob@example.nhs.uk"),
        ("Bob Loop", "bob@example.nhs.uk", "supervisor", "ann@example.nhs.uk"),
    )
    batches = imports.apply_batches("roster", rows, 1)
    order = [[row["email"].split("@")[0] for row in batch] for batch in batches]
    assert order == [["lee"], ["sam"], ["kay"], ["ann", "bob"]]  # a loop: last, together

    def apply_all() -> None:
        with app.app_context():
            for batch in batches:
                with unit_of_work():
                    preview = imports.check_rows("roster", batch)
                    assert preview.errors == [], preview.errors
                    imports.apply_roster(preview, None)

    def state() -> tuple:
        with app.app_context():
            return (
                db.session.scalar(select(func.count()).select_from(User)),
                db.session.scalar(select(func.count()).select_from(SupervisionLink)),
                sorted(db.session.scalars(select(User.session_version))),
            )

    apply_all()
    first = state()
    with app.app_context():
        created = db.session.scalar(select(func.count()).where(AuditEvent.action == "user_created"))
    apply_all()  # as "try again" after a worker died midway: every row already applied
    assert state() == first
    with app.app_context():
        assert created == db.session.scalar(
            select(func.count()).where(AuditEvent.action == "user_created")
        )


def test_an_import_stopped_midway_is_applied_again_by_try_again(app, organisation, jobs_dir):
    """A worker died after the first batch: the job fails when its lease runs out, and
    "Try again" applies the kept rows again: the first batch changes nothing, the rest are
    applied, and the links file lists the people that run created."""
    rows = roster(
        *[(f"New Person {n}", f"new{n}@example.nhs.uk", "practitioner", "") for n in range(5)]
    )
    with app.app_context():
        hana = user_by_email("hana.hr@example.nhs.uk")
        assert hana is not None
        name = "import-stopped.json"
        import_jobs.rows_file(name).write_text(imports.rows_to_json(rows), encoding="utf-8")
        with unit_of_work():  # what the dead worker wrote: its first batch
            imports.apply_roster(imports.check_rows("roster", rows[:2], hana), hana)
            params = {"kind": "roster", "rows_file": name, "actor_id": hana.id}
            job, _ = jobs.request_job(import_jobs.APPLY_IMPORT.name, params, hana, "rows")
            silent = utcnow() - timedelta(minutes=10)
            job.state, job.started_at, job.heartbeat_at = "running", silent, silent
            job.done, job.total, dead = 7, 10, job.id
    client = signed_in(app, "hana.hr")
    page = client.get(f"/jobs/{dead}").get_data(as_text=True)
    assert "no progress since" in page and "job-try-again" in page
    response = client.post(f"/jobs/{dead}/try-again", data={"csrf_token": csrf_from(page)})
    fresh = int(response.headers["Location"].rsplit("/", 1)[1])
    job = read_job(app, fresh)
    assert job.status is JobState.DONE, job.error
    links = client.get(f"/jobs/{fresh}/download").get_data(as_text=True)
    assert links.count("/set-password/") == 3  # the people this run created
    with app.app_context():
        emails = set(db.session.scalars(select(User.email).where(User.email.like("new%"))))
        assert emails == {f"new{n}@example.nhs.uk" for n in range(5)}
        # the rows are deleted once applied: nothing left to try again with
        assert not import_jobs.rows_file(name).exists()
    page = client.get(f"/jobs/{dead}").get_data(as_text=True)
    assert "job-try-again" not in page
