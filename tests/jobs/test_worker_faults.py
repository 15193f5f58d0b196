"""Faults with real processes: a `flask worker` on Redis killed (`kill -9`) while it writes
the organisation workbook. The dead job must not be joined: once its lease has run out the
next request, by another HR officer, starts a new job, which a new worker completes; the
dead job shows as failed, with why, and its half-written file is deleted by the clean-up.

The job is slowed by `JOB_STEP_DELAY_SECONDS` (a pause at each progress step, read by the
job itself) so that it can be caught midway; the lease is shortened to 3 seconds.
"""

from __future__ import annotations

import time
from datetime import timedelta

from competency_app.clock import utcnow
from competency_app.extensions import db
from competency_app.jobs.models import JobState
from competency_app.jobs.services import SCRATCH_PREFIX, STALE_AFTER, clean_up
from tests.jobs.test_jobs import ask_for_organisation_workbook, signed_in
from tests.jobs.test_worker_redis import (  # noqa: F401 - the module's skip rule
    forget_workers,
    pytestmark,
    read_job,
    start_worker,
    stop_worker,
    wait_for,
)
from tests.notifications.conftest import smtp_server  # noqa: F401 - a fixture

LEASE_MINUTES = 0.05  # 3 seconds
STEP_DELAY = "1"  # seconds at each progress step: the workbook takes several seconds


def test_a_killed_workers_workbook_is_failed_and_a_new_request_completes_a_new_job(
    app,
    organisation,
    smtp_server,  # noqa: F811
    tmp_path,
):
    lease = LEASE_MINUTES * 60
    settings = {"JOB_LEASE_MINUTES": str(LEASE_MINUTES), "JOB_STEP_DELAY_SECONDS": STEP_DELAY}
    port = smtp_server[1]
    saved_lease = app.config["JOB_LEASE_MINUTES"]
    app.config["JOB_LEASE_MINUTES"] = LEASE_MINUTES  # the web side judges the lease
    first = start_worker(app, tmp_path, port, "first", **settings)
    second = None
    try:
        hana = signed_in(app, "hana.hr")
        dead = ask_for_organisation_workbook(hana)
        midway = wait_for(lambda: (job := read_job(app, dead)).done > 0 and job, seconds=60)
        assert midway.status is JobState.RUNNING
        first.kill()  # kill -9, mid-workbook
        first.wait(timeout=10)
        killed_at = time.monotonic()
        at_kill = read_job(app, dead)
        second = start_worker(app, tmp_path, port, "second", **settings)  # a deploy's new worker

        # Until the lease runs out the job may still be alive; after it, another HR
        # officer's request must start a new job, not join the dead one.
        time.sleep(max(0.0, lease + 0.5 - (time.monotonic() - killed_at)))
        hal = signed_in(app, "hal.hr")
        fresh = ask_for_organisation_workbook(hal)
        detected = time.monotonic() - killed_at
        assert fresh != dead
        failed = read_job(app, dead)
        assert failed.status is JobState.FAILED and failed.active_key is None
        assert "no progress since" in (failed.error or "")
        page = hana.get(f"/jobs/{dead}").get_data(as_text=True)
        assert "no progress since" in page and 'data-testid="job-try-again"' in page

        done = wait_for(lambda: (job := read_job(app, fresh)).status.finished and job, 60)
        completed = time.monotonic() - killed_at
        assert done.status is JobState.DONE, done.error
        assert hal.get(f"/jobs/{fresh}/download").status_code == 200
        # the dead worker's half-written file stays until it is older than any job may
        # run, then the clean-up deletes it; the finished job's file is kept
        jobs_dir = tmp_path / "jobs"
        scraps = list(jobs_dir.glob(f"{SCRATCH_PREFIX}*"))
        assert len(scraps) == 1, scraps
        with app.app_context():
            assert clean_up() == (0, 0)
            assert scraps[0].exists()
            assert clean_up(utcnow() + STALE_AFTER + timedelta(minutes=1))[0] == 1
            db.session.rollback()
        assert not scraps[0].exists()
        assert len(list(jobs_dir.glob("job-*"))) == 1
        print(
            f"killed at {at_kill.done}/{at_kill.total} records; dead job failed by the next "
            f"request {detected:.1f} s after the kill (lease {lease:.0f} s); new job "
            f"{done.done}/{done.total} done {completed:.1f} s after the kill"
        )
        # the new job ran in the new worker with steps of 1 s: lease + its run + margin
        assert completed < lease + done.total * float(STEP_DELAY) + 30
    finally:
        app.config["JOB_LEASE_MINUTES"] = saved_lease
        for process in (first, second):
            if process is not None:
                stop_worker(process)
        forget_workers(app, tmp_path)


def test_a_workbook_asked_for_while_redis_is_down_fails_with_why_and_leaves_no_file(
    app, organisation, tmp_path
):
    """The queue's Redis stopped: the request still answers, the job fails at once saying
    why (it never ran, so it never made a file to write into) and frees its key."""
    from competency_app.jobs.models import Job
    from tests.conftest import sign_in
    from tests.factories import PASSWORD
    from tests.operations.faults import RedisServer
    from tests.operations.test_dependency_faults import separate_app

    server = RedisServer(tmp_path)
    server.start()
    jobs_dir = tmp_path / "jobs"
    try:
        with separate_app(app, JOBS_REDIS_URL=server.url, JOBS_DIR=str(jobs_dir)) as queued:
            server.stop()
            hana = queued.test_client()
            sign_in(hana, "hana.hr@example.nhs.uk", PASSWORD)
            job_id = ask_for_organisation_workbook(hana)
            page = hana.get(f"/jobs/{job_id}").get_data(as_text=True)
            assert "The job queue is not available: try again later." in page
            with queued.app_context():
                job = db.session.get_one(Job, job_id)
                assert job.status is JobState.FAILED and job.active_key is None
                assert job.result_file is None
            assert list(jobs_dir.glob("*")) == [] if jobs_dir.exists() else True
    finally:
        server.stop()
