"""Administration pages of one organisation among several, in Chromium with axe, on a
desktop and a 390 px screen: an administrator sees their own organisation's people, teams
and audit log; the installation administrator reads every organisation's log with an
organisation column."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from competency_app.accounts.models import Role
from tests.browser.conftest import screenshot
from tests.browser.test_framework_and_accounts import sign_in, sign_out
from tests.factories import (
    commit,
    make_collaborative,
    make_organisation,
    make_team,
    make_user,
)


@pytest.fixture
def organisations(app, framework):
    with app.app_context():
        north = make_team("north", "North keyworking team")
        make_user("ada.admin", Role.ADMIN)
        make_user("pat.prac", Role.PRACTITIONER, team=north)
        other = make_organisation("faraway-trust", collaborative=make_collaborative("far"))
        faraway = make_team("faraway", "Faraway recovery team", organisation=other)
        make_user("fay.faraway", Role.PRACTITIONER, team=faraway, organisation=other)
        make_user("ivy.install", Role.INSTALLATION_ADMIN)
        commit()


@pytest.mark.parametrize("width", [1280, 390])
def test_each_administrator_sees_their_own_organisation(page, organisations, axe_check, width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "ada.admin")
    page.goto("/admin/people")
    expect(page.get_by_role("link", name="Pat Prac")).to_be_visible()
    expect(page.get_by_text("Fay Faraway")).to_have_count(0)
    axe_check(page)
    screenshot(page, f"organisation-people-{width}")
    page.goto("/admin/teams")
    expect(page.get_by_text("North keyworking team").first).to_be_visible()
    expect(page.get_by_text("Faraway recovery team")).to_have_count(0)
    axe_check(page)
    page.goto("/admin/audit")
    expect(page.get_by_text("fay.faraway@example.nhs.uk")).to_have_count(0)
    expect(page.get_by_role("columnheader", name="Organisation")).to_have_count(0)
    axe_check(page)
    sign_out(page)
    sign_in(page, "ivy.install")
    page.get_by_role("link", name="Audit log").first.click()
    expect(page.get_by_role("columnheader", name="Organisation")).to_be_visible()
    expect(page.get_by_role("cell", name="Faraway Trust").first).to_be_visible()
    axe_check(page)
    screenshot(page, f"organisation-audit-installation-{width}")
    assert page.goto("/admin/people").status == 403
