"""Manager: home → required training → training plan → assign a module (a refusal first);
keyworker: sees it on home and in their development plan. Axe on every page; the
compliance pages at 390 px."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from competency_app.accounts.models import Role
from competency_app.assessments import services
from competency_app.clock import today, utcnow
from competency_app.extensions import db
from competency_app.training.models import ModuleCompletion
from tests.browser.conftest import screenshot
from tests.browser.test_framework_and_accounts import sign_in, sign_out
from tests.factories import commit, make_team, make_user, reflect_on_values


@pytest.fixture
def team_with_training(app, framework):
    """Pat and Kim validated (Kim less), Pat's core training done, Kim's Oliver McGowan
    training overdue (completed more than three years ago)."""
    with app.app_context():
        north = make_team("north", "North keyworking team")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=north)
        make_user("max.manager", Role.MANAGER, team=north)
        make_user("hana.hr", Role.HR)
        people = {}
        for local, level_3a, others in (("pat.prac", 1, 2), ("kim.keyworker", 0, 1)):
            person = make_user(local, Role.PRACTITIONER, team=north, supervisor=supervisor)
            people[local] = person
            assessment = services.start_assessment(person)
            for element in services.elements_of(assessment.framework_version):
                level = level_3a if element.key == "3a" else others
                services.save_element(
                    assessment, person, element, {s.id: (level, "") for s in element.skills}, None
                )
            reflect_on_values(assessment, person)
            services.submit(assessment, person, None)
            services.validate(assessment, supervisor, {}, None)
        for local, key, day in (
            ("pat.prac", "module.cyp-keyworker", today() - timedelta(days=40)),
            ("kim.keyworker", "module.oliver-mcgowan", date(today().year - 4, 1, 15)),
        ):
            db.session.add(
                ModuleCompletion(
                    person_id=people[local].id,
                    module_key=key,
                    completed_on=day,
                    recorded_at=utcnow(),
                    recorded_by_id=people[local].id,
                )
            )
        commit()
        db.session.remove()


def test_manager_assigns_from_the_plan_and_the_keyworker_sees_it(
    page, team_with_training, axe_check
):
    sign_in(page, "max.manager")
    page.wait_for_url("**/")
    expect(page.get_by_text("North keyworking team: 25% compliant; 1 overdue")).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="North keyworking team required training").click()
    expect(page.get_by_role("heading", name="Required training", exact=True)).to_be_visible()
    expect(page.get_by_text("Kim Keyworker").first).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="Team training plan: assign modules").click()
    expect(page.get_by_role("heading", name="North keyworking team: training plan")).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name=re.compile(r"^Assign to Kim Keyworker")).first.click()
    expect(page.get_by_role("heading", name="Assign training")).to_be_visible()
    expect(page.get_by_label("Keyworker", exact=True)).to_have_value(re.compile(r"\d+"))
    axe_check(page)
    module = page.get_by_label("Module", exact=True).evaluate(
        "select => select.options[select.selectedIndex].text"
    )
    # a refusal first: no date; the form comes back with what was typed
    page.get_by_label("Note for the keyworker (optional)").fill("Before your review, please")
    page.get_by_role("button", name="Assign module").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.get_by_label("Note for the keyworker (optional)")).to_have_value(
        "Before your review, please"
    )
    axe_check(page)
    due = today() + timedelta(days=28)
    page.get_by_label("Due by").fill(due.isoformat())
    page.get_by_role("button", name="Assign module").click()
    uk_due = f"{due.day} {due:%B %Y}"
    expect(page.get_by_text(f"Module assigned to Kim Keyworker, due {uk_due}.")).to_be_visible()
    expect(page.get_by_text("Assigned training: 1 assigned, 0 completed")).to_be_visible()
    axe_check(page)
    screenshot(page, "training-plan-assigned")
    sign_out(page)

    sign_in(page, "kim.keyworker")
    page.wait_for_url("**/")
    expect(page.get_by_text(f"Assigned to you: {module}, due by {uk_due}.")).to_be_visible()
    expect(page.get_by_text("Required training overdue: The Oliver McGowan")).to_be_visible()
    axe_check(page)
    screenshot(page, "training-keyworker-home")
    page.get_by_role("link", name="Your assigned and required training").click()
    expect(page.get_by_role("heading", name="Assigned training")).to_be_visible()
    expect(page.get_by_text(f"due by {uk_due}")).to_be_visible()
    expect(page.get_by_text("Note: Before your review, please")).to_be_visible()
    axe_check(page)
    screenshot(page, "training-development-plan")
    assert page.console_errors == []


def test_compliance_pages_at_390_px(browser, live_server, team_with_training, axe_check):
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, "max.manager")
        page.wait_for_url("**/")
        page.goto("/teams/north/training")
        expect(page.get_by_role("heading", name="Required training", exact=True)).to_be_visible()
        axe_check(page)  # also: no wider than the screen
        screenshot(page, "training-compliance-390")
        page.goto("/teams/north/training-plan")
        axe_check(page)
        sign_out(page)
        sign_in(page, "hana.hr")
        page.wait_for_url("**/")
        page.goto("/training/compliance")
        expect(page.get_by_text("25% compliant")).to_be_visible()
        axe_check(page)
        screenshot(page, "training-organisation-390")
    finally:
        context.close()
