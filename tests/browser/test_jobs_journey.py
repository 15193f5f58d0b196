"""HR asks for the organisation workbook: the job's page shows its progress and refreshes
itself (no JavaScript needed), offers the file, which openpyxl opens; another person cannot
have it; after its expiry it is gone. A job whose worker died says why and tries again.
Then the notifications pages."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from competency_app.accounts.models import Role, User
from competency_app.clock import utcnow
from competency_app.extensions import db
from competency_app.jobs import services as jobs
from tests.browser.conftest import screenshot
from tests.browser.test_framework_and_accounts import sign_in
from tests.factories import commit, make_team, make_user, validated_assessment


@pytest.fixture
def hr_world(app, framework, tmp_path):
    app.config["JOBS_DIR"] = str(tmp_path / "jobs")
    with app.app_context():
        north = make_team("north", "North keyworking team")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=north)
        for local in ("pat.prac", "kim.keyworker"):
            person = make_user(local, Role.PRACTITIONER, team=north, supervisor=supervisor)
            validated_assessment(person, supervisor)
        make_user("hana.hr", Role.HR)
        make_user("hal.hr", Role.HR)
        commit()
    yield
    app.config["JOBS_DIR"] = ""


def test_hr_prepares_the_organisation_workbook(
    page, browser, live_server, app, hr_world, axe_check
):
    sign_in(page, "hana.hr")
    page.get_by_role("link", name="Workbooks").first.click()
    axe_check(page)
    page.get_by_role("button", name="Prepare the organisation workbook").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The organisation workbook")
    expect(page.locator("body")).to_contain_text("Ready")
    axe_check(page)
    screenshot(page, "job-ready")
    job_url = page.url
    with page.expect_download() as download:
        page.get_by_test_id("job-download").click()
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert book.sheetnames[:4] == ["Summary", "Teams", "Elements", "Coverage"]

    # The worker is busy: a second request waits, and its page shows how far it has gone,
    # refreshing itself until the file is ready.
    with app.app_context():
        hana = db.session.scalar(select(User).where(User.email == "hana.hr@example.nhs.uk"))
        waiting, created = jobs.request_job("team_workbook", {"team": "north"}, hana)
        commit()
        waiting_id = waiting.id
    assert created
    response = page.goto(f"/jobs/{waiting_id}")
    assert response is not None and response.headers["refresh"] == "3"
    expect(page.get_by_test_id("job-progress")).to_be_visible()
    assert page.locator("progress").count() == 1
    axe_check(page)
    page.set_viewport_size({"width": 390, "height": 800})
    axe_check(page)  # no wider than a phone's screen
    screenshot(page, "job-waiting-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    with app.app_context():
        jobs.enqueue(waiting_id)  # the worker gets to it
    expect(page.get_by_test_id("job-download")).to_be_visible(timeout=10_000)  # by itself

    # Another HR officer did not ask for it: refused
    other = browser.new_context(base_url=live_server).new_page()
    sign_in(other, "hal.hr")
    expect(other.get_by_role("heading", level=1)).to_contain_text("Hello")
    assert other.goto(job_url).status == 403
    assert other.goto(job_url + "/download").status == 403
    other.context.close()

    # After its expiry the file is gone
    app.config["FROZEN_NOW"] = utcnow() + timedelta(hours=25)
    assert page.goto(job_url + "/download").status == 404
    page.goto(job_url)
    expect(page.locator("body")).to_contain_text("was deleted")
    axe_check(page)


def test_a_dead_workers_job_says_why_and_tries_again(page, app, hr_world, axe_check):
    """A workbook whose worker died midway (running 3 of 7, silent past the lease): its
    page says it failed and why, and "Try again" starts a fresh job that completes."""
    with app.app_context():
        hana = db.session.scalar(select(User).where(User.email == "hana.hr@example.nhs.uk"))
        dead, _ = jobs.request_job(
            "organisation_workbook", {"organisation": hana.organisation_id}, hana, unit="records"
        )
        silent = utcnow() - timedelta(minutes=float(app.config["JOB_LEASE_MINUTES"]) + 1)
        dead.state, dead.done, dead.total = "running", 3, 7
        dead.started_at = dead.heartbeat_at = silent
        commit()
        dead_id = dead.id
    sign_in(page, "hana.hr")
    response = page.goto(f"/jobs/{dead_id}")
    assert response is not None and "refresh" not in response.headers
    expect(page.locator("body")).to_contain_text("Failed")
    expect(page.locator("body")).to_contain_text("The worker doing this stopped: no progress since")
    axe_check(page)
    screenshot(page, "job-failed")
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_test_id("job-download")).to_be_visible()
    assert page.url.rsplit("/", 1)[1] != str(dead_id)
    axe_check(page)


def test_notifications_pages(page, app, hr_world, axe_check):
    sign_in(page, "sue.super")
    expect(page.locator("body")).to_contain_text("Kim Keyworker has submitted a self-assessment")
    axe_check(page)
    page.get_by_role("link", name="All your notifications").click()
    axe_check(page)
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.locator("body")).to_contain_text("marked as read")
    page.get_by_role("link", name="Choose which emails you get").click()
    axe_check(page)
    page.get_by_label("A supervisee submits a self-assessment").uncheck()
    page.get_by_role("button", name="Save your choices").click()
    expect(page.locator("body")).to_contain_text("Your email choices are saved")
    expect(page.get_by_label("A supervisee submits a self-assessment")).not_to_be_checked()
    page.set_viewport_size({"width": 390, "height": 800})
    axe_check(page)
    screenshot(page, "notification-settings-390")
