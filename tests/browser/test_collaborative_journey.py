"""The demo's collaborative in a browser: the trust's South team manager sees the charity's
seconded keyworker in the team's coverage; the charity's HR cannot open the trust's people
but can open their own secondee's profile, and adds a local course to the catalogue (a
refused form first, kept as typed); the council's manager reads their own team's coverage
and not the trust's. Every page is scanned by axe at 1,280 and 390 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from competency_app.accounts import services as accounts
from competency_app.extensions import db
from competency_app.ui.demo_region import CHARITY, COUNCIL, SECONDEE, email_of
from tests.browser.conftest import screenshot
from tests.coverage import conftest as coverage_fixtures

PASSWORD = coverage_fixtures.DEMO_PASSWORD
demo = coverage_fixtures.demo  # the demo's collaborative, as `flask demo` builds it


@pytest.fixture
def people(app, demo):
    with app.app_context():
        ids = {
            "secondee": accounts.user_by_email(email_of(SECONDEE[1], CHARITY)).id,
            "trust_keyworker": accounts.user_by_email("kiran.shah@demo.nhs.uk").id,
        }
        db.session.remove()
    return ids


def _sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")


def _both_widths(page, axe_check, name: str | None = None) -> None:
    """The axe scan at 1,280 px then 390 px (a screenshot of each when named)."""
    page.set_viewport_size({"width": 1280, "height": 900})
    axe_check(page)
    if name:
        screenshot(page, f"{name}-1280")
    page.set_viewport_size({"width": 390, "height": 900})
    axe_check(page)
    if name:
        screenshot(page, f"{name}-390")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_trust_manager_sees_the_secondee_and_charity_hr_only_their_own(
    page, browser, live_server, people, axe_check
):
    _sign_in(page, "olivia.grant@demo.nhs.uk")
    _both_widths(page, axe_check)
    page.goto("/teams/south-keyworkers/coverage")
    expect(page.locator("h1")).to_contain_text("South keyworking team")
    expect(page.locator("main")).to_contain_text(SECONDEE[0])
    _both_widths(page, axe_check, "collaborative-south-coverage")
    assert not page.console_errors

    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    hr = context.new_page()
    hr.set_default_timeout(10_000)
    _sign_in(hr, email_of("wendy.clarke", CHARITY))
    _both_widths(hr, axe_check)
    trust_person = people["trust_keyworker"]
    for path in (f"/admin/people/{trust_person}", f"/people/{trust_person}/profile"):
        response = hr.goto(path)
        assert response is not None and response.status in (403, 404), (path, response.status)
        expect(hr.locator("main")).not_to_contain_text("Kiran Shah")
        _both_widths(hr, axe_check)
    response = hr.goto(f"/people/{people['secondee']}/profile")
    assert response is not None and response.status == 200
    expect(hr.locator("h1")).to_contain_text(SECONDEE[0])
    _both_widths(hr, axe_check, "collaborative-secondee-profile")

    # a local course: refused first (no element chosen), kept as typed, then added
    hr.goto("/training/local-courses")
    _both_widths(hr, axe_check)
    hr.get_by_label("Title").fill("Working with fathers")
    hr.get_by_label("What it covers").fill("A half-day workshop run by Family Links.")
    hr.get_by_label("How long it takes, in minutes (optional)").fill("180")
    hr.get_by_role("button", name="Add the course").click()
    expect(hr.locator(".nhsuk-error-summary")).to_contain_text(
        "Choose at least one element or skill"
    )
    expect(hr.get_by_label("Title")).to_have_value("Working with fathers")
    _both_widths(hr, axe_check)
    hr.locator("#develops").check()
    hr.get_by_label("Share with the collaborative", exact=False).check()
    hr.get_by_role("button", name="Add the course").click()
    expect(hr.locator("main")).to_contain_text("Working with fathers is in")
    expect(hr.locator("main")).to_contain_text("Shared with the collaborative")
    _both_widths(hr, axe_check, "collaborative-local-courses")
    context.close()

    # shared: the trust's manager sees it in the catalogue
    page.goto("/framework/elearning#local-courses")
    expect(page.locator("#local-courses")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Working with fathers")
    _both_widths(page, axe_check)
    assert not page.console_errors


def test_council_manager_reads_their_teams_varied_coverage(page, demo, axe_check):
    _sign_in(page, email_of("nadia.hussain", COUNCIL))
    page.goto("/teams/northshire-keyworkers/coverage")
    expect(page.locator("h1")).to_contain_text("Northshire council keyworking team")
    for name in ("Ruth Cole", "Simon Ward", "Tara Singh", "Umar Ali", "Vicky Jones"):
        expect(page.locator("main")).to_contain_text(name)
    expect(page.locator("#coverage-headline")).to_contain_text("elements met")
    _both_widths(page, axe_check, "collaborative-council-coverage")
    assert not page.console_errors
    response = page.goto("/teams/south-keyworkers/coverage")  # another organisation's team
    assert response is not None and response.status in (403, 404)
    expect(page.locator("main")).not_to_contain_text("Kiran Shah")
    _both_widths(page, axe_check)
