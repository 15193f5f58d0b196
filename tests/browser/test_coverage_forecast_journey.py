"""Manager on the demo team: the rule's answer with its reasons, then the forecast."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.coverage import conftest as coverage_fixtures

PASSWORD = coverage_fixtures.DEMO_PASSWORD
demo = coverage_fixtures.demo  # the demo organisation, as the coverage tests build it


def test_manager_reads_demo_coverage_and_the_forecast(page, demo, axe_check):
    page.goto("/login")
    page.get_by_label("Email address").fill("morgan.reid@demo.nhs.uk")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("body")).to_contain_text("at risk")
    axe_check(page)
    page.get_by_role("link", name="Team coverage", exact=True).click()
    axe_check(page)
    screenshot(page, "coverage-demo")

    # 4b is met by its skills; 3a.s4 is a skill gap with its reason, named by its text;
    # element 2 not met
    expect(page.locator('[data-status="met"]').first).to_be_visible()
    assert page.locator("#gap-4b").count() == 0
    skill_gap = page.locator("#gap-skill-3a-s4")
    expect(skill_gap).to_contain_text(
        "“Previous record of influencing cultural or strategic change” is held by nobody"
    )
    expect(page.locator("#coverage-headline")).to_contain_text("core values:")
    expect(skill_gap).to_contain_text("Closest to holding it")
    expect(page.locator("#gap-2")).to_contain_text(
        "Effective communication: 2 of 8 have not yet met it"
    )
    expect(page.locator("#coverage-rule")).to_contain_text("every skill of it is held")

    for days in (30, 60, 90):
        page.get_by_role("link", name=f"in {days} days").click()
        expect(page.locator("#forecast-changes")).to_contain_text("What would change by")
        expect(page.locator(".nhsuk-caption-l")).to_contain_text("forecast")
        axe_check(page)
    screenshot(page, "coverage-forecast-90")

    page.get_by_role("link", name="today", exact=True).click()
    page.get_by_label("If this team member left").select_option(label="Ben Hughes")
    page.get_by_role("button", name="Show coverage without them").click()
    expect(page.locator("body")).to_contain_text("As if Ben Hughes had left")
    expect(page.locator("#forecast-changes")).to_contain_text("if Ben Hughes left")
    axe_check(page)
    screenshot(page, "coverage-what-if-1280")
    page.set_viewport_size({"width": 390, "height": 900})
    screenshot(page, "coverage-what-if-390")
    page.get_by_role("link", name="today", exact=True).click()
    expect(page.locator("body")).not_to_contain_text("As if Ben Hughes had left")
    axe_check(page)
    screenshot(page, "coverage-demo-390")
    assert not page.console_errors
