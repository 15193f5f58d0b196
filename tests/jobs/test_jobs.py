"""Jobs in-process (Huey's immediate mode): the organisation workbook with progress, a file
only for the people who asked, shared identical requests, failures that say why, expiry."""

from __future__ import annotations

import io
import re
import tempfile
from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select

from competency_app.accounts.models import AuditEvent, Role
from competency_app.clock import utcnow
from competency_app.extensions import db
from competency_app.jobs import services as jobs
from competency_app.jobs.models import Job, JobRequester, JobState
from competency_app.jobs.queue import in_process
from tests.conftest import csrf_from, preview_import, sign_in
from tests.factories import (
    PASSWORD,
    commit,
    latest_audit,
    make_team,
    make_user,
)


def signed_in(app, local: str):
    client = app.test_client()
    sign_in(client, f"{local}@example.nhs.uk", PASSWORD)
    return client


def ask_for_organisation_workbook(client) -> int:
    token = csrf_from(client.get("/exports").get_data(as_text=True))
    response = client.post("/exports/organisation", data={"csrf_token": token})
    assert response.status_code == 303
    match = re.search(r"/jobs/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def test_the_queue_runs_in_process_without_redis(app):
    assert not app.config["JOBS_REDIS_URL"]
    assert in_process()


def test_organisation_workbook_job_progress_file_owner_only_and_expiry(app, organisation, jobs_dir):
    hana = signed_in(app, "hana.hr")
    job_id = ask_for_organisation_workbook(hana)
    page = hana.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Ready" in page and 'http-equiv="refresh"' not in page
    assert f"/jobs/{job_id}/download" in page
    with app.app_context():
        job = db.session.get_one(Job, job_id)
        assert job.status is JobState.DONE and job.active_key is None
        assert job.total > 0 and job.done == job.total  # progress was counted to the end
        assert job.expires_at is not None and job.expires_at > utcnow() + timedelta(hours=23)
        stored = jobs_dir / (job.result_file or "")
        assert stored.exists()

    response = hana.get(f"/jobs/{job_id}/download")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "organisation-competencies-" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[0] == "Summary" and "Ratings" in book.sheetnames
    with app.app_context():
        exports = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "export")
        )
        assert exports == 1  # the download is audited, as a direct download is

    # another HR officer did not ask for it: neither the page nor the file
    hal = signed_in(app, "hal.hr")
    assert hal.get(f"/jobs/{job_id}").status_code == 403
    assert hal.get(f"/jobs/{job_id}/download").status_code == 403

    # after its expiry the file is deleted and the page says so
    app.config["FROZEN_NOW"] = utcnow() + timedelta(hours=25)
    assert hana.get(f"/jobs/{job_id}/download").status_code == 404
    assert not stored.exists()
    assert "was deleted" in hana.get(f"/jobs/{job_id}").get_data(as_text=True)
    with app.app_context():
        assert db.session.get_one(Job, job_id).status is JobState.EXPIRED


def test_identical_requests_share_one_job_until_it_finishes(app, organisation, jobs_dir):
    with app.app_context():
        hana = db.session.scalar(select_user("hana.hr"))
        hal = db.session.scalar(select_user("hal.hr"))
        first, created = jobs.request_job(
            "organisation_workbook", {"organisation": hana.organisation_id}, hana
        )
        second, again = jobs.request_job(
            "organisation_workbook", {"organisation": hal.organisation_id}, hal
        )
        assert created and not again and first.id == second.id
        assert db.session.scalar(select(func.count()).select_from(JobRequester)) == 2
        other, fresh = jobs.request_job("team_workbook", {"team": "north"}, hal)
        assert fresh and other.id != first.id
        commit()
        job_id = first.id
    with app.app_context():  # the job runs in this test's application
        jobs.enqueue(job_id)
    with app.app_context():
        assert db.session.get_one(Job, job_id).status is JobState.DONE
        hana = db.session.scalar(select_user("hana.hr"))
        later, created = jobs.request_job(
            "organisation_workbook", {"organisation": hana.organisation_id}, hana
        )
        assert created and later.id != job_id  # a finished job is not reused: figures move on
        db.session.rollback()
    # both who asked may download the shared file
    for local in ("hana.hr", "hal.hr"):
        assert signed_in(app, local).get(f"/jobs/{job_id}/download").status_code == 200


