"""Browser journeys for the framework pages and accounts, with an axe scan of every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from competency_app.accounts.models import Role
from tests.browser.conftest import screenshot
from tests.factories import PASSWORD, commit, make_team, make_user

ROLE_PEOPLE = {
    Role.PRACTITIONER: "pat.prac",
    Role.SUPERVISOR: "sue.super",
    Role.MANAGER: "max.manager",
    Role.RECRUITER: "rae.recruit",
    Role.HR: "hana.hr",
    Role.ADMIN: "ada.admin",
}


@pytest.fixture
def organisation(app, framework):
    with app.app_context():
        team = make_team("north", "North keyworking team")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=team)
        for role, local in ROLE_PEOPLE.items():
            if role != Role.SUPERVISOR:
                make_user(
                    local,
                    role,
                    team=team,
                    supervisor=supervisor if role == Role.PRACTITIONER else None,
                )
        commit()


def sign_in(page, local: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(f"{local}@example.nhs.uk")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")


def test_each_role_signs_in_and_out(page, organisation, axe_check):
    page.goto("/login")
    axe_check(page)
    for role, local in ROLE_PEOPLE.items():
        sign_in(page, local)
        page.wait_for_url("**/")
        assert page.get_by_role("heading", level=1).inner_text().startswith("Hello")
        expect(page.locator("body")).to_contain_text(role.label)
        axe_check(page)
        if role == Role.ADMIN:
            assert page.get_by_role("link", name="Administration").count() >= 1
        sign_out(page)
        expect(page.locator("body")).to_contain_text("You have signed out")
    assert not page.console_errors


def test_wrong_password_keeps_email_and_explains(page, organisation, axe_check):
    sign_in(page, "pat.prac", "definitely wrong")
    assert page.get_by_label("Email address").input_value() == "pat.prac@example.nhs.uk"
    summary = page.locator(".nhsuk-error-summary")
    assert "Enter a correct email address and password" in summary.inner_text()
    axe_check(page)


def test_framework_pages(page, organisation, axe_check, framework_document):
    sign_in(page, "pat.prac")
    page.goto("/framework")
    axe_check(page)
    screenshot(page, "framework-overview")
    for element in framework_document.elements():
        page.goto(f"/framework/elements/{element.id}")
        assert page.locator(f'[id="{element.skills[0].id}"]').count() == 1
        axe_check(page)
    screenshot(page, "framework-element-4b")
    for path in [
        "/framework/values",
        "/framework/elearning",
        "/framework/person-specification",
        "/framework/versions",
    ]:
        page.goto(path)
        axe_check(page)
    screenshot(page, "framework-person-specification")
    assert not page.console_errors


def test_admin_creates_team_and_person_and_resets_password(page, organisation, axe_check):
    sign_in(page, "ada.admin")
    page.get_by_role("link", name="Administration").first.click()
    axe_check(page)
    page.get_by_role("link", name="Teams").click()
    # a bad short name: the form comes back with what was typed and a clear message
    page.get_by_label("Team name").fill("South keyworking team")
    page.get_by_label("Short name").fill("South Team!")
    page.get_by_role("button", name="Create team").click()
    assert "lower-case letters" in page.locator(".nhsuk-error-summary").inner_text()
    assert page.get_by_label("Team name").input_value() == "South keyworking team"
    axe_check(page)
    page.get_by_label("Short name").fill("south")
    page.get_by_role("button", name="Create team").click()
    expect(page.locator("body")).to_contain_text("Team South keyworking team created")

    page.goto("/admin/people/new")
    axe_check(page)
    page.get_by_label("Full name").fill("Nia Jones")
    page.get_by_label("Email address").fill("nia.jones@example.nhs.uk")
    page.get_by_label("Team").select_option(label="South keyworking team")
    page.get_by_label("Keyworker (practitioner)").check()
    page.get_by_label("Their supervisor").select_option(
        label="Sue Super (sue.super@example.nhs.uk)"
    )
    page.get_by_role("button", name="Add person").click()
    temporary = page.get_by_test_id("temporary-password").inner_text()
    axe_check(page)

    page.goto("/admin/people")
    axe_check(page)
    page.get_by_role("link", name="Nia Jones").click()
    axe_check(page)
    page.goto("/admin/audit")
    expect(page.locator("body")).to_contain_text("Person added")
    axe_check(page)
    screenshot(page, "admin-audit")
    sign_out(page)

    # the new person must change the temporary password first
    sign_in(page, "nia.jones", temporary)
    page.wait_for_url("**/account/password")
    axe_check(page)
    page.get_by_label("Current password").fill(temporary)
    page.get_by_label("New password", exact=True).fill("nia's own passphrase")
    page.get_by_label("Confirm new password").fill("nia's own passphrase")
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url("**/")
    expect(page.locator("body")).to_contain_text("Hello, Nia Jones")
    expect(page.locator("body")).to_contain_text("Your supervisor is Sue Super")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_admin_reaches_every_admin_page_from_home(page, organisation, axe_check, width):
    """API tokens, notification settings and framework versions: one click from the home
    page, two through the navigation (Administration, then the page)."""
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "ada.admin")
    axe_check(page)
    screenshot(page, f"admin-home-{width}")
    home = page.url
    for name, heading in [
        ("API tokens", "API tokens"),
        ("Notification settings", "Which emails you get"),
        ("Framework versions", "versions"),
    ]:
        page.goto(home)
        page.locator("#maincontent").get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        axe_check(page)
        # and through the navigation: Administration, then the page
        page.goto(home)
        if width == 390:  # the header tucks later links under "More"
            more = page.get_by_role("button", name="More")
            if more.is_visible():
                more.click()
        page.get_by_role("link", name="Administration", exact=True).click()
        axe_check(page)
        page.locator("#maincontent").get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)


def test_the_back_link_sits_in_a_landmark(page, organisation, axe_check):
    """axe's `region` rule (moderate, so not in axe_check's serious/critical list): no
    content outside a landmark on a page with a back link, at 390 px."""
    page.set_viewport_size({"width": 390, "height": 900})
    sign_in(page, "ada.admin")
    page.goto("/admin/people/new")
    back = page.get_by_role("navigation", name="Back").get_by_role("link", name="Back to people")
    expect(back).to_be_visible()
    axe_check(page)
    results = axe_check.axe.run(page).response
    region = [v for v in results["violations"] if v["id"] == "region"]
    assert not region, [n["target"] for v in region for n in v["nodes"]]
    assert page.get_by_role("navigation", name="Back").count() == 1
    screenshot(page, "back-link-390")
