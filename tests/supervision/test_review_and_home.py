"""The review cycle decides which session needs a self-assessment and by when; the home
pages of the keyworker, the supervisor and the manager show it as the clock moves."""

from __future__ import annotations

import html
from datetime import date, time

import pytest

from competency_app.clock import utcnow
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.framework.settings import settings_from_document
from competency_app.supervision import services
from competency_app.supervision.services import ReviewState
from tests.conftest import sign_in
from tests.factories import PASSWORD
from tests.supervision.helpers import people, submitted, user, utc, validated

NOW = utc(2027, 3, 1, 9, 0)


@pytest.fixture
def ids(app, framework):
    app.config["FROZEN_NOW"] = NOW
    return people(app)


def _home(app, local: str) -> str:
    client = app.test_client()
    sign_in(client, f"{local}@example.nhs.uk", PASSWORD)
    return html.unescape(client.get("/").get_data(as_text=True))


def _book(app, local: str, day: date, at: time = time(10, 0)) -> int:
    with app.app_context():
        (session,) = services.schedule_sessions(user(local), user("sue.super"), day, at)
        db.session.commit()
        return session.id


def test_the_review_cycle_is_a_typed_setting_with_defaults(app, framework, framework_document):
    with app.app_context():
        cycle = current_version().settings.review_cycle
    assert (cycle.months, cycle.due_days) == (12, 7)
    assert cycle.self_assessment_due(date(2027, 3, 15)) == date(2027, 3, 8)
    stored = framework_document.model_dump(mode="json")
    stored.pop("supervision")  # a version stored before the setting existed
    assert settings_from_document(stored).review_cycle.months == 12
    stored["supervision"] = {"review_cycle_months": 6, "self_assessment_due_days": 14}
    changed = settings_from_document(stored).review_cycle
    assert (changed.months, changed.due_days) == (6, 14)


def test_an_assessment_due_tomorrow_becomes_overdue_on_the_supervisor_and_manager_home(app, ids):
    _book(app, "pat.prac", date(2027, 3, 16))  # due 9 March
    app.config["FROZEN_NOW"] = utc(2027, 3, 8, 12, 0)  # due tomorrow
    keyworker = _home(app, "pat.prac")
    assert "Your next supervision is on 16 March 2027 at 10:00am with Sue Super." in keyworker
    assert "Your self-assessment is for that session: it is due by 9 March 2027." in keyworker
    assert "due before your next supervision" not in keyworker
    supervisor = _home(app, "sue.super")
    assert "Pat Prac: self-assessment due by 9 March 2027" in supervisor
    assert "overdue by" not in supervisor
    manager = _home(app, "max.manager")
    assert "0 overdue self-assessments" in manager
    assert "Pat Prac: self-assessment overdue" not in manager

    app.config["FROZEN_NOW"] = utc(2027, 3, 10, 8, 0)  # the day after it was due
    supervisor = _home(app, "sue.super")
    assert (
        "Pat Prac: self-assessment overdue by 1 day "
        "(due 9 March 2027, for the session on 16 March 2027)" in supervisor
    )
    manager = _home(app, "max.manager")
    assert "1 overdue self-assessment," in manager
    assert "Pat Prac: self-assessment overdue by 1 day" in manager
    keyworker = _home(app, "pat.prac")
    assert "Your self-assessment is overdue: it was due by 9 March 2027" in keyworker
    # overdue first: before the upcoming sessions on the supervisor's home
    assert supervisor.index("overdue by 1 day") < supervisor.index("supervision on 16 March")

    # submitting it ends the overdue state; it now waits for validation, and for how long
    submitted(app, "pat.prac", utc(2027, 3, 10, 9, 0))
    app.config["FROZEN_NOW"] = utc(2027, 3, 31, 9, 0)
    supervisor = _home(app, "sue.super")
    assert "overdue by" not in supervisor
    assert "Pat Prac: self-assessment 1 waiting for validation for 3 weeks" in supervisor
    manager = _home(app, "max.manager")
    assert "0 overdue self-assessments, 1 waiting for validation" in manager
    client = app.test_client()
    sign_in(client, "sue.super@example.nhs.uk", PASSWORD)
    queue = client.get("/supervision").get_data(as_text=True)
    assert "3 weeks" in queue


def test_the_review_session_is_the_first_on_or_after_the_cycle(app, ids):
    validated(app, "pat.prac", utc(2027, 3, 1, 9, 0))
    app.config["FROZEN_NOW"] = utc(2027, 3, 2, 9, 0)
    _book(app, "pat.prac", date(2027, 6, 1))
    _book(app, "pat.prac", date(2028, 2, 20))
    with app.app_context():
        version = current_version()
        review = services.review_of(user("pat.prac"), version)
        assert review.state is ReviewState.NOT_DUE
        assert review.review_due == utc(2028, 3, 1, 9, 0)
    keyworker = _home(app, "pat.prac")
    assert "Your next competency review is due from 1 March 2028" in keyworker
    later = _book(app, "pat.prac", date(2028, 3, 14))
    with app.app_context():
        review = services.review_of(user("pat.prac"), current_version())
        assert review.state is ReviewState.DUE
        assert review.session.id == later
        assert review.due_on == date(2028, 3, 7)
    # the session after the review date needs it, not the sooner ones
    keyworker = _home(app, "pat.prac")
    assert "Your next supervision is on 1 June 2027" in keyworker
    assert (
        "Your self-assessment is for your supervision on 14 March 2028 with Sue Super: "
        "it is due by 7 March 2028." in keyworker
    )


def test_never_validated_and_nothing_booked(app, ids):
    with app.app_context():
        review = services.review_of(user("kim.prac"), current_version(), utcnow())
    assert review.state is ReviewState.NO_SESSION
    assert "No supervision session is booked for you yet" in _home(app, "kim.prac")
    assert "Review due with no session booked: Kim Prac, Pat Prac." in _home(app, "sue.super")


def test_manager_home_lists_expiring_validations(app, ids):
    validated(app, "pat.prac", utc(2027, 3, 1, 9, 0))
    app.config["FROZEN_NOW"] = utc(2028, 1, 15, 9, 0)  # within 60 days of 1 March 2028
    manager = _home(app, "max.manager")
    assert "1 person with validations expiring" in manager
    assert "Pat Prac: " in manager and "expiring, the first on 1 March 2028" in manager
    app.config["FROZEN_NOW"] = utc(2028, 3, 2, 9, 0)
    manager = _home(app, "max.manager")
    assert "Expired" in manager


def test_the_overview_lists_overdue_first(app, ids):
    _book(app, "pat.prac", date(2027, 3, 16))
    _book(app, "kim.prac", date(2027, 3, 5))
    app.config["FROZEN_NOW"] = utc(2027, 3, 2, 9, 0)  # Kim's was due 26 February
    for local in ("sue.super", "max.manager"):
        client = app.test_client()
        sign_in(client, f"{local}@example.nhs.uk", PASSWORD)
        page = html.unescape(client.get("/supervision/sessions").get_data(as_text=True))
        assert page.index("Kim Prac") < page.index("Pat Prac")
        assert "Kim Prac's self-assessment is overdue: it was due by 26 February 2027" in page
        assert "Pat Prac's self-assessment is due by 9 March 2027" in page