def select_user(local: str):
    from competency_app.accounts.models import User

    return select(User).where(User.email == f"{local}@example.nhs.uk")


def test_a_failed_job_says_why_and_frees_its_key(app, jobs_dir):
    with app.app_context():
        make_team("north")
        make_user("hana.hr", Role.HR)
        commit()
    hana = signed_in(app, "hana.hr")
    token = csrf_from(hana.get("/exports").get_data(as_text=True))
    response = hana.post("/exports/organisation", data={"csrf_token": token})
    page = hana.get(response.headers["Location"]).get_data(as_text=True)
    assert "This did not work" in page
    assert "No framework has been loaded yet." in page
    with app.app_context():
        job = db.session.scalar(select(Job))
        assert job is not None and job.status is JobState.FAILED and job.active_key is None
        assert job.result_file is None
    assert not list(jobs_dir.glob("*")) if jobs_dir.exists() else True


def test_a_workbook_job_that_fails_midway_leaves_no_file(app, organisation, jobs_dir):
    """The workbook is written straight into a file in the store's folder: a job that fails
    while writing it deletes that file, and says why."""
    from competency_app.exports import workbooks

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    def sheet_files() -> set[Path]:  # what openpyxl streams each sheet into
        return set(Path(tempfile.gettempdir()).glob("openpyxl.*"))

    before = sheet_files()
    saved = workbooks.finish_coverage_sheet
    workbooks.finish_coverage_sheet = broken  # fails after the first sheets were written
    try:
        hana = signed_in(app, "hana.hr")
        job_id = ask_for_organisation_workbook(hana)
    finally:
        workbooks.finish_coverage_sheet = saved
    assert "Something went wrong" in hana.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert list(jobs_dir.glob("*")) == []
    assert sheet_files() <= before  # the sheets begun were closed and their files deleted
    with app.app_context():
        job = db.session.get_one(Job, job_id)
        assert job.status is JobState.FAILED and job.result_file is None
    # asked again, it completes: its file is the workbook, readable by its owner only
    job_id = ask_for_organisation_workbook(hana)
    with app.app_context():
        stored = jobs_dir / (db.session.get_one(Job, job_id).result_file or "")
    assert stored.stat().st_mode & 0o777 == 0o600
    assert load_workbook(io.BytesIO(stored.read_bytes())).sheetnames[0] == "Summary"
    assert [p.name for p in jobs_dir.glob("*")] == [stored.name]


def test_clean_jobs_deletes_expired_files(app, runner, organisation, jobs_dir):
    hana = signed_in(app, "hana.hr")
    job_id = ask_for_organisation_workbook(hana)
    assert len(list(jobs_dir.glob("job-*"))) == 1
    app.config["FROZEN_NOW"] = utcnow() + timedelta(days=2)
    result = runner.invoke(args=["clean-jobs"])
    assert result.exit_code == 0, result.output
    assert "1 expired files deleted" in result.output
    assert list(jobs_dir.glob("job-*")) == []
    with app.app_context():
        assert db.session.get_one(Job, job_id).status is JobState.EXPIRED


def test_a_large_team_workbook_is_offered_as_a_job(app, organisation, jobs_dir):
    app.config["TEAM_WORKBOOK_JOB_MEMBERS"] = 2
    try:
        hana = signed_in(app, "hana.hr")
        page = hana.get("/exports").get_data(as_text=True)
        assert 'action="/teams/north/export"' in page  # a button, not a direct download
        assert 'action="/teams/south/export.xlsx"' not in page  # both teams are "large" here
        token = csrf_from(page)
        for data, ratings in (({}, "current cycle"), ({"history": "y"}, "every cycle")):
            response = hana.post("/teams/north/export", data={"csrf_token": token, **data})
            assert response.status_code == 303
            download = hana.get(response.headers["Location"] + "/download")
            assert download.status_code == 200
            assert "north-competencies-" in download.headers["Content-Disposition"]
            with app.app_context():
                event = latest_audit("export")
                assert event.target == "team:north" and event.detail["ratings"] == ratings
    finally:
        app.config["TEAM_WORKBOOK_JOB_MEMBERS"] = 150


