"""A copy of a person's data, in the browser: HR of the keyworker's employer asks for it
from the person's page, follows the job and downloads the archive; the keyworker asks for
their own from the footer; HR of another organisation is refused. Axe on every page, at
1,280 and 390 px."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date

import pytest
from playwright.sync_api import expect

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role, User
from competency_app.extensions import db
from tests.browser.conftest import screenshot
from tests.browser.test_framework_and_accounts import sign_in
from tests.factories import (
    commit,
    make_organisation,
    make_team,
    make_user,
    validated_assessment,
)


@pytest.fixture
def world(app, framework, tmp_path):
    app.config["JOBS_DIR"] = str(tmp_path / "jobs")
    with app.app_context():
        north = make_team("north", "North keyworking team")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=north)
        pat = make_user("pat.prac", Role.PRACTITIONER, team=north, supervisor=supervisor)
        validated_assessment(pat, supervisor)
        make_user("hana.hr", Role.HR)
        make_user("ada.admin", Role.ADMIN)
        council = make_organisation("city-council")
        make_user("colin.hr", Role.HR, organisation=council)
        commit()
        ids = {"pat": pat.id}
    yield ids
    app.config["JOBS_DIR"] = ""


def _download(page) -> dict:
    expect(page.locator("body")).to_contain_text("Ready")
    with page.expect_download() as download:
        page.get_by_test_id("job-download").click()
    with zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())) as archive:
        return json.loads(archive.read("data.json"))


def test_hr_and_the_keyworker_each_get_a_copy_and_another_employer_cannot(
    page, browser, live_server, world, axe_check
):
    sign_in(page, "ada.admin")
    page.goto("/admin/people")
    page.get_by_role("link", name="Pat Prac").first.click()
    page.get_by_role("link", name="A copy of Pat Prac's data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("A copy of Pat Prac's data")
    axe_check(page)
    page.set_viewport_size({"width": 390, "height": 800})
    axe_check(page)
    screenshot(page, "personal-data-request-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Prepare a copy of Pat Prac's data").click()
    axe_check(page)
    data = _download(page)
    assert data["person"]["name"] == "Pat Prac"
    assert data["sections"]["Self-assessments and validation"]["self_rating"]["rows"]

    keyworker = browser.new_context(base_url=live_server).new_page()
    sign_in(keyworker, "pat.prac")
    keyworker.get_by_role("link", name="Your data").click()
    expect(keyworker.get_by_role("heading", level=1)).to_have_text("Your data")
    axe_check(keyworker)
    screenshot(keyworker, "personal-data-own")
    keyworker.get_by_role("button", name="Prepare a copy of your data").click()
    assert _download(keyworker)["person"]["email"] == "pat.prac@example.nhs.uk"

    council_hr = browser.new_context(base_url=live_server).new_page()
    sign_in(council_hr, "colin.hr")
    response = council_hr.goto(f"/people/{world['pat']}/data")
    assert response is not None and response.status == 403
    axe_check(council_hr)


def test_hr_erases_a_leaver_after_a_refused_first_try(page, app, world, axe_check):
    with app.app_context():
        pat = db.session.get_one(User, world["pat"])
        accounts.set_leaving_date(pat, date.today(), None)
        accounts.set_active(pat, False, None)
        commit()
    sign_in(page, "hana.hr")
    page.goto(f"/people/{world['pat']}/data")
    page.get_by_role("link", name="Erase Pat Prac's record").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Erase Pat Prac's record?")
    axe_check(page)
    page.get_by_label("Reason for the erasure").fill("Left in 2019; retention period over")
    page.get_by_role("button", name="Erase Pat Prac's record").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Confirm that the erasure")
    expect(page.get_by_label("Reason for the erasure")).to_have_value(
        "Left in 2019; retention period over"
    )
    axe_check(page)
    page.set_viewport_size({"width": 390, "height": 800})
    axe_check(page)
    screenshot(page, "personal-data-erase-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("I understand that erasing Pat Prac's record cannot be undone").check()
    page.get_by_role("button", name="Erase Pat Prac's record").click()
    expect(page.locator("body")).to_contain_text(
        f"1 record erased (now Erased person {world['pat']})"
    )
    axe_check(page)
    with app.app_context():
        assert db.session.get_one(User, world["pat"]).name == f"Erased person {world['pat']}"
