"""Jobs through Redis and a real worker process (`flask worker`), as in production.

Skipped when Redis is not running on 127.0.0.1:6379, unless REQUIRE_REDIS=1 (as in CI),
which turns that into a failure. Uses Redis database 3 and only the queue's own keys.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from competency_app.assessments import services as assessments
from competency_app.database import mark_read_only, unit_of_work
from competency_app.extensions import db
from competency_app.jobs.models import Job, JobRequester, JobState
from competency_app.jobs.queue import huey, in_process, use_redis
from competency_app.notifications.models import EmailState, Notification
from tests.conftest import csrf_from
from tests.factories import reflect_on_values
from tests.jobs.test_jobs import signed_in
from tests.notifications.conftest import smtp_server  # noqa: F401 - a fixture

# TEST_REDIS_HOST_PORT points the worker tests at another Redis server (parallel runs).
REDIS_SERVER = os.environ.get("TEST_REDIS_HOST_PORT", "127.0.0.1:6379")
REDIS_URL = f"redis://{REDIS_SERVER}/3"
ROOT = Path(__file__).resolve().parents[2]


def redis_is_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


pytestmark = pytest.mark.skipif(
    not redis_is_up() and os.environ.get("REQUIRE_REDIS") != "1",
    reason=f"Redis is not running on {REDIS_SERVER} (REQUIRE_REDIS=1 makes this a failure)",
)


def start_worker(app, tmp_path, mail_port: int, name: str = "worker", **settings: str):
    """A `flask worker` process on Redis db 3, the test database and an SMTP server on
    `mail_port`, with extra settings; its output goes to tmp_path/<name>.log."""
    assert redis_is_up(), f"REQUIRE_REDIS=1 but Redis is not running on {REDIS_SERVER}"
    jobs_dir = tmp_path / "jobs"
    app.config.update(JOBS_DIR=str(jobs_dir), JOBS_REDIS_URL=REDIS_URL)
    use_redis(REDIS_URL)
    env = {
        **os.environ,
        "APP_ENV": "testing",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "JOBS_REDIS_URL": REDIS_URL,
        "JOBS_DIR": str(jobs_dir),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(mail_port),
        "PUBLIC_URL": "https://competency.example.nhs.uk",
        "JSON_LOGS": "0",
        **settings,
    }
    with (tmp_path / f"{name}.log").open("a") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "competency_app", "worker", "--workers", "2"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()


def forget_workers(app, tmp_path) -> None:
    """After the test: this queue's keys emptied, jobs in-process again, the log shown."""
    huey.flush()
    use_redis("")
    app.config.update(JOBS_DIR="", JOBS_REDIS_URL="")
    for log in sorted(tmp_path.glob("*.log")):
        print(log.name, log.read_text()[-3000:])


@pytest.fixture
def worker(app, tmp_path, smtp_server):  # noqa: F811 - the fixture of the same name
    """A worker process on Redis db 3, the test database and the test's SMTP server; the
    test process enqueues into the same Redis."""
    inbox, port = smtp_server
    huey.flush()  # this queue's keys only
    process = start_worker(app, tmp_path, port)
    try:
        yield inbox
    finally:
        stop_worker(process)
        forget_workers(app, tmp_path)


def wait_for(check, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("timed out waiting")


def test_workbook_job_runs_in_the_worker_and_identical_requests_share_it(
    app,
    organisation,
    worker,
):
    assert not in_process()
    hana, hal = signed_in(app, "hana.hr"), signed_in(app, "hal.hr")
    ids = []
    for client in (hana, hal):
        token = csrf_from(client.get("/exports").get_data(as_text=True))
        response = client.post("/exports/organisation", data={"csrf_token": token})
        assert response.status_code == 303
        match = re.search(r"/jobs/(\d+)$", response.headers["Location"])
        assert match
        ids.append(int(match.group(1)))

    def finished():
        with app.app_context():
            mark_read_only(True)
            try:
                jobs = list(db.session.scalars(select(Job)))
            finally:
                db.session.remove()
                mark_read_only(False)
            return jobs if jobs and all(j.status.finished for j in jobs) else None

    jobs = wait_for(finished)
    if ids[0] == ids[1]:  # asked while the first was still queued or running: shared
        assert len(jobs) == 1
        with app.app_context():
            assert len(list(db.session.scalars(select(JobRequester)))) == 2
    assert all(j.status is JobState.DONE for j in jobs), [(j.state, j.error) for j in jobs]
    for client, job_id in ((hana, ids[0]), (hal, ids[1])):
        response = client.get(f"/jobs/{job_id}/download")
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.data))
        assert "Ratings" in book.sheetnames


