"""HR downloads a workbook and imports a roster through preview, in Chromium with axe."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from competency_app.accounts.models import Role
from tests.browser.test_framework_and_accounts import sign_in
from tests.factories import commit, make_team, make_user


@pytest.fixture
def hr_world(app, framework):
    with app.app_context():
        north = make_team("north", "North keyworking team")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=north)
        make_user("pat.prac", Role.PRACTITIONER, team=north, supervisor=supervisor)
        make_user("hana.hr", Role.HR)
        commit()


def test_hr_downloads_a_workbook_and_imports_staff(page, hr_world, axe_check, tmp_path):
    sign_in(page, "hana.hr")
    page.get_by_role("link", name="Workbooks").first.click()
    axe_check(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="North keyworking team workbook (.xlsx)").click()
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert book.sheetnames[:2] == ["Summary", "Coverage"]

    page.get_by_role("link", name="Import staff or e-learning completions").click()
    axe_check(page)
    bad = tmp_path / "staff.csv"
    bad.write_text(
        "name,email,role,team,supervisor\n"
        "Nia Jones,nia.jones@example.nhs.uk,practitioner,north,sue.super@example.nhs.uk\n"
        "Oli Odd,oli@example.nhs.uk,wizard,north,\n",
        encoding="utf-8",
    )
    page.get_by_label("Staff roster").check()
    page.get_by_label("File").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Row 3, column role")
    axe_check(page)
    good = tmp_path / "staff-fixed.csv"
    good.write_text(bad.read_text().replace("wizard", "practitioner"), encoding="utf-8")
    page.get_by_role("link", name="Upload another file").click()
    page.get_by_label("Staff roster").check()
    page.get_by_label("File").set_input_files(str(good))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("body")).to_contain_text("2 new people")
    axe_check(page)
    page.get_by_role("button", name="Apply the import").click()
    expect(page.locator("body")).to_contain_text("Temporary password")
    axe_check(page)
    assert not page.console_errors
