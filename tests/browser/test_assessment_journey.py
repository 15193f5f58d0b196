"""The whole self-assessment journey in Chromium, with an axe scan of every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from competency_app.accounts.models import Role
from tests.browser.conftest import screenshot
from tests.browser.test_framework_and_accounts import sign_in, sign_out
from tests.factories import commit, make_team, make_user


@pytest.fixture
def team(app, framework):
    with app.app_context():
        north = make_team("north", "North keyworking team")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=north)
        make_user("pat.prac", Role.PRACTITIONER, team=north, supervisor=supervisor)
        commit()


def rate_current_page(page, level: str) -> None:
    """Choose `level` for every skill on the element page."""
    for group in page.locator(".app-skill").all():
        group.locator(f'input[type="radio"][value="{level}"]').check()


def test_keyworker_rates_resumes_submits_and_supervisor_validates(page, team, axe_check):
    sign_in(page, "pat.prac")
    page.get_by_role("link", name="Self-assessment").first.click()
    axe_check(page)
    page.get_by_role("button", name="Start a new self-assessment").click()
    page.wait_for_url(re.compile(r"/assessments/\d+$"))
    axe_check(page)
    overview_url = page.url
    # first element: rate, add evidence, save and continue
    page.get_by_role("link", name="Enabling/organising direct support").click()
    axe_check(page)
    rate_current_page(page, "2")
    page.locator("textarea").first.fill("Co-ordinated short breaks for a family")
    page.get_by_role("button", name="Save and continue").click()
    assert "skills rated" in page.locator(".app-flash").inner_text()
    axe_check(page)
    screenshot(page, "assessment-element")
    # leave, come back later: progress is kept
    sign_out(page)
    sign_in(page, "pat.prac")
    page.goto(overview_url)
    expect(page.locator("#progress-text")).to_be_visible()
    progress = page.locator("#progress-text").inner_text()
    assert not progress.startswith("0 of")
    # rate every remaining element page in turn
    while True:
        pending = [
            row
            for row in page.locator("tbody tr").all()
            if "All" not in row.inner_text() and "Core values" not in row.inner_text()
        ]
        if not pending:
            break
        pending[0].locator("a").click()
        rate_current_page(page, "2")
        page.get_by_role("button", name="Save and return to overview").click()
        page.wait_for_url(overview_url)
    page.get_by_role("link", name="Core values: your reflections").click()
    axe_check(page)
    assert "Step 9 of 9" in page.locator(".nhsuk-caption-l").inner_text()
    boxes = page.locator("form textarea")
    assert boxes.count() == 8
    # seven reflections of eight: saved as partial work, kept after leaving and coming back
    for n in range(1, 8):
        boxes.nth(n).fill(f"Reflection {n}: I listen to families before planning.")
    page.get_by_role("button", name="Save reflections").click()
    expect(page.locator(".app-flash")).to_contain_text("7 of 8")
    first_value = page.locator("form label").first.inner_text().strip()
    expect(page.locator(".app-flash")).to_contain_text(
        f"Still to write before you submit: {first_value}"
    )
    axe_check(page)
    values_url = page.url
    sign_out(page)
    sign_in(page, "pat.prac")
    page.goto(values_url)
    for n in range(1, 8):
        assert page.locator("form textarea").nth(n).input_value().startswith(f"Reflection {n}:")
    assert page.locator("form textarea").first.input_value() == ""
    page.goto(overview_url)
    expect(page.locator("tbody")).to_contain_text("7 of 8 written")
    page.goto(values_url)
    page.locator("form textarea").first.fill("I treat every family with compassion.")
    page.get_by_role("button", name="Save reflections").click()
    expect(page.locator(".app-flash")).to_contain_text("8 of 8")
    page.wait_for_url(re.compile(r"/summary$"))
    axe_check(page)
    expect(page.locator(".app-reflections")).to_contain_text("I treat every family")
    screenshot(page, "assessment-summary")
    page.get_by_role("button", name="Submit self-assessment").click()
    expect(page.locator("body")).to_contain_text("Awaiting validation")
    sign_out(page)

    # the supervisor validates element by element, reads the reflections, reviews the values
    sign_in(page, "sue.super")
    page.get_by_role("link", name="Supervision").first.click()
    axe_check(page)
    page.get_by_role("link", name="Pat Prac").click()
    axe_check(page)
    validation_url = page.url
    expect(page.locator(".app-reflections")).to_contain_text("I treat every family")
    screenshot(page, "validation-overview")
    page.locator("tbody a").first.click()
    axe_check(page)
    level = page.get_by_label(re.compile(r"level for 1a skill 1: "))
    expect(level).to_have_count(1)
    expect(page.get_by_label(re.compile(r"Comment on 1a skill 1: "))).to_have_count(1)
    level.select_option("1")
    page.get_by_role("button", name="Save and continue", exact=True).click()
    # no comment: the page explains and keeps the choice
    assert "add a comment" in page.locator(".nhsuk-error-summary").inner_text()
    assert page.get_by_label(re.compile(r"level for 1a skill 1: ")).input_value() == "1"
    axe_check(page)
    page.get_by_label(re.compile(r"Comment on 1a skill 1: ")).fill(
        "Needs more evidence of advice to families"
    )
    page.get_by_role("button", name="Save and continue", exact=True).click()
    expect(page.locator(".app-flash")).to_contain_text("1 of")
    axe_check(page)
    screenshot(page, "validation-element")
    while "/values" not in page.url:
        with page.expect_navigation():
            page.get_by_role("button", name=re.compile(r"^Save and continue")).click()
    axe_check(page)
    groups = page.locator(".app-skill")
    assert groups.count() == 8
    expect(groups.first).to_contain_text("I treat every family")
    for n in range(8):
        choice = "Discuss further" if n == 2 else "Evidenced"
        groups.nth(n).get_by_role("radio", name=choice).check()
    groups.nth(2).locator("textarea").fill("Talk through a recent example together")
    screenshot(page, "values-review")
    page.get_by_role("button", name="Save the review").click()
    page.wait_for_url(validation_url)
    expect(page.locator(".app-reflections")).to_contain_text("Discuss further")
    axe_check(page)
    page.get_by_role("button", name="Sign off and validate").click()
    expect(page.locator("body")).to_contain_text("assessment is validated")
    # the reflections and the review stay readable to the supervisor afterwards
    page.goto(validation_url.replace("/supervision/", "/assessments/") + "/values")
    axe_check(page)
    expect(page.locator("body")).to_contain_text("Talk through a recent example together")
    sign_out(page)

    # the keyworker sees the validated profile
    sign_in(page, "pat.prac")
    page.get_by_role("link", name="Your profile").click()
    axe_check(page)
    # summarised by element, each element's skills one click away (issue 29: 12,059 px)
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 5000, f"the profile is {height} px tall"
    first = page.locator("details.app-profile-element").first
    expect(first.get_by_text("1 Developing")).to_be_hidden()
    page.locator(".app-profile-summary a").first.click()
    expect(first.get_by_text("1 Developing")).to_be_visible()
    axe_check(page)
    # the chart is drawn on first request: wait for it to arrive and decode
    page.wait_for_function(
        "() => { const i = document.querySelector('img.app-chart');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    screenshot(page, "profile")
    page.get_by_role("link", name="Print layout of this profile").click()
    axe_check(page)
    assert not page.console_errors


def test_a_reworded_skill_is_flagged_on_the_profile_validation_and_diff_pages(
    app, page, team, framework_bytes, axe_check
):
    """Pat's validations predate version 2, which rewords 1a.s2 with `revalidate: true`
    and 1a.s3 without; Pat's next self-assessment is submitted against version 2."""
    from competency_app.assessments import services as assessments
    from competency_app.framework.loader import parse_framework
    from competency_app.framework.services import load_framework
    from tests.assessments.test_reworded import reworded_file
    from tests.factories import reflect_on_values, validated_assessment

    raw = reworded_file(framework_bytes, revalidate=True).replace(
        b"- id: 1a.s3\n      text: The ability to listen actively;",
        b"- id: 1a.s3\n      text: The ability to listen actively and without judgement;",
    )
    assert b"without judgement" in raw
    with app.app_context():
        pat = assessments.User.query.filter_by(email="pat.prac@example.nhs.uk").one()
        sue = assessments.User.query.filter_by(email="sue.super@example.nhs.uk").one()
        validated_assessment(pat, sue)
        commit()
        load_framework(parse_framework(raw, "v2.yaml"), "v2.yaml", loaded_by="test")
        commit()
        assessment = assessments.start_assessment(pat)
        for element in assessments.elements_of(assessment.framework_version):
            assessments.save_element(
                assessment, pat, element, {s.id: (2, "") for s in element.skills}, None
            )
        reflect_on_values(assessment, pat)
        assessments.submit(assessment, pat, None)
        commit()
        pat_id, assessment_id = pat.id, assessment.id

    sign_in(page, "sue.super")
    pages = {
        "profile": f"/people/{pat_id}/profile",
        "validation": f"/supervision/{assessment_id}",
        "validation-element": f"/supervision/{assessment_id}/elements/1a",
        "diff": "/framework/versions/compare?from=1&to=2",
    }
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for name, url in pages.items():
            page.goto(url)
            axe_check(page)
            screenshot(page, f"reworded-{name}-{width}")
        page.goto(pages["profile"])
        flags = page.locator(".app-reworded")
        expect(flags).to_have_count(2)
        expect(page.locator('[data-reworded="revalidate"]')).to_contain_text("no longer counts")
        expect(page.locator('[data-reworded="flagged"]')).to_contain_text("next review")
        page.goto(pages["validation"])
        listed = page.locator(".app-reworded-list li")
        expect(listed).to_have_count(2)
        expect(listed.first).to_contain_text("trauma-informed")
        page.goto(pages["diff"])
        expect(page.locator('tr[data-key="1a.s2"]')).to_contain_text("Affects 1 current validation")


