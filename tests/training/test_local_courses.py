"""Local courses: an organisation's HR or administrator adds a course it runs to the
catalogue; its people see it and record completing it; shared, every organisation of its
collaborative sees it too; no other organisation ever does."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from competency_app.accounts import services as accounts
from competency_app.accounts.models import AuditEvent, Role
from competency_app.extensions import db
from competency_app.framework.local_courses import LocalCourse
from competency_app.training.models import ModuleCompletion
from tests.conftest import csrf_from, post_form, preview_import, sign_in
from tests.factories import (
    PASSWORD,
    commit,
    make_collaborative,
    make_organisation,
    make_team,
    make_user,
)

PAGE = "/training/local-courses"
COURSE = {
    "title": "Family Links: working with dads",
    "description": "A half-day workshop run by our family support team.",
    "url": "https://familylinks.example.org/dads",
    "duration": "180",
    "develops": ["4c", "1a.s2"],
}


@pytest.fixture
def region(app, framework):
    """The trust (first organisation) and a charity in one collaborative, a council in
    another; HR and a keyworker in each."""
    with app.app_context():
        trust = accounts.default_organisation()
        charity = make_organisation("charity")
        council = make_organisation("council", collaborative=make_collaborative("elsewhere"))
        for organisation, prefix in ((trust, "trust"), (charity, "charity"), (council, "council")):
            team = make_team(f"{prefix}-team", organisation=organisation)
            make_user(f"{prefix}.hr", Role.HR, organisation=organisation)
            make_user(f"{prefix}.kw", Role.PRACTITIONER, team=team, organisation=organisation)
        make_user("charity.admin", Role.ADMIN, organisation=charity)
        commit()


def _client(app, local: str):
    client = app.test_client()
    sign_in(client, f"{local}@example.nhs.uk", PASSWORD)
    return client


def _add(app, local: str, **changes):
    return post_form(_client(app, local), PAGE, {**COURSE, **changes})


def _catalogue(app, local: str) -> str:
    return html.unescape(_client(app, local).get("/framework/elearning").get_data(as_text=True))


def test_hr_adds_a_local_course_seen_by_their_own_people_only(app, region):
    response = _add(app, "charity.hr")
    assert response.status_code == 303
    with app.app_context():
        course = db.session.scalar(select(LocalCourse))
        charity_id = accounts.user_by_email("charity.hr@example.nhs.uk").organisation_id
        assert course.organisation_id == charity_id and not course.shared
        assert course.develops == ["4c", "1a.s2"] and course.element_keys == ["1a", "4c"]
        assert course.duration_minutes == 180
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "local_course_added")
        )
        assert event.target == course.key and event.organisation_id == charity_id
        assert event.detail["title"] == COURSE["title"]
    listed = html.unescape(_client(app, "charity.hr").get(PAGE).get_data(as_text=True))
    assert COURSE["title"] in listed and "Local course run by Charity" in listed
    assert COURSE["title"] in _catalogue(app, "charity.kw")
    assert COURSE["title"] not in _catalogue(app, "trust.kw")  # not shared
    assert COURSE["title"] not in _catalogue(app, "council.kw")


def test_a_shared_course_is_seen_across_the_collaborative_and_nowhere_else(app, region):
    assert _add(app, "charity.admin", shared="y").status_code == 303
    assert COURSE["title"] in _catalogue(app, "trust.kw")
    trust_hr = html.unescape(_client(app, "trust.hr").get(PAGE).get_data(as_text=True))
    assert "Shared by other organisations of" in trust_hr and COURSE["title"] in trust_hr
    assert COURSE["title"] not in _catalogue(app, "council.kw")
    council_hr = _client(app, "council.hr").get(PAGE).get_data(as_text=True)
    assert COURSE["title"] not in html.unescape(council_hr)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "Enter the course&#39;s title"),
        ({"description": "x" * 2001}, "description", "2,000 characters or fewer"),
        ({"url": "javascript:alert(1)"}, "url", "starting https://"),
        ({"duration": "ninety"}, "duration", "whole number from 1 to 10,000"),
        ({"develops": []}, "develops", "Choose at least one element or skill"),
        ({"develops": ["9z"]}, "develops", "Choose at least one element or skill"),
        ({"refresh_months": "12"}, "refresh_months", "Only a required course is repeated"),
        ({"required": "y", "refresh_months": "0"}, "refresh_months", "from 1 to 120"),
    ],
)
def test_a_refused_course_comes_back_with_what_was_typed(app, region, changes, field, message):
    response = _add(app, "charity.hr", **changes)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and f'href="#{field}"' in page
    assert "Error: Local courses" in page
    typed = {**COURSE, **changes}
    if field != "title":
        assert f'value="{typed["title"]}"' in html.unescape(page)
    if field != "url":
        assert 'value="https://familylinks.example.org/dads"' in page
    if field != "develops":
        assert 'value="4c" checked' in page and 'value="1a.s2" checked' in page
    with app.app_context():
        assert db.session.scalar(select(LocalCourse)) is None


def test_a_required_course_with_a_refresh_period(app, region):
    assert _add(app, "charity.hr", required="y", refresh_months="24").status_code == 303
    page = _catalogue(app, "charity.kw")
    assert "required by Charity, repeated every 2 years" in " ".join(page.split())


def test_a_keyworker_records_completing_a_local_course(app, region):
    assert _add(app, "charity.hr").status_code == 303
    with app.app_context():
        course = db.session.scalar(select(LocalCourse))
        key = course.key
        keyworker = accounts.user_by_email("charity.kw@example.nhs.uk")
        keyworker_id = keyworker.id
    client = _client(app, "charity.kw")
    path = f"/people/{keyworker_id}/development"
    page = client.get(path).get_data(as_text=True)
    assert f'value="{key}"' in page
    day = (date.today() - timedelta(days=2)).isoformat()
    response = post_form(client, path, {"module": key, "completed_on": day})
    assert response.status_code == 303
    page = html.unescape(client.get(path).get_data(as_text=True))
    assert "Completed modules" in page and COURSE["title"] in page
    with app.app_context():
        done = db.session.scalar(select(ModuleCompletion))
        assert (done.person_id, done.module_key) == (keyworker_id, key)

    # someone of another organisation cannot record it (not in their catalogue)
    with app.app_context():
        other_id = accounts.user_by_email("trust.kw@example.nhs.uk").id
    client = _client(app, "trust.kw")
    path = f"/people/{other_id}/development"
    assert f'value="{key}"' not in client.get(path).get_data(as_text=True)
    response = post_form(client, path, {"module": key, "completed_on": day})
    assert response.status_code == 400
    assert "Choose the module you completed" in response.get_data(as_text=True)


def test_completions_of_a_local_course_are_imported_by_its_title(app, region):
    assert _add(app, "charity.hr").status_code == 303
    client = _client(app, "charity.hr")
    day = (date.today() - timedelta(days=2)).isoformat()
    text = f"email,module,date\ncharity.kw@example.nhs.uk,{COURSE['title']},{day}\n"
    response = preview_import(client, "completions", text)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', body)[1]
    done = client.post("/admin/imports/apply", data={"csrf_token": csrf_from(body), "token": token})
    assert done.status_code == 200
    with app.app_context():
        key = db.session.scalar(select(LocalCourse)).key
        assert db.session.scalar(select(ModuleCompletion.module_key)) == key


def test_only_hr_and_administrators_add_courses(app, region):
    client = _client(app, "charity.kw")
    assert client.get(PAGE).status_code == 403
