"""HR downloads a workbook and imports a roster through preview, in Chromium with axe."""

from __future__ import annotations

import io
import re

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
        page.get_by_role("button", name="Download the North keyworking team workbook").click()
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert book.sheetnames[:4] == ["Summary", "Teams", "Elements", "Coverage"]
    every_cycle = page.get_by_role("checkbox", name="Every cycle in the North keyworking team")
    expect(every_cycle).to_have_accessible_description(re.compile("latest validated assessment"))
    every_cycle.check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the North keyworking team workbook").click()
    assert "history=y" in download.value.url

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
    # as Excel's "CSV (Comma delimited)" saves it: Windows-1252, the role as the pages say it
    fixed = bad.read_text().replace("wizard", "Keyworker").replace("Oli Odd", "Zoë Brontë")
    good.write_text(fixed, encoding="cp1252")
    page.get_by_role("link", name="Upload another file").click()
    page.get_by_label("Staff roster").check()
    page.get_by_label("File").set_input_files(str(good))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("body")).to_contain_text("2 new people")
    expect(page.locator("body")).to_contain_text("read as Windows-1252")
    axe_check(page)
    page.get_by_role("button", name="Apply the import").click()
    expect(page.locator("body")).to_contain_text("Set-your-password links for 2 new people")
    axe_check(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    link = page.get_by_test_id("password-link").first.inner_text()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the links (CSV, once)").click()
    assert link in download.value.path().read_text(encoding="utf-8")
    assert not page.console_errors


def test_hr_roster_granting_admin_is_refused_row_by_row(page, hr_world, axe_check, tmp_path):
    sign_in(page, "hana.hr")
    page.goto("/admin/imports")
    attack = tmp_path / "staff.csv"
    attack.write_text(
        "name,email,role,team,supervisor\n"
        "Hana Hr,hana.hr@example.nhs.uk,hr;admin,,\n"
        "Nia Jones,nia.jones@example.nhs.uk,practitioner,north,sue.super@example.nhs.uk\n",
        encoding="utf-8",
    )
    page.get_by_label("Staff roster").check()
    page.get_by_label("File").set_input_files(str(attack))
    page.get_by_role("button", name="Check the file").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text(
        "Row 2, column role: Only an administrator can grant the role admin"
    )
    expect(summary).to_contain_text("nothing has been imported")
    expect(page.get_by_role("button", name="Apply the import")).to_have_count(0)
    axe_check(page)
    page.goto("/admin")
    expect(page.locator("h1")).to_contain_text("You do not have access")
    assert not [e for e in page.console_errors if "status of 403" not in e]


def test_new_person_sets_their_password_through_the_link(page, hr_world, axe_check, tmp_path):
    sign_in(page, "hana.hr")
    page.goto("/admin/imports")
    roster = tmp_path / "staff.csv"
    roster.write_text(
        "name,email,role,team,supervisor\n"
        "Nia Jones,nia.jones@example.nhs.uk,practitioner,north,sue.super@example.nhs.uk\n",
        encoding="utf-8",
    )
    page.get_by_label("Staff roster").check()
    page.get_by_label("File").set_input_files(str(roster))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("button", name="Apply the import").click()
    link = page.get_by_test_id("password-link").inner_text()
    page.get_by_role("button", name="Sign out").click()

    page.goto(link)
    expect(page.locator("h1")).to_have_text("Set your password")
    axe_check(page)
    page.get_by_label("New password", exact=True).fill("too short")
    page.get_by_label("Confirm new password").fill("too short")
    page.get_by_role("button", name="Set password").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("at least 12 characters")
    axe_check(page)
    page.get_by_label("New password", exact=True).fill("nia's own passphrase")
    page.get_by_label("Confirm new password").fill("nia's own passphrase")
    page.get_by_role("button", name="Set password").click()
    # signed in at once: no second sign-in
    expect(page.locator("body")).to_contain_text("Your password is set and you are signed in")
    expect(page.locator("body")).to_contain_text("Hello, Nia Jones")
    axe_check(page)
    page.goto(link)  # used once: it no longer works
    expect(page.locator("h1")).to_have_text("This link does not work")
    axe_check(page)
    assert not [e for e in page.console_errors if "status of 404" not in e]
