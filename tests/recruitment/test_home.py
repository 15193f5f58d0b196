"""The home page's recruitment blocks: the recruiter's vacancies by stage, closing dates and
panels waiting on scores; HR's workbooks, imports, vacancies to close and retention; a panel
member's candidates to score and when."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role
from competency_app.extensions import db
from competency_app.recruitment import services
from competency_app.recruitment.models import Vacancy
from tests.conftest import sign_in
from tests.factories import PASSWORD, commit, make_team, make_user


def user(local):
    return accounts.user_by_email(f"{local}@example.nhs.uk")


@pytest.fixture
def vacancy_id(app, framework):
    with app.app_context():
        north = make_team("north", "North keyworking team")
        rec = make_user("rae.recruit", Role.RECRUITER, team=north)
        a = make_user("amy.panel", Role.SUPERVISOR, team=north)
        b = make_user("bob.panel", Role.MANAGER, team=north)
        make_user("hana.hr", Role.HR)
        vacancy = services.create_vacancy(
            north, "Keyworker", date.today() + timedelta(days=7), [a, b], [a, b], b, rec
        )
        cara = services.add_candidate(vacancy, "Cara Candidate", "", rec)
        services.import_candidates(vacancy, [{"_row": 2, "name": "Dan D", "email": ""}], rec)
        marks = {
            c.key: (True, None) if c.requirement == "essential" else (None, 3)
            for c in services.shortlist_criteria(vacancy)
        }
        for person in (a, b):
            services.save_shortlist(cara, person, marks)
        services.set_slot(cara, datetime(2030, 3, 4, 10, tzinfo=UTC), "Room 2", rec)
        services.move_vacancy(vacancy, "interviewing", rec)
        keys = [c.key for c in services.interview_criteria(vacancy)]
        services.save_scores(cara, a, {k: (4, "") for k in keys}, True)
        commit()
        return vacancy.id


def _home(app, local) -> str:
    client = app.test_client()
    sign_in(client, f"{local}@example.nhs.uk", PASSWORD)
    return client.get("/").get_data(as_text=True)


def test_the_recruiter_sees_stages_closing_dates_and_panels_waiting(app, vacancy_id):
    page = _home(app, "rae.recruit")
    assert "Open vacancies by stage: interviewing 1." in page
    assert "V1-C001: 1 of 2 panel scores submitted" in page
    with app.app_context():
        db.session.get(Vacancy, vacancy_id).state = "open"
        commit()
    page = _home(app, "rae.recruit")
    assert "Keyworker closes on" in page


def test_a_panel_member_sees_what_to_score_and_when(app, vacancy_id):
    page = _home(app, "bob.panel")
    assert "score V1-C001 (interview 4 March 2030 at 10:00am)" in page
    assert "V1-C001" not in _home(app, "amy.panel").split("Interview panel")[1][:400]


def test_hr_sees_workbooks_imports_vacancies_to_close_and_retention(app, vacancy_id):
    page = _home(app, "hana.hr")
    assert "Keyworker workbook (.xlsx)" in page and "Imported 1 candidates" in page
    with app.app_context():
        vacancy = db.session.get(Vacancy, vacancy_id)
        vacancy.state = "appointed"
        vacancy.closing_date = date.today() - timedelta(days=360)
        commit()
    page = _home(app, "hana.hr")
    assert "Keyworker is appointed: close it." in page
    assert "due for deletion on" in page
