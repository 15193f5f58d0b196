"""Recruitment end to end in Chromium: vacancy → shortlisting → panel → agreement → ranking."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from competency_app.accounts.models import Role
from tests.browser.conftest import screenshot
from tests.browser.test_framework_and_accounts import sign_in, sign_out
from tests.factories import commit, make_team, make_user


@pytest.fixture
def recruiting_team(app, framework):
    with app.app_context():
        north = make_team("north", "North keyworking team")
        make_user("rae.recruit", Role.RECRUITER, team=north)
        make_user("amy.panel", Role.SUPERVISOR, team=north)
        make_user("bob.panel", Role.MANAGER, team=north)
        commit()


def check_all(page, value: str) -> None:
    for radio in page.locator(f'input[type="radio"][value="{value}"]').all():
        radio.check()


def test_recruitment_journey(page, recruiting_team, axe_check):
    sign_in(page, "rae.recruit")
    page.get_by_role("link", name="Recruitment").first.click()
    axe_check(page)
    page.get_by_role("link", name="Create a vacancy").click()
    axe_check(page)
    page.get_by_label("Team").select_option(label="North keyworking team")
    page.get_by_label("Closing date").fill((date.today() + timedelta(days=21)).isoformat())
    for group in ("shortlisters", "interviewers"):
        fieldset = page.locator(f"fieldset:has(input[name='{group}'])")
        fieldset.get_by_label("Amy Panel").check()
        fieldset.get_by_label("Bob Panel").check()
    page.get_by_label("Chair of the interview panel").select_option(label="Bob Panel")
    page.get_by_role("button", name="Create vacancy").click()
    expect(page.locator("body")).to_contain_text("Vacancy created")
    axe_check(page)
    page.get_by_label("Candidate name").fill("Cara Candidate")
    page.get_by_role("button", name="Add candidate").click()
    expect(page.locator("body")).to_contain_text("V1-C001")
    vacancy_url = page.url
    sign_out(page)

    for local in ("amy.panel", "bob.panel"):
        sign_in(page, local)
        page.goto(vacancy_url)
        page.get_by_role("link", name="Shortlist V1-C001").click()
        axe_check(page)
        check_all(page, "met")
        check_all(page, "3")
        page.get_by_role("button", name="Save shortlisting marks").click()
        expect(page.locator("body")).to_contain_text("Shortlisting marks for V1-C001 saved")
        sign_out(page)

    for local, score in (("amy.panel", "4"), ("bob.panel", "5")):
        sign_in(page, local)
        page.goto(vacancy_url)
        expect(page.locator("body")).to_contain_text("Goes forward")
        page.get_by_role("link", name="Interview scores for V1-C001").click()
        axe_check(page)
        assert "Amy Panel:" not in page.content()  # nobody else's scores before submitting
        check_all(page, score)
        page.get_by_role("button", name="Submit my scores").click()
        expect(page.locator("body")).to_contain_text("You have submitted your scores")
        axe_check(page)
        if local == "bob.panel":  # the chair sees both, with the spread, and agrees
            expect(page.locator("body")).to_contain_text("Amy Panel: 4")
            expect(page.locator("body")).to_contain_text("4–5")
            for radio in page.locator('input[type="radio"][name^="a-"][value="4"]').all():
                radio.check()
            page.get_by_role("button", name="Save agreed scores", exact=True).click()
            expect(page.locator("body")).to_contain_text("Appointable")
            axe_check(page)
            screenshot(page, "recruitment-ranking")
        sign_out(page)

    sign_in(page, "rae.recruit")
    page.goto(vacancy_url)
    page.get_by_role("link", name="Ranking and verdicts").click()
    expect(page.locator("tbody")).to_contain_text("Cara Candidate")
    gap_cell = page.locator("tbody tr td").nth(5).inner_text()
    assert gap_cell != "None"  # an empty team: every element is a gap the candidate fills
    page.goto(vacancy_url)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the workbook for HR (.xlsx)").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    assert not page.console_errors