@pytest.fixture
def submitted(app, team):
    """Pat's assessment, rated 2 throughout and submitted, after one validated at 3."""
    from competency_app.accounts import services as accounts
    from competency_app.assessments import services

    with app.app_context():
        pat = accounts.user_by_email("pat.prac@example.nhs.uk")
        sue = accounts.user_by_email("sue.super@example.nhs.uk")
        for level in (3, 2):
            assessment = services.start_assessment(pat)
            for element in services.elements_of(assessment.framework_version):
                ratings = {s.id: (level, "Evidence from home visits") for s in element.skills}
                services.save_element(assessment, pat, element, ratings, None)
            texts = {v.id: f"I show {v.title}" for v in assessment.framework_version.values}
            services.save_reflections(assessment, pat, texts, None)
            services.submit(assessment, pat, None)
            if level == 3:
                reviews = {v.id: ("evidenced", "") for v in assessment.framework_version.values}
                services.review_values(assessment, sue, reviews, None)
                services.validate(assessment, sue, {}, None)
        commit()
        return assessment.id


@pytest.mark.parametrize("width", [390, 1280])
def test_supervisor_validates_an_element_on_a_phone(page, submitted, axe_check, width):
    """The judgement sits under the skill at 390 px (no sideways scroll), the error shown
    passes axe, and agreeing below the level validated before asks for a comment."""
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "sue.super")
    page.goto(f"/supervision/{submitted}/elements/1a")
    axe_check(page)  # includes: no wider than the screen
    skill = page.locator(".app-validate").first
    judgement = page.get_by_label(re.compile(r"level for 1a skill 1: "))
    text_box, select_box = (
        skill.locator(".app-validate__text").bounding_box(),
        judgement.bounding_box(),
    )
    if width == 390:  # stacked: the judgement under the skill, inside the screen
        assert select_box["y"] > text_box["y"] + text_box["height"]
        assert select_box["x"] + select_box["width"] <= width
    else:  # side by side
        assert select_box["x"] > text_box["x"] + text_box["width"]
    page.get_by_label(re.compile(r"Comment on 1a skill 2: ")).fill("Typed before the error")
    page.get_by_role("button", name="Save and continue", exact=True).click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("1a skill 1: ")
    expect(summary).to_contain_text("lowering the level from 3, validated before, to 2")
    assert page.get_by_label(re.compile(r"Comment on 1a skill 2: ")).input_value() == (
        "Typed before the error"
    )
    axe_check(page)
    screenshot(page, f"validation-element-error-{width}")
    for box in page.locator("form textarea").all():
        box.fill("Less hands-on work with families this year")
    page.get_by_role("button", name="Save and continue", exact=True).click()
    expect(page.locator(".app-flash")).to_contain_text("1 of")
    assert not page.console_errors
