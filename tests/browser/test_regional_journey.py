"""A regional lead opens the regional view, finds a skill held by too few, sees which team
holds it, reads the forecast and downloads the regional workbook: in Chromium, axe on
every page, on a desktop and a 390 px screen. No keyworker's name shows on the way."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.test_framework_and_accounts import sign_in
from tests.regional.conftest import KEYWORKERS, region  # noqa: F401 - a fixture

SHOTS = Path("/tmp/b-shots")


def _shot(page, name: str, width: int) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def _nobody_named(page) -> None:
    text = page.locator("body").inner_text()
    for local in KEYWORKERS:
        assert local.replace(".", " ").title() not in text
        assert f"{local}@example.nhs.uk" not in text


@pytest.mark.parametrize("width", [1280, 390])
def test_a_regional_lead_finds_whom_to_learn_from_and_downloads_the_workbook(
    page,
    region,  # noqa: F811
    axe_check,
    width,
):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "rhea.lead")
    expect(page.locator("body")).to_contain_text("Regional view")
    axe_check(page)
    _shot(page, "home", width)
    page.get_by_role("link", name="Open the regional view").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("North region: regional view")
    axe_check(page)
    _nobody_named(page)
    _shot(page, "regional", width)
    body = page.locator("body")
    for team in ("Harbour team", "Hill team", "River team", "Empty team"):
        expect(body).to_contain_text(team)
    expect(body).not_to_contain_text("Faraway team")

    # a skill held by too few, and the teams that hold it
    table = page.get_by_role("region", name="Skills held by too few across the collaborative")
    first = table.get_by_role("link").first
    skill = first.inner_text()
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(skill)
    axe_check(page)
    _nobody_named(page)
    _shot(page, "skill", width)
    holders = page.get_by_role("region", name="Teams holding the skill")
    if holders.count():
        expect(holders.get_by_role("row").nth(1)).to_contain_text(" team")
    else:
        expect(body).to_contain_text("No team holds this skill")
    page.get_by_role("link", name="Back to the regional view").click()

    # the forecast
    page.get_by_role("link", name="Forecast: element gaps in 30, 60 and 90 days").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("North region: forecast")
    expect(body).to_contain_text("in 90 days")
    axe_check(page)
    _nobody_named(page)
    _shot(page, "forecast", width)
    page.get_by_role("link", name="Back to the regional view").click()

    # the workbook, prepared as a job
    page.get_by_role("button", name="Prepare the regional workbook").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The regional workbook")
    expect(body).to_contain_text("Ready")
    axe_check(page)
    _shot(page, "job", width)
    with page.expect_download() as download:
        page.get_by_test_id("job-download").click()
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert book.sheetnames == ["Summary", "Teams", "Skills", "Forecast", "Vacancies"]
    assert not page.console_errors
