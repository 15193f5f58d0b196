"""A whole vacancy in Chromium, axe on every page: slots and a lay panel member,
moderation, a refused submission that keeps every score, the lay member's invitation and
scoring, agreement, readable reasons, an offer and the appointment."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role
from competency_app.assessments.models import Assessment
from competency_app.common.dates import add_months
from competency_app.extensions import db
from competency_app.training.models import TrainingAssignment
from tests.browser.conftest import screenshot
from tests.browser.test_framework_and_accounts import sign_in, sign_out
from tests.factories import commit, make_team, make_user

LAY_PASSWORD = "a lay member's passphrase 2026"


@pytest.fixture
def recruiting_team(app, framework):
    with app.app_context():
        north = make_team("north", "North keyworking team")
        make_user("rae.recruit", Role.RECRUITER, team=north)
        make_user("amy.panel", Role.SUPERVISOR, team=north)
        make_user("bob.panel", Role.MANAGER, team=north)
        commit()


def _check(page, selector: str, value: str, skip: int | None = None) -> int:
    radios = page.locator(f'input[type="radio"]{selector}[value="{value}"]').all()
    for index, radio in enumerate(radios):
        if index != skip:
            radio.check()
    return len(radios)


def _narrow(page, axe_check) -> None:
    """The page at 390 px: axe again, and nothing wider than the screen."""
    page.set_viewport_size({"width": 390, "height": 844})
    axe_check(page)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_whole_vacancy(app, page, recruiting_team, axe_check):
    # the recruiter: a vacancy, two candidates, a slot and a lay panel member
    sign_in(page, "rae.recruit")
    axe_check(page)
    page.get_by_role("link", name="Recruitment").first.click()
    page.get_by_role("link", name="Create a vacancy").click()
    page.get_by_role("button", name="Create vacancy").click()  # everything missing
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    summary = page.locator(".nhsuk-error-summary a").all_inner_texts()
    assert summary[0].startswith("Choose the team") and "chair" in summary[-1]
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
    vacancy_url = page.url
    for name in ("Cara Candidate", "Dan Candidate"):
        page.get_by_label("Candidate name").fill(name)
        page.get_by_role("button", name="Add candidate").click()
    expect(page.locator("body")).to_contain_text("V1-C002")
    page.get_by_role("link", name="Set the interview slot for V1-C001").click()
    axe_check(page)
    page.get_by_label("Interview date").fill((date.today() + timedelta(days=28)).isoformat())
    page.get_by_label("Start time").fill("14:30")
    page.get_by_label("Place or video link").fill("https://video.example.nhs.uk/panel-1")
    page.get_by_role("button", name="Save interview slot").click()
    expect(page.locator("body")).to_contain_text("2:30pm")
    page.get_by_label("Panel member's full name").fill("Lee Lay")
    page.get_by_label("Panel member's email").fill("lee.lay@example.org")
    page.get_by_role("button", name="Invite to the interview panel").click()
    expect(page.locator("body")).to_contain_text("Lee Lay is invited")
    axe_check(page)
    invitation = re.search(r"https?://\S+/set-password/[A-Za-z0-9_-]+", page.content()).group(0)
    screenshot(page, "recruitment-vacancy-invited")
    sign_out(page)

    # two shortlisters disagree on one essential criterion
    for local, first in (("amy.panel", "met"), ("bob.panel", "not-met")):
        sign_in(page, local)
        page.goto(vacancy_url)
        page.get_by_role("link", name="Shortlist V1-C001").click()
        page.get_by_role("button", name="Save shortlisting marks").click()  # empty: refused
        expect(page.locator(".nhsuk-error-summary")).to_contain_text("Choose met or not met")
        axe_check(page)
        _check(page, "", "met")
        _check(page, "", "3")
        page.locator('input[type="radio"][value="met"]').first.evaluate("r => r.checked = false")
        page.locator(f'input[type="radio"][value="{first}"]').first.check()
        page.get_by_role("button", name="Save shortlisting marks").click()
        expect(page.locator("body")).to_contain_text("Shortlisting marks for V1-C001 saved")
        if local == "amy.panel":
            sign_out(page)
    # the chair moderates, with a reason; the candidate goes forward
    expect(page.locator("body")).to_contain_text("Shortlisters disagree")
    assert "spec.keyworker" not in page.locator("main").inner_text()
    page.get_by_role("link", name="Moderate V1-C001").click()
    axe_check(page)
    page.get_by_role("button", name="Save moderated decisions").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Give the reason")
    page.locator('input[type="radio"][value="met"]').first.check()
    page.locator("textarea").first.fill("Two years in a similar post, set out in the statement.")
    page.get_by_role("button", name="Save moderated decisions").click()
    expect(page.locator("body")).to_contain_text("Moderated decisions for V1-C001 saved")
    expect(page.locator("body")).to_contain_text("Goes forward")
    screenshot(page, "recruitment-moderated")
    sign_out(page)

    sign_in(page, "rae.recruit")
    page.goto(vacancy_url)
    page.get_by_role("button", name="Move to interviewing").click()
    expect(page.locator("body")).to_contain_text("now at the stage “Interviewing”")
    sign_out(page)

    # a staff interviewer submits with one criterion empty: everything typed comes back
    sign_in(page, "amy.panel")
    page.goto(vacancy_url)
    page.get_by_role("link", name="Interview scores for V1-C001").click()
    page.wait_for_url(re.compile(r"/interview$"))  # the whole form before counting its radios
    axe_check(page)
    count = _check(page, '[name^="s-"]', "4", skip=2)
    page.locator("textarea").first.fill("Warm, clear examples")
    page.get_by_role("button", name="Submit my scores").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("before you submit")
    assert summary.locator("a").count() == 1
    assert page.locator('input[type="radio"][name^="s-"]:checked').count() == count - 1
    expect(page.locator("textarea").first).to_have_value("Warm, clear examples")
    axe_check(page)
    screenshot(page, "recruitment-interview-missing-one")
    _check(page, '[name^="s-"]', "4")
    page.get_by_role("button", name="Submit my scores").click()
    expect(page.locator("body")).to_contain_text("You have submitted your scores")
    sign_out(page)

    # the lay member: the invitation, their vacancy only, their own scores first
    page.goto(invitation)
    axe_check(page)
    page.get_by_label("New password", exact=True).fill(LAY_PASSWORD)
    page.get_by_label("Confirm new password").fill(LAY_PASSWORD)
    page.get_by_role("button", name=re.compile("password", re.I)).click()
    # signed in by setting the password: straight to their panel work, no second sign-in
    expect(page.locator(".app-flash")).to_contain_text("you are signed in")
    expect(page.locator("body")).to_contain_text("score V1-C001")
    axe_check(page)
    screenshot(page, "recruitment-lay-home")
    page.goto(vacancy_url)
    expect(page.locator("main")).not_to_contain_text("Dan Candidate")
    axe_check(page)
    page.get_by_role("link", name="Interview scores for V1-C001").click()
    page.wait_for_url(re.compile(r"/interview$"))  # the whole form before counting its radios
    expect(page.locator("main")).to_contain_text("video link")
    assert "Amy Panel" not in page.content()  # nobody else's scores before submitting
    _check(page, '[name^="s-"]', "3")
    page.get_by_role("button", name="Submit my scores").click()
    expect(page.locator("body")).to_contain_text("Amy Panel: 4")
    axe_check(page)
    response = page.goto(vacancy_url.rstrip("/") + "/ranking")
    assert response.status == 403
    page.console_errors.clear()  # the refused page, asked for on purpose
    page.goto("/")
    sign_out(page)

    # the chair scores, agrees (first a 2 on an essential criterion: a readable reason)
    sign_in(page, "bob.panel")
    page.goto(vacancy_url)
    page.get_by_role("link", name="Interview scores for V1-C001").click()
    page.wait_for_url(re.compile(r"/interview$"))  # the whole form before counting its radios
    _check(page, '[name^="s-"]', "4")
    page.get_by_role("button", name="Submit my scores").click()
    expect(page.locator("body")).to_contain_text("Lee Lay: 3")
    _check(page, '[name^="a-"]', "4")
    page.locator('input[type="radio"][name^="a-"][value="2"]').first.check()
    page.get_by_role("button", name="Save agreed scores", exact=True).click()
    expect(page.locator("body")).to_contain_text("Not appointable")
    expect(page.locator("main")).to_contain_text("essential criterion scored 2 (needs 3)")
    assert "spec.keyworker" not in page.locator("main").inner_text()
    axe_check(page)
    _narrow(page, axe_check)
    screenshot(page, "recruitment-ranking-reasons")
    page.goto(vacancy_url)
    page.get_by_role("link", name="Panel scores for V1-C001").click()
    page.wait_for_url(re.compile(r"/interview$"))  # the whole form before checking its radios
    _check(page, '[name^="a-"]', "4")
    page.get_by_role("button", name="Save agreed scores", exact=True).click()
    # the verdict's own tag ("Not appointable" also contains the word)
    expect(page.locator(".nhsuk-tag--green", has_text="Appointable")).to_have_count(1)
    page.goto(vacancy_url)
    page.get_by_role("button", name="Move to decided").click()
    expect(page.locator("body")).to_contain_text("now at the stage “Decided”")
    sign_out(page)

    # the recruiter offers and appoints
    sign_in(page, "rae.recruit")
    page.goto(vacancy_url)
    page.get_by_role("link", name="Ranking and verdicts").click()
    page.wait_for_url("**/ranking", timeout=30_000)  # the ranking computes team coverage
    page.get_by_role("button", name="Make an offer to V1-C001").click(timeout=30_000)
    expect(page.locator("body")).to_contain_text("Conditional offer made to V1-C001")
    axe_check(page)
    page.get_by_role("link", name="Pre-employment checks and appointing V1-C001").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Conditional offer to V1-C001")
    # appointing waits for the checks: the button is disabled and says why
    appoint = page.get_by_role("button", name="Appoint V1-C001")
    expect(appoint).to_be_disabled()
    expect(page.locator("#appoint-waiting")).to_contain_text("Enhanced DBS check")
    axe_check(page)
    _narrow(page, axe_check)
    # a waiver without its reason is refused, keeping what was typed
    today_iso = date.today().isoformat()
    page.locator("#occupational-health-outcome-3").check()  # the third radio: Waived
    page.locator("#occupational-health-checked_on").fill(today_iso)
    page.get_by_role("button", name="Save: Occupational health clearance").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Give the reason for waiving the check"
    )
    expect(page.locator("#occupational-health-checked_on")).to_have_value(today_iso)
    axe_check(page)
    page.locator("#occupational-health-waiver_reason").fill("Cleared by occupational health in May")
    page.get_by_role("button", name="Save: Occupational health clearance").click()
    expect(page.locator("body")).to_contain_text("1 of 4 checks satisfactory or waived")
    for check_id, label in (
        ("dbs-enhanced", "Enhanced DBS check with children's and adults' barred lists"),
        ("references", "Two satisfactory references"),
    ):
        page.locator(f"#{check_id}-outcome").check()  # the first radio: Satisfactory
        page.locator(f"#{check_id}-checked_on").fill(today_iso)
        page.get_by_role("button", name=f"Save: {label}").click()
        expect(page.locator("body")).to_contain_text("outcome recorded for V1-C001")
    expect(page.get_by_role("button", name="Appoint V1-C001")).to_be_disabled()
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "recruitment-conditional-offer")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "recruitment-conditional-offer-390")
    axe_check(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#right-to-work-outcome").check()
    page.locator("#right-to-work-checked_on").fill(today_iso)
    page.get_by_role("button", name="Save: Right to work in the UK").click()
    expect(page.locator("body")).to_contain_text("4 of 4 checks satisfactory or waived")
    axe_check(page)
    page.get_by_role("button", name="Appoint V1-C001").click()
    axe_check(page)
    page.get_by_label("Work email").fill("cara.candidate@example.nhs.uk")
    page.get_by_label("Start date").fill((date.today() + timedelta(days=42)).isoformat())
    page.get_by_label("Supervisor").select_option(label="Amy Panel")
    page.get_by_role("button", name="Appoint and create the staff record").click()
    expect(page.locator("body")).to_contain_text("V1-C001 appointed")
    expect(page.locator("body")).to_contain_text("Priority training")
    axe_check(page)
    _narrow(page, axe_check)
    screenshot(page, "recruitment-appointed")
    assert page.locator("main li").count() >= 3  # start date, assessment, modules
    with app.app_context():
        person = accounts.user_by_email("cara.candidate@example.nhs.uk")
        assert person is not None and person.role_set == {Role.PRACTITIONER}
        assert accounts.supervisor_of(person).name == "Amy Panel"
        draft = db.session.scalar(select(Assessment).where(Assessment.person_id == person.id))
        assert draft is not None and draft.status.editable
        # the priority training waits for the new starter, assigned by the recruiter
        assigned = list(
            db.session.scalars(
                select(TrainingAssignment).where(TrainingAssignment.person_id == person.id)
            )
        )
        assert assigned and all(a.element_key for a in assigned)
        assert {a.assigned_by.email for a in assigned} == {"rae.recruit@example.nhs.uk"}
        start = date.today() + timedelta(days=42)
        assert {a.due_on for a in assigned} == {add_months(start, 3)}
        db.session.remove()
    assert not page.console_errors
