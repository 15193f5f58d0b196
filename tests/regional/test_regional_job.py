"""The regional workbook as a job in a real worker process (`flask worker` on Redis): asked
for from the regional page, its progress on the jobs page, the file for its requester, each
download in the audit log."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from competency_app.database import mark_read_only
from competency_app.extensions import db
from competency_app.jobs.models import Job, JobState
from competency_app.jobs.queue import in_process
from tests.conftest import csrf_from
from tests.factories import latest_audit
from tests.jobs.test_jobs import signed_in
from tests.jobs.test_worker_redis import pytestmark, wait_for, worker  # noqa: F401
from tests.notifications.conftest import smtp_server  # noqa: F401 - a fixture
from tests.regional.conftest import region  # noqa: F401 - a fixture

__all__ = ["pytestmark"]


def test_the_regional_workbook_runs_in_the_worker(app, region, worker, monkeypatch):  # noqa: F811
    # the worker runs at the real clock: the page does too
    app.config.pop("FROZEN_NOW", None)
    assert not in_process()
    client = signed_in(app, "rhea.lead")
    token = csrf_from(client.get("/regional").get_data(as_text=True))
    response = client.post("/regional/workbook", data={"csrf_token": token})
    assert response.status_code == 303
    match = re.search(r"/jobs/(\d+)$", response.headers["Location"])
    assert match
    job_id = int(match.group(1))

    def finished():
        with app.app_context():
            mark_read_only(True)
            try:
                job = db.session.scalar(select(Job).where(Job.id == job_id))
            finally:
                db.session.remove()
                mark_read_only(False)
            return job if job is not None and job.status.finished else None

    job = wait_for(finished)
    assert job.status is JobState.DONE, job.error
    assert "regional workbook of North region" in job.summary
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "The regional workbook" in page
    download = client.get(f"/jobs/{job_id}/download")
    assert download.status_code == 200
    book = load_workbook(io.BytesIO(download.data))
    assert book.sheetnames == ["Summary", "Teams", "Skills", "Forecast", "Vacancies"]
    with app.app_context():
        event = latest_audit("export")
        assert event.target == "collaborative:north-region"
    # another person may not fetch it
    other = signed_in(app, "olu.lead")
    assert other.get(f"/jobs/{job_id}/download").status_code == 403
