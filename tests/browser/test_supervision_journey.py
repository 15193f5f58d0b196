"""Supervision in Chromium, with an axe scan of every page: the supervisor books a
session, the keyworker's home shows the due date, the supervisor validates, records the
discussion (a note per prompt of the framework file, kept when one is refused) and the
agreed actions and assigns a module on the session's record, which prints on A4; the
keyworker then sees the module. The supervisor books a group session for two people, and
their home shows who is overdue for supervision."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from competency_app.accounts.models import Role, User
from competency_app.clock import today
from competency_app.common.dates import uk_date
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.supervision.services import schedule_sessions
from tests.browser.conftest import ARTIFACTS, screenshot
from tests.browser.test_framework_and_accounts import sign_in, sign_out
from tests.factories import commit, make_team, make_user
from tests.supervision.helpers import submitted


@pytest.fixture
def team(app, framework):
    with app.app_context():
        north = make_team("north", "North keyworking team")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=north)
        make_user("pat.prac", Role.PRACTITIONER, team=north, supervisor=supervisor)
        make_user("kim.prac", Role.PRACTITIONER, team=north, supervisor=supervisor)
        make_user("max.manager", Role.MANAGER, team=north)
        commit()
        module = current_version().modules[0]
        return module.key, module.title


def current_prompts(app) -> list:
    with app.app_context():
        return list(current_version().settings.supervision.prompts)


def held_kim_weeks_ago(app, weeks: int) -> None:
    """A one-to-one session Kim had `weeks` weeks ago (booked then, through the service)."""
    with app.app_context():
        held = today() - timedelta(weeks=weeks)
        app.config["FROZEN_NOW"] = datetime.combine(held - timedelta(days=1), time(9), UTC)
        try:
            kim = db.session.scalar(select(User).where(User.email.startswith("kim.prac@")))
            sue = db.session.scalar(select(User).where(User.email.startswith("sue.super@")))
            assert kim is not None and sue is not None
            schedule_sessions(kim, sue, held, time(10, 0))
            commit()
        finally:
            app.config.pop("FROZEN_NOW", None)


def test_supervisor_books_validates_and_records_the_session(app, page, team, axe_check):
    module_key, module_title = team
    with app.app_context():
        session_day = today() + timedelta(days=10)
        due_day = session_day - timedelta(days=7)
        assigned_due = today() + timedelta(days=30)

    # the supervisor books a session from the supervision overview
    sign_in(page, "sue.super")
    page.get_by_role("link", name="All supervision sessions and due dates").click()
    axe_check(page)
    page.get_by_role("link", name="Pat Prac").first.click()
    axe_check(page)
    page.get_by_role("link", name="Schedule supervision").click()
    axe_check(page)
    # a date in the past is refused and everything typed is kept
    page.get_by_label("Date").fill((today() - timedelta(days=2)).isoformat())
    page.get_by_label("Start time (UK time)").fill("14:00")
    page.get_by_label("Place (optional)").fill("Room 4, Riverside")
    page.get_by_role("button", name="Book supervision").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("must start in the future")
    assert page.get_by_label("Place (optional)").input_value() == "Room 4, Riverside"
    axe_check(page)
    page.get_by_label("Date").fill(session_day.isoformat())
    page.get_by_label("Repeat every how many weeks (optional)").fill("4")
    page.get_by_label("How many sessions to book").fill("3")
    page.get_by_role("button", name="Book supervision").click()
    expect(page.locator(".app-flash")).to_contain_text("3 sessions, every 4 weeks")
    axe_check(page)
    sign_out(page)

    # the keyworker's home says when the session is and when the self-assessment is due
    sign_in(page, "pat.prac")
    expect(page.locator("body")).to_contain_text(
        f"Your self-assessment is for that session: it is due by {uk_date(due_day)}."
    )
    expect(page.locator("body")).to_contain_text(f"{uk_date(session_day)} at 2:00pm")
    axe_check(page)
    screenshot(page, "supervision-keyworker-home")
    sign_out(page)
    submitted(app, "pat.prac")

    # the supervisor validates on the validation page, changing one level with a comment
    sign_in(page, "sue.super")
    expect(page.locator("body")).to_contain_text("Pat Prac: self-assessment 1 waiting")
    axe_check(page)
    page.get_by_role("link", name="Supervision", exact=True).first.click()
    axe_check(page)
    page.get_by_role("link", name="Pat Prac").click()
    validation_url = page.url
    expect(page.locator(".app-reflections")).to_contain_text("My reflection on")
    page.locator("tbody a").first.click()
    axe_check(page)
    page.get_by_label(re.compile(r"level for 1a skill 1: ")).select_option("1")
    page.get_by_label(re.compile(r"Comment on 1a skill 1: ")).fill(
        "Needs more evidence of advice to families"
    )
    while "/values" not in page.url:
        with page.expect_navigation():
            page.get_by_role("button", name=re.compile(r"^Save and continue")).click()
    axe_check(page)
    groups = page.locator(".app-skill")
    for n in range(groups.count()):
        groups.nth(n).get_by_role(
            "radio", name="Discuss further" if n == 0 else "Evidenced"
        ).check()
    groups.nth(0).locator("textarea").fill("Talk through a recent example together")
    page.get_by_role("button", name="Save the review").click()
    page.wait_for_url(validation_url)
    axe_check(page)
    page.get_by_role("button", name="Sign off and validate").click()
    expect(page.locator("body")).to_contain_text("assessment is validated")

    # on the session's record: agreed actions and a module with a due date
    page.goto("/")
    page.get_by_role("link", name=re.compile(r"Pat Prac: supervision on")).first.click()
    page.wait_for_url(re.compile(r"/supervision/sessions/\d+$"))
    axe_check(page)
    # a section per prompt of the framework file; a note too long is refused, all kept
    independence = page.get_by_label("Notes on Promoting independence in parents and young")
    independence.fill("Mum now books the wheelchair service herself.")
    page.get_by_label("Notes on Boundaries and over-dependence").fill(
        "Agreed to answer weekend texts on Monday."
    )
    page.get_by_label("Notes on Workload").fill("w" * 5001)
    page.get_by_label("Agreed actions").fill("Shadow a colleague on two home visits.")
    page.get_by_role("button", name="Save the discussion and agreed actions").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Keep the notes on “Workload” to 5000 characters"
    )
    assert independence.input_value() == "Mum now books the wheelchair service herself."
    assert page.get_by_label("Agreed actions").input_value().startswith("Shadow a colleague")
    axe_check(page)
    page.get_by_label("Notes on Workload").fill("Caseload of 14 families: manageable.")
    page.get_by_role("button", name="Save the discussion and agreed actions").click()
    expect(page.locator(".app-flash")).to_contain_text("Discussion and agreed actions saved")
    discussion = page.locator(".app-record__prompt")
    expect(discussion).to_have_count(len(current_prompts(app)))
    expect(discussion.filter(has_text="Boundaries and over-dependence")).to_contain_text(
        "Agreed to answer weekend texts on Monday."
    )
    expect(discussion.filter(has_text="Urgent matters")).to_contain_text("Nothing recorded.")
    page.get_by_label("Module to assign").select_option(module_key)
    page.get_by_label("Due by").fill(assigned_due.isoformat())
    page.get_by_role("button", name="Assign the module").click()
    expect(page.locator(".app-flash")).to_contain_text("Module assigned")
    axe_check(page)
    body = page.locator("main")
    expect(body).to_contain_text("Self-assessment 1 was validated on")
    expect(body).to_contain_text("2 Competent")
    expect(body).to_contain_text("1 Developing")
    expect(body).to_contain_text("Needs more evidence of advice to families")
    expect(body).to_contain_text("Discuss further")
    expect(body).to_contain_text("Talk through a recent example together")
    expect(body).to_contain_text("Shadow a colleague on two home visits.")
    expect(body).to_contain_text(module_title)
    expect(body).to_contain_text(uk_date(assigned_due))
    expect(body).to_contain_text(uk_date(session_day + timedelta(weeks=4)))  # next session
    expect(body).to_contain_text("Signatures")
    screenshot(page, "supervision-record")
    page.set_viewport_size({"width": 390, "height": 844})
    axe_check(page)
    screenshot(page, "supervision-record-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    # printed: A4, no navigation or forms
    page.emulate_media(media="print")
    assert page.locator("form.app-no-print").first.is_hidden()
    assert page.locator("header").first.is_hidden()
    screenshot(page, "supervision-record-print")
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = page.pdf(path=str(ARTIFACTS / "supervision-record.pdf"), format="A4")
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 4, pages
    page.emulate_media(media="screen")
    with page.expect_download(timeout=90_000) as download:  # a busy machine draws slowly
        page.get_by_role("link", name="download it as a PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")
    # the design system's focus style (yellow, no underline) is not a page fault
    page.evaluate("document.activeElement.blur()")
    # on a phone: no page wider than the screen
    page.set_viewport_size({"width": 390, "height": 844})
    axe_check(page)
    page.goto("/supervision/sessions")
    axe_check(page)
    page.set_viewport_size({"width": 1280, "height": 900})

    # a group session for Pat and Kim: one record each
    page.get_by_role("link", name="Book a peer or group session").click()
    axe_check(page)
    page.get_by_role("button", name="Book the session").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Choose at least two people")
    axe_check(page)
    page.get_by_label("Group supervision").check()
    page.get_by_label("Pat Prac").check()
    page.get_by_label("Kim Prac").check()
    page.get_by_label("Date").fill((session_day + timedelta(days=1)).isoformat())
    page.get_by_label("Start time (UK time)").fill("13:00")
    page.get_by_label("Place (optional)").fill("Room 2")
    screenshot(page, "supervision-group-new")
    page.set_viewport_size({"width": 390, "height": 844})
    axe_check(page)
    screenshot(page, "supervision-group-new-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Book the session").click()
    expect(page.locator(".app-flash")).to_contain_text(
        "Group supervision booked for 2 people (Kim Prac, Pat Prac): a record for each."
    )
    axe_check(page)
    sign_out(page)

    # Kim's last supervision was nine weeks ago: over the file's six, an alert on both homes
    held_kim_weeks_ago(app, 9)
    sign_in(page, "sue.super")
    overdue = page.locator(".app-home-items li", has_text="Kim Prac: last supervision")
    expect(overdue).to_contain_text("Supervision overdue")
    expect(overdue).to_contain_text("9 weeks ago")
    expect(page.locator("body")).to_contain_text("1 of 2 supervisees overdue for supervision.")
    axe_check(page)
    screenshot(page, "supervision-home-alert")
    page.set_viewport_size({"width": 390, "height": 844})
    axe_check(page)
    screenshot(page, "supervision-home-alert-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_out(page)
    sign_in(page, "kim.prac")
    expect(page.locator(".app-home-items")).to_contain_text("Your last supervision was 9 weeks ago")
    expect(page.locator(".app-home-items")).to_contain_text("Supervision overdue")
    axe_check(page)
    screenshot(page, "supervision-keyworker-home-alert")
    sign_out(page)

    # the keyworker sees the assigned module
    sign_in(page, "pat.prac")
    expect(page.locator("body")).to_contain_text(
        f"Assigned to you: {module_title}, due by {uk_date(assigned_due)}."
    )
    # once: in the training section, not again under the self-assessment
    expect(page.get_by_text(f"Assigned to you: {module_title}")).to_have_count(1)
    expect(page.get_by_text("assigned to you, the first due")).to_have_count(0)
    axe_check(page)
    assert not page.console_errors
