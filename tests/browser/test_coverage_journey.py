"""Manager: coverage → gap → module and suggested member; practitioner records completion."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role
from competency_app.assessments import services
from competency_app.extensions import db
from tests.browser.conftest import screenshot
from tests.browser.test_framework_and_accounts import sign_in, sign_out
from tests.factories import commit, make_team, make_user, reflect_on_values


@pytest.fixture
def team_with_gaps(app, framework):
    """Two keyworkers validated: Pat holds everything but 3a (Developing there), Kim less."""
    with app.app_context():
        north = make_team("north", "North keyworking team")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=north)
        make_user("max.manager", Role.MANAGER, team=north)
        for local, level_3a, others in (("pat.prac", 1, 2), ("kim.keyworker", 0, 1)):
            person = make_user(local, Role.PRACTITIONER, team=north, supervisor=supervisor)
            assessment = services.start_assessment(person)
            for element in services.elements_of(assessment.framework_version):
                level = level_3a if element.key == "3a" else others
                services.save_element(
                    assessment, person, element, {s.id: (level, "") for s in element.skills}, None
                )
            reflect_on_values(assessment, person)
            services.submit(assessment, person, None)
            services.validate(assessment, supervisor, {}, None)
        commit()
        db.session.remove()


def test_manager_follows_a_gap_to_training_and_a_member(page, team_with_gaps, axe_check, app):
    sign_in(page, "max.manager")
    page.get_by_role("link", name="Team coverage", exact=True).click()
    axe_check(page)
    screenshot(page, "coverage")
    gap = page.locator("#gap-3a")
    assert "Gap" in gap.inner_text()
    gap.get_by_text("Training that develops it").click()
    assert "keyworker e-learning" in gap.inner_text()
    # the member closest to competence: Pat (Developing in 3a) before Kim
    members = gap.locator(".app-candidates a").all_inner_texts()
    assert members[0] == "Pat Prac"
    page.get_by_role("link", name="3a Challenging and influencing").first.click()
    axe_check(page)
    page.go_back()
    page.get_by_role("link", name="Team training plan").click()
    axe_check(page)
    expect(page.locator("body")).to_contain_text("Addresses")
    page.go_back()
    page.locator("#gap-3a").get_by_role("link", name="Pat Prac").click()
    axe_check(page)
    expect(page.locator("body")).to_contain_text("Development plan")
    assert page.get_by_role("button", name="Record completion").count() == 0  # not theirs
    sign_out(page)

    sign_in(page, "pat.prac")
    page.get_by_role("link", name="Development").first.click()
    axe_check(page)
    page.get_by_label("Module").select_option(
        label="Children and young people keyworker e-learning"
    )
    page.get_by_label("Date completed").fill("2026-11-02")
    page.get_by_label("Certificate reference (optional)").fill("ELFH-12345")
    page.get_by_role("button", name="Record completion").click()
    expect(page.locator("body")).to_contain_text("a course alone does not count as competence")
    expect(page.locator("body")).to_contain_text("ELFH-12345")
    axe_check(page)
    screenshot(page, "development-plan")
    with app.app_context():
        person = accounts.user_by_email("pat.prac@example.nhs.uk")
        assert services.current_ratings(person)["3a.s1"].level == 1  # unchanged
    assert not page.console_errors
