"""The keyworker's home names the session the self-assessment is for, says when a
submitted one will be looked at, and gives a returned one the date that is true (issue 29)."""

from __future__ import annotations

import html
from datetime import date, time

import pytest

from competency_app.assessments import services as assessments
from competency_app.assessments.models import Assessment
from competency_app.extensions import db
from competency_app.supervision import services
from tests.conftest import sign_in
from tests.factories import PASSWORD, commit
from tests.supervision.helpers import people, submitted, user, utc, validated


@pytest.fixture
def ids(app, framework):
    app.config["FROZEN_NOW"] = utc(2027, 3, 1, 9, 0)
    return people(app)


def _home(app, local: str = "pat.prac") -> str:
    client = app.test_client()
    sign_in(client, f"{local}@example.nhs.uk", PASSWORD)
    return html.unescape(client.get("/").get_data(as_text=True))


def _book(app, day: date, at: time = time(10, 0)) -> None:
    with app.app_context():
        services.schedule_sessions(user("pat.prac"), user("sue.super"), day, at)
        db.session.commit()


def test_two_sessions_named_and_the_one_for_the_self_assessment_said(app, ids):
    validated(app, "pat.prac", utc(2027, 3, 1, 9, 0))
    app.config["FROZEN_NOW"] = utc(2028, 2, 1, 9, 0)
    _book(app, date(2028, 2, 10))
    _book(app, date(2028, 3, 14))  # the first on or after the review date (1 March 2028)
    page = _home(app)
    assert "Your next supervision is on 10 February 2028 at 10:00am with Sue Super." in page
    assert (
        "Your self-assessment is for your supervision on 14 March 2028 with Sue Super: "
        "it is due by 7 March 2028." in page
    )


def test_after_submitting_the_home_and_the_flash_say_when_it_will_be_looked_at(app, ids):
    _book(app, date(2027, 3, 16), time(14, 0))
    client = app.test_client()
    sign_in(client, "pat.prac@example.nhs.uk", PASSWORD)
    with app.app_context():
        pat = user("pat.prac")
        assessment = assessments.start_assessment(pat)
        for element in assessments.elements_of(assessment.framework_version):
            ratings = {s.id: (2, "") for s in element.skills}
            assessments.save_element(assessment, pat, element, ratings, None)
        texts = {v.id: "A reflection" for v in assessment.framework_version.values}
        assessments.save_reflections(assessment, pat, texts, None)
        commit()
        assessment_id, version = assessment.id, assessment.row_version
    summary = client.get(f"/assessments/{assessment_id}/summary").get_data(as_text=True)
    csrf = summary.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        f"/assessments/{assessment_id}/submit",
        data={"csrf_token": csrf, "row_version": str(version)},
        follow_redirects=True,
    )
    page = html.unescape(response.get_data(as_text=True))
    expected = "Sue Super will look at it with you at your supervision on 16 March 2027 at 2:00pm."
    assert f"Submitted. {expected}" in page
    home = _home(app)
    assert f"Self-assessment 1 was submitted on 1 March 2027. {expected}" in home
    assert "waiting for your supervisor" not in home


def test_submitted_with_no_session_booked_says_to_ask_for_one(app, ids):
    submitted(app, "pat.prac", utc(2027, 3, 1, 9, 0))
    assert "none is booked yet, so ask them to book one" in _home(app)


def test_a_returned_assessment_is_due_for_the_next_session_not_the_next_review(app, ids):
    validated(app, "pat.prac", utc(2027, 3, 1, 9, 0))  # the next review: 1 March 2028
    assessment_id = submitted(app, "pat.prac", utc(2027, 6, 1, 9, 0))
    with app.app_context():
        assessment = db.session.get_one(Assessment, assessment_id)
        assessments.return_assessment(assessment, user("sue.super"), "Add evidence", None)
        commit()
    app.config["FROZEN_NOW"] = utc(2027, 6, 2, 9, 0)
    _book(app, date(2027, 6, 20))
    _book(app, date(2028, 3, 14))
    page = _home(app)
    assert (
        "Your supervisor returned self-assessment 2 for changes: submit it again by "
        "13 June 2027, for your supervision on 20 June 2027 with Sue Super." in page
    )
    assert "7 March 2028" not in page
    # said once: the progress line does not announce the return again
    assert "is returned for changes" not in page
    assert "Self-assessment 2: 58 of 58 skills rated." in page
    # the session is too close for the usual notice: as soon as you can
    app.config["FROZEN_NOW"] = utc(2027, 6, 15, 9, 0)
    assert "submit it again as soon as you can, for your supervision on 20 June 2027" in _home(app)