def test_a_waiting_job_page_refreshes_itself_unless_told_not_to(app, organisation):
    with app.app_context():
        hana = db.session.scalar(select_user("hana.hr"))
        job, _ = jobs.request_job(
            "organisation_workbook", {"organisation": hana.organisation_id}, hana
        )
        commit()
        job_id = job.id
    client = signed_in(app, "hana.hr")
    waiting = client.get(f"/jobs/{job_id}")
    assert waiting.headers["Refresh"] == "3"
    assert "Not started yet" in waiting.get_data(as_text=True)
    still = client.get(f"/jobs/{job_id}?refresh=off")
    assert "Refresh" not in still.headers
    assert "Refresh this page automatically" in still.get_data(as_text=True)
    with app.app_context():  # the job runs in this test's application
        jobs.enqueue(job_id)
    assert "Refresh" not in client.get(f"/jobs/{job_id}").headers


def test_the_worker_command_needs_redis(runner):
    result = runner.invoke(args=["worker"])
    assert result.exit_code != 0
    assert "JOBS_REDIS_URL is not set" in result.output


def test_a_large_import_is_applied_as_a_job_with_its_links(app, organisation, jobs_dir):
    app.config["IMPORT_JOB_ROWS"] = 3
    try:
        hana = signed_in(app, "hana.hr")
        lines = ["name,email,role,team"] + [
            f"New Person {n},new{n}@example.nhs.uk,practitioner,north" for n in range(5)
        ]
        page = hana.get("/admin/imports").get_data(as_text=True)
        preview = hana.post(
            "/admin/imports/preview",
            data={
                "csrf_token": csrf_from(page),
                "kind": "roster",
                "file": (io.BytesIO("\n".join(lines).encode()), "staff.csv"),
            },
            content_type="multipart/form-data",
        )
        assert preview.status_code == 200, preview.get_data(as_text=True)[:2000]
        body = preview.get_data(as_text=True)
        token = re.search(r'name="token" value="([^"]+)"', body)
        assert token
        response = hana.post(
            "/admin/imports/apply", data={"csrf_token": csrf_from(body), "token": token.group(1)}
        )
        assert response.status_code == 303 and "/jobs/" in response.headers["Location"]
        page = hana.get(response.headers["Location"]).get_data(as_text=True)
        assert "Staff roster: 5 rows imported." in page
        links = hana.get(response.headers["Location"] + "/download")
        assert links.status_code == 200
        text = links.get_data(as_text=True)
        assert text.count("/set-password/") == 5
        with app.app_context():
            assert db.session.scalar(select_user("new4")) is not None
            job = db.session.scalar(select(Job).where(Job.kind == "apply_import"))
            assert job is not None and job.done == job.total == 10
        assert not list(jobs_dir.glob("import-*.json"))  # the checked rows are gone
    finally:
        app.config["IMPORT_JOB_ROWS"] = 2000


def test_an_import_one_row_over_a_batch_writes_its_last_row(app, organisation, jobs_dir):
    app.config["IMPORT_JOB_ROWS"], app.config["IMPORT_BATCH_ROWS"] = 3, 4
    try:
        hana = signed_in(app, "hana.hr")
        lines = ["name,email,role,team"] + [
            f"New Person {n},new{n}@example.nhs.uk,practitioner,north" for n in range(5)
        ]  # IMPORT_BATCH_ROWS + 1: a batch of four, then one
        body = preview_import(hana, "roster", "\n".join(lines)).get_data(as_text=True)
        token = re.search(r'name="token" value="([^"]+)"', body)
        assert token
        response = hana.post(
            "/admin/imports/apply", data={"csrf_token": csrf_from(body), "token": token.group(1)}
        )
        assert response.status_code == 303 and "/jobs/" in response.headers["Location"]
        assert "Staff roster: 5 rows imported." in hana.get(response.headers["Location"]).text
        with app.app_context():
            assert db.session.scalar(select_user("new4")) is not None  # the row past the batch
    finally:
        app.config["IMPORT_JOB_ROWS"], app.config["IMPORT_BATCH_ROWS"] = 2000, 1000


def test_purge_candidates_runs_as_a_job(app, runner, organisation):
    result = runner.invoke(args=["run-job", "purge_candidates"])
    assert result.exit_code == 0, result.output
    assert "Ready. 0 candidates' data purged from 0 vacancies." in result.output
    assert runner.invoke(args=["run-job", "nonsense"]).exit_code != 0
