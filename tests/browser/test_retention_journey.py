"""Retention in a browser, on the demo's collaborative: a keyworker reads the privacy page
from the footer; the trust's HR officer sees on their home page that records are past
their retention period, opens the review, is refused without a reason or confirmation
(with the choices kept), then erases a leaver of seven years and a vacancy's candidates and
follows the job; the council's HR officer does not see the trust's leavers. Every page is
scanned by axe at 1,280 and 390 px."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import func, select

from competency_app.accounts import services as accounts
from competency_app.extensions import db
from competency_app.recruitment.models import Candidate, Vacancy
from competency_app.ui.demo_region import COUNCIL, email_of
from competency_app.ui.demo_retention import OLD_VACANCY
from tests.browser.test_collaborative_journey import _both_widths, _sign_in
from tests.browser.test_collaborative_journey import demo as demo  # noqa: F401 - fixture


def test_the_privacy_page_and_the_retention_review(
    page,
    browser,
    live_server,
    app,
    demo,  # noqa: F811
    axe_check,
):
    keyworker = browser.new_context(base_url=live_server).new_page()
    _sign_in(keyworker, "grace.lewis@demo.nhs.uk")
    keyworker.get_by_role("link", name="Privacy").click()
    expect(keyworker.get_by_role("heading", level=1)).to_have_text(
        "How this service uses your information"
    )
    expect(keyworker.locator("body")).to_contain_text("6 years after the member of staff leaves")
    _both_widths(keyworker, axe_check, "privacy-page")
    assert keyworker.goto("/privacy/retention").status == 403

    _sign_in(page, "priya.shah@demo.nhs.uk")
    expect(page.locator("body")).to_contain_text("Past their retention period: 2 leavers")
    page.get_by_role("link", name="Review records past their retention period").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Records past their retention period")
    expect(page.locator("body")).to_contain_text("Sam Carter")
    expect(page.locator("body")).to_contain_text("Morgan Lee")
    _both_widths(page, axe_check, "retention-review")

    page.get_by_label("Sam Carter", exact=False).check()
    page.get_by_label(OLD_VACANCY, exact=False).check()
    page.get_by_label("Reason for the erasure").fill("")
    page.get_by_role("button", name="Erase the chosen records").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter the reason")
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("needed for a complaint")
    expect(page.get_by_label("Sam Carter", exact=False)).to_be_checked()
    _both_widths(page, axe_check)

    page.get_by_label("Reason for the erasure").fill("Retention period passed")
    page.get_by_label(
        "None of the records I chose is needed for a complaint, claim, investigation or inquiry"
    ).check()
    page.get_by_role("button", name="Erase the chosen records").click()
    expect(page.locator("body")).to_contain_text("1 record erased (now Erased person")
    expect(page.locator("body")).to_contain_text("2 candidates' data deleted from 1 vacancy")
    _both_widths(page, axe_check, "retention-done")
    page.goto("/privacy/retention")
    expect(page.locator("body")).not_to_contain_text("Sam Carter")
    expect(page.locator("body")).to_contain_text("Morgan Lee")
    with app.app_context():
        assert accounts.user_by_email("sam.carter@demo.nhs.uk") is None
        vacancy = db.session.scalars(select(Vacancy).where(Vacancy.title == OLD_VACANCY)).one()
        left = db.session.scalar(
            select(func.count()).select_from(Candidate).where(Candidate.vacancy_id == vacancy.id)
        )
        assert left == 0 and vacancy.purged_at is not None
        db.session.remove()

    council_hr = browser.new_context(base_url=live_server).new_page()
    _sign_in(council_hr, email_of("helen.price", COUNCIL))
    council_hr.goto("/privacy/retention")
    expect(council_hr.locator("body")).not_to_contain_text("Morgan Lee")
    _both_widths(council_hr, axe_check)
