"""The lease: a running job must show progress. One whose worker died (its heartbeat older
than the lease) is failed with the time of its last progress and gives up its key, so the
next request starts a fresh job instead of joining the dead one; its page says why and
offers to try again."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from competency_app.accounts.models import Role, User
from competency_app.accounts.services import user_by_email
from competency_app.clock import utcnow
from competency_app.database import unit_of_work
from competency_app.extensions import db
from competency_app.jobs import services as jobs
from competency_app.jobs.models import Job, JobRequester, JobState
from competency_app.jobs.services import JobStopped
from tests.conftest import csrf_from
from tests.factories import commit, make_user
from tests.jobs.test_jobs import ask_for_organisation_workbook, signed_in

ORGANISATION = "organisation_workbook"


def _params(person) -> dict:
    """The organisation workbook's request names the organisation asked for."""
    return {"organisation": person.organisation_id}


HANA = "hana.hr@example.nhs.uk"


def dead_job(app, minutes_silent: float = 10) -> int:
    """The organisation workbook as a killed worker leaves it: running 523/1050, holding
    its key, its last progress `minutes_silent` ago, asked for by hana.hr."""
    with app.app_context():
        silent_since = utcnow() - timedelta(minutes=minutes_silent)
        with unit_of_work():
            job, created = jobs.request_job(
                ORGANISATION, _params(hana := user_by_email(HANA)), hana, "records"
            )
            assert created
            job.state, job.done, job.total = JobState.RUNNING.value, 523, 1050
            job.started_at = job.heartbeat_at = silent_since
        return job.id


def state_of(app, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get_one(Job, job_id)
        db.session.expunge(job)
        return job


def test_a_dead_workers_job_is_failed_and_the_next_request_starts_afresh(
    app, organisation, jobs_dir
):
    dead = dead_job(app)
    hal = signed_in(app, "hal.hr")
    fresh = ask_for_organisation_workbook(hal)
    assert fresh != dead  # today: the dead job is joined, and refreshes for ever
    assert state_of(app, fresh).status is JobState.DONE
    old = state_of(app, dead)
    assert old.status is JobState.FAILED and old.active_key is None
    assert old.error.startswith("The worker doing this stopped: no progress since ")
    page = hal.get(f"/jobs/{fresh}").get_data(as_text=True)
    assert "Ready" in page


def test_a_job_within_its_lease_is_still_joined(app, organisation, jobs_dir):
    alive = dead_job(app, minutes_silent=1)  # the lease is 5 minutes
    assert ask_for_organisation_workbook(signed_in(app, "hal.hr")) == alive
    assert state_of(app, alive).status is JobState.RUNNING


def test_the_page_of_a_dead_job_says_why_and_tries_again(app, organisation, jobs_dir):
    dead = dead_job(app)
    hana = signed_in(app, "hana.hr")
    page = hana.get(f"/jobs/{dead}").get_data(as_text=True)  # the poll notices
    assert "Failed" in page and "no progress since" in page
    assert "Refresh" not in hana.get(f"/jobs/{dead}").headers
    assert 'data-testid="job-try-again"' in page
    response = hana.post(f"/jobs/{dead}/try-again", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    fresh = int(response.headers["Location"].rsplit("/", 1)[1])
    assert fresh != dead and state_of(app, fresh).status is JobState.DONE
    assert "Ready" in hana.get(f"/jobs/{fresh}").get_data(as_text=True)
    # without the token the button does nothing
    assert hana.post(f"/jobs/{dead}/try-again").status_code == 400


def test_try_again_is_refused_to_who_may_no_longer_ask(app, organisation, jobs_dir):
    dead = dead_job(app)
    with app.app_context(), unit_of_work():
        jobs.fail_stalled(dead)
        kim = user_by_email("kw0.north@example.nhs.uk")  # a keyworker, not HR
        assert kim is not None
        db.session.add(JobRequester(job_id=dead, user_id=kim.id, requested_at=utcnow()))
    kim_client = signed_in(app, "kw0.north")
    page = kim_client.get(f"/jobs/{dead}").get_data(as_text=True)
    assert "no progress since" in page and "job-try-again" not in page
    token = csrf_from(page)
    assert kim_client.post(f"/jobs/{dead}/try-again", data={"csrf_token": token}).status_code == 403


def test_clean_jobs_fails_jobs_past_their_lease(app, organisation, runner):
    dead, alive = dead_job(app), None
    with app.app_context(), unit_of_work():
        job, _ = jobs.request_job(ORGANISATION, {"other": 1}, None)
        job.state, job.started_at = JobState.RUNNING.value, utcnow()
        job.heartbeat_at = utcnow()
        alive = job.id
    result = runner.invoke(args=["clean-jobs"])
    assert "1 stuck jobs marked as failed" in result.output, result.output
    assert state_of(app, dead).status is JobState.FAILED
    assert state_of(app, alive).status is JobState.RUNNING


def test_a_job_failed_by_its_lease_stays_failed_when_its_worker_wakes(app, organisation):
    """A worker that was only slow: its next progress stops the job, and its result does
    not overwrite the failure (the next request may already run a fresh job)."""
    dead = dead_job(app)
    with app.app_context():
        with unit_of_work():
            assert jobs.fail_stalled() == 1
        reporter = jobs._Reporter(dead)
        with pytest.raises(JobStopped):
            reporter(600, 1050)
        assert not jobs._finish(dead, JobState.DONE, summary="late")
        assert db.session.get_one(Job, dead).status is JobState.FAILED


def test_two_requests_at_once_for_a_dead_job_start_one_job(app, organisation):
    """Both see the dead job; one conditional UPDATE fails it, one insert takes the key."""
    dead = dead_job(app)
    with app.app_context():
        people = [make_user(f"hr{n}.hr", Role.HR) for n in range(2)]
        commit()
        ids = [person.id for person in people]
    barrier, got, errors = threading.Barrier(2), [], []

    def ask(user_id: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                with unit_of_work():
                    job, created = jobs.request_job(
                        ORGANISATION,
                        _params(person := db.session.get_one(User, user_id)),
                        person,
                        "records",
                    )
                    got.append((job.id, created))
                db.session.remove()
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=ask, args=(user_id,)) for user_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len({job_id for job_id, _ in got}) == 1 and sum(c for _, c in got) == 1, got
    with app.app_context():
        active = db.session.scalars(select(Job).where(Job.active_key.is_not(None))).all()
        assert [job.id for job in active] == [got[0][0]] and got[0][0] != dead
