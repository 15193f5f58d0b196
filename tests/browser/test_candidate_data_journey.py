"""A copy of a candidate's data, in the browser: HR of the organisation hosting the vacancy
opens the vacancy, asks for a candidate's copy from their row, follows the job and
downloads the archive, whose data.json names the candidate and holds their scores; HR of
another organisation cannot reach it; once the candidates' data is purged the page says
there is nothing to copy. Axe on every page, at 1,280 and 390 px."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from competency_app.accounts.models import Role
from competency_app.extensions import db
from competency_app.recruitment import services
from competency_app.recruitment.models import Vacancy
from competency_app.recruitment.retention import purge_vacancies
from tests.browser.conftest import screenshot
from tests.browser.test_framework_and_accounts import sign_in
from tests.factories import commit, make_organisation, make_team, make_user


@pytest.fixture
def world(app, framework, tmp_path):
    """A north vacancy at interview: Cara's scores submitted by both panel members and
    agreed by the chair; HR of the trust, and HR of a council."""
    app.config["JOBS_DIR"] = str(tmp_path / "jobs")
    with app.app_context():
        north = make_team("north", "North keyworking team")
        rae = make_user("rae.recruit", Role.RECRUITER, team=north)
        amy = make_user("amy.panel", Role.SUPERVISOR, team=north)
        bob = make_user("bob.panel", Role.MANAGER, team=north)
        make_user("hana.hr", Role.HR)
        make_user("colin.hr", Role.HR, organisation=make_organisation("city-council"))
        vacancy = services.create_vacancy(
            north, "Keyworker", date.today() + timedelta(days=14), [amy, bob], [amy, bob], bob, rae
        )
        cara = services.add_candidate(vacancy, "Cara Candidate", "cara@example.com", rae)
        services.add_candidate(vacancy, "Dan Candidate", "", rae)
        met = {
            c.key: (True, None) if c.requirement == "essential" else (None, 3)
            for c in services.shortlist_criteria(vacancy)
        }
        for person in (amy, bob):
            services.save_shortlist(cara, person, met)
        services.move_vacancy(vacancy, "interviewing", rae)
        keys = [c.key for c in services.interview_criteria(vacancy)]
        for person in (amy, bob):
            services.save_scores(cara, person, {k: (4, "Clear examples.") for k in keys}, True)
        services.save_agreed(cara, bob, {k: 4 for k in keys})
        commit()
        ids = {"vacancy": vacancy.id, "cara": cara.id, "criteria": len(keys)}
    yield ids
    app.config["JOBS_DIR"] = ""


def _download(page) -> dict:
    expect(page.locator("body")).to_contain_text("Ready")
    with page.expect_download() as download:
        page.get_by_test_id("job-download").click()
    with zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())) as archive:
        assert "Cara Candidate" in archive.read("record.html").decode()
        return json.loads(archive.read("data.json"))


def test_hr_gets_a_candidates_copy_from_the_vacancy_and_another_employer_cannot(
    page, browser, live_server, world, axe_check
):
    sign_in(page, "hana.hr")
    page.goto("/recruitment")
    page.get_by_role("link", name="Keyworker").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Keyworker")
    page.get_by_role("link", name="A copy of Cara Candidate's data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("A copy of Cara Candidate's data")
    axe_check(page)
    screenshot(page, "candidate-data-request-1280")
    page.set_viewport_size({"width": 390, "height": 800})
    axe_check(page)
    screenshot(page, "candidate-data-request-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Prepare a copy of Cara Candidate's data").click()
    axe_check(page)
    data = _download(page)
    assert data["candidate"]["name"] == "Cara Candidate"
    assert data["vacancy"]["title"] == "Keyworker"
    recruitment = data["sections"]["Recruitment"]
    scores = recruitment["interview_score"]["rows"]
    assert len(scores) == 2 * world["criteria"] and {r["score"] for r in scores} == {4}
    assert {r["panel_member"] for r in scores} == {"Amy Panel", "Bob Panel"}
    assert len(recruitment["agreed_score"]["rows"]) == world["criteria"]
    assert "Dan Candidate" not in json.dumps(data)

    council_hr = browser.new_context(base_url=live_server).new_page()
    sign_in(council_hr, "colin.hr")
    path = f"/recruitment/{world['vacancy']}/candidates/{world['cara']}/data"
    response = council_hr.goto(path)
    assert response is not None and response.status == 403
    axe_check(council_hr)


def test_once_purged_the_page_says_there_is_nothing_to_copy(page, app, world, axe_check):
    with app.app_context():
        vacancy = db.session.get_one(Vacancy, world["vacancy"])
        vacancy.closing_date = date.today() - timedelta(days=800)
        purge_vacancies([vacancy], None, "test")
        commit()
    sign_in(page, "hana.hr")
    page.goto(f"/recruitment/{world['vacancy']}")
    expect(page.locator("body")).to_contain_text("Candidate personal data was purged")
    expect(page.get_by_role("link", name="A copy of Cara Candidate's data")).to_have_count(0)
    response = page.goto(f"/recruitment/{world['vacancy']}/candidates/{world['cara']}/data")
    assert response is not None and response.status == 410
    expect(page.locator("body")).to_contain_text("there is nothing to copy")
    expect(page.get_by_role("button", name=re.compile("Prepare a copy"))).to_have_count(0)
    axe_check(page)
    page.set_viewport_size({"width": 390, "height": 800})
    axe_check(page)
    screenshot(page, "candidate-data-purged-390")