def test_notifications_are_delivered_by_the_worker(app, organisation, worker):
    with app.app_context():
        from tests.notifications.test_notifications import person, rate_everything

        kim = person("kw0.north")
        with unit_of_work():
            assessment = assessments.start_assessment(kim)
            rate_everything(assessment, kim)
            reflect_on_values(assessment, kim)
            assessments.submit(assessment, kim, None)
        subject = f"assessment:{assessment.id}:v{assessment.row_version}"
    inbox = worker
    [message] = wait_for(lambda: inbox.to("sue.north@example.nhs.uk"))
    assert message["Subject"] == "Kw0 North has submitted a self-assessment"
    with app.app_context():
        state = db.session.scalar(
            select(Notification.email_state).where(Notification.subject == subject)
        )
    assert state == EmailState.SENT  # delivered by the worker, after the commit


def test_the_worker_keeps_a_teams_stored_figures_after_a_sign_off(app, organisation, worker):
    """The sign-off queues the team's stored coverage figures for after its commit; the
    worker process brings them to the team's new epoch, equal to the figures worked out
    afresh (and a cold cache then reads them)."""
    from competency_app.accounts.models import Team, teams_of
    from competency_app.clock import utcnow
    from competency_app.coverage import stored
    from competency_app.coverage.figures import team_figures
    from competency_app.coverage.services import team_practitioners
    from competency_app.framework.services import current_version
    from tests.coverage.test_stored_figures import _same
    from tests.notifications.test_notifications import person, rate_everything

    with app.app_context():
        kim, sue = person("kw0.north"), person("sue.north")
        with unit_of_work():
            assessment = assessments.start_assessment(kim)
            rate_everything(assessment, kim, level=3)
            assessments.submit(assessment, kim, None)
        with unit_of_work():
            assessments.validate(assessment, sue, {}, None)
        team_ids = sorted(db.session.scalars(teams_of([kim.id])))
        assert team_ids

    def kept():
        with app.app_context():
            mark_read_only(True)
            try:
                now, version = utcnow(), current_version()
                found = []
                for team_id in team_ids:
                    team = db.session.get_one(Team, team_id)
                    ids = [m.id for m in team_practitioners(team, on=now)]
                    figures = stored.stored_figures(team, version, ids, now)
                    if figures is None:
                        return None
                    found.append((figures, team_figures(version, ids, now)))
                return found
            finally:
                db.session.remove()
                mark_read_only(False)

    for figures, fresh in wait_for(kept):
        _same(figures, fresh)
        assert any(kim.id in people for people in figures.competent.values())


def apply_roster_as_job(client, rows: int) -> int:
    """Upload a roster of `rows` new keyworkers, preview it and apply it (as a job, above
    IMPORT_JOB_ROWS): the job's id."""
    lines = ["name,email,role,team"] + [
        f"Roster Person {n},roster{n}@example.nhs.uk,practitioner,{'north' if n % 2 else 'south'}"
        for n in range(rows)
    ]
    page = client.get("/admin/imports").get_data(as_text=True)
    # encoded in memory: the test client's own encoder spools a large body to a temporary
    # file that nothing closes (a ResourceWarning in whichever test runs next)
    boundary, body = encode_multipart(
        MultiDict(
            {
                "csrf_token": csrf_from(page),
                "kind": "roster",
                "file": FileStorage(io.BytesIO("\n".join(lines).encode()), "staff.csv"),
            }
        )
    )
    preview = client.post(
        "/admin/imports/preview",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200, text[:2000]
    token = re.search(r'name="token" value="([^"]+)"', text)
    assert token
    response = client.post(
        "/admin/imports/apply", data={"csrf_token": csrf_from(text), "token": token.group(1)}
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def read_job(app, job_id: int) -> Job:
    """The job's row as its page reads it (a read that never waits for a writer)."""
    with app.app_context():
        mark_read_only(True)
        try:
            job = db.session.get_one(Job, job_id)
            db.session.expunge(job)
            return job
        finally:
            db.session.remove()
            mark_read_only(False)


def test_a_20000_row_roster_applies_as_a_job_in_the_worker(app, organisation, worker):
    rows = 20_000
    hana = signed_in(app, "hana.hr")
    job_id = apply_roster_as_job(hana, rows)
    started = time.monotonic()

    job = wait_for(lambda: (job := read_job(app, job_id)).status.finished and job, seconds=300)
    print(f"20,000-row roster applied by the worker in {time.monotonic() - started:.1f} s")
    assert job.status is JobState.DONE, job.error
    assert job.done == job.total == 2 * rows
    links = hana.get(f"/jobs/{job_id}/download")
    assert links.status_code == 200
    assert links.get_data(as_text=True).count("/set-password/") == rows
