"""A manager creates an API token, uses it, revokes it; the API documentation page. In
Chromium with axe, on a desktop and a 390 px screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from competency_app.accounts.models import Role
from tests.browser.conftest import screenshot
from tests.browser.test_framework_and_accounts import sign_in
from tests.factories import commit, make_team, make_user


@pytest.fixture
def manager_world(app, framework):
    with app.app_context():
        north = make_team("north", "North keyworking team")
        make_user("max.manager", Role.MANAGER, team=north)
        make_user("pat.prac", Role.PRACTITIONER, team=north)
        commit()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_manager_creates_uses_and_revokes_a_token(page, manager_world, axe_check, width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "max.manager")
    page.goto("/api-docs")
    expect(page.get_by_role("heading", level=1)).to_contain_text("API")
    expect(page.locator("body")).to_contain_text("/api/v1/teams/{slug}/coverage")
    axe_check(page)
    screenshot(page, f"api-docs-{width}")
    page.get_by_role("link", name="Manage your API tokens").click()
    axe_check(page)
    # a refused form keeps what was typed
    page.get_by_label("Name").fill("")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter a name for the token")
    axe_check(page)
    page.get_by_label("Name").fill("Power BI coverage")
    page.get_by_label("1 year").check()
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_test_id("new-token").inner_text()
    assert secret.startswith("kwt_")
    axe_check(page)
    screenshot(page, f"api-token-created-{width}")
    answer = page.request.get(
        "/api/v1/teams/north/coverage", headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status == 200 and answer.json()["team"]["slug"] == "north"
    page.goto("/account/api-tokens")
    expect(page.get_by_test_id("new-token")).to_have_count(0)  # shown once only
    expect(page.locator("table")).to_contain_text("Power BI coverage")
    page.get_by_role("link", name="Revoke Power BI coverage").click()
    axe_check(page)
    page.get_by_role("button", name="Revoke token").click()
    expect(page.locator(".app-flash")).to_contain_text("has been revoked")
    expect(page.locator("table")).to_contain_text("Revoked")
    axe_check(page)
    refused = page.request.get("/api/v1/teams", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status == 401
