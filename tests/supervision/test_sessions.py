"""Scheduling supervision: one-off and repeating sessions in London time, who may book,
moving and cancelling with confirmation, and refused inputs kept in the form."""

from __future__ import annotations

import html
import re
from datetime import date, time

import pytest
from sqlalchemy import func, select

from competency_app.accounts.models import AuditEvent
from competency_app.common.dates import LONDON
from competency_app.database import unit_of_work
from competency_app.extensions import db
from competency_app.supervision import services
from competency_app.supervision.models import SupervisionSession
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD
from tests.supervision.helpers import people, user, utc

NOW = utc(2027, 3, 1, 9, 0)


@pytest.fixture
def ids(app, framework):
    app.config["FROZEN_NOW"] = NOW
    return people(app)


def _client(app, local: str):
    client = app.test_client()
    response = sign_in(client, f"{local}@example.nhs.uk", PASSWORD)
    assert response.status_code in (302, 303)
    return client


def _post(client, page: str, data: dict, path: str | None = None):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(path or page, data={"csrf_token": token, **data})


def _sessions(app) -> list[SupervisionSession]:
    with app.app_context():
        rows = list(
            db.session.scalars(select(SupervisionSession).order_by(SupervisionSession.starts_at))
        )
        db.session.expunge_all()
        return rows


def test_a_repeating_schedule_keeps_the_london_time_across_the_clock_change(app, ids):
    client = _client(app, "sue.super")
    page = f"/people/{ids['pat.prac']}/supervision/new"
    response = _post(
        client,
        page,
        {
            "day": "2027-03-15",
            "time": "10:00",
            "place": "Room 4",
            "every_weeks": "2",
            "sessions": "3",
        },
    )
    assert response.status_code == 303
    sessions = _sessions(app)
    assert len(sessions) == 3
    local = [s.starts_at.astimezone(LONDON) for s in sessions]
    assert [d.date() for d in local] == [date(2027, 3, 15), date(2027, 3, 29), date(2027, 4, 12)]
    assert {d.strftime("%H:%M") for d in local} == {"10:00"}
    # 10:00 GMT before the clocks go forward on 28 March 2027, 10:00 BST (09:00 UTC) after
    assert [s.starts_at.astimezone(NOW.tzinfo).hour for s in sessions] == [10, 9, 9]
    assert {s.schedule_id for s in sessions} != {None}
    assert {s.supervisor_id for s in sessions} == {ids["sue.super"]}
    listing = client.get(f"/people/{ids['pat.prac']}/supervision").get_data(as_text=True)
    assert "15 March 2027 at 10:00am" in listing
    assert "29 March 2027 at 10:00am" in listing
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "supervision_scheduled")
        )
        assert event.detail["sessions"] == 3


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"day": "2027-02-28", "time": "10:00"}, "day", "The session must start in the future"),
        ({"day": "2027-03-01", "time": "08:30"}, "day", "The session must start in the future"),
        ({"day": "31/02/2027", "time": "10:00"}, "day", "Enter the date of the session"),
        ({"day": "2027-03-15", "time": "25:00"}, "time", "Enter the start time as HH:MM"),
        (
            {"day": "2027-03-15", "time": "10:00", "every_weeks": "0", "sessions": "4"},
            "every_weeks",
            "Repeat every 1 to 52 weeks",
        ),
        (
            {"day": "2027-03-15", "time": "10:00", "every_weeks": "fortnightly", "sessions": "4"},
            "every_weeks",
            "as a whole number",
        ),
        (
            {"day": "2027-03-15", "time": "10:00", "every_weeks": "4"},
            "sessions",
            "Enter how many sessions",
        ),
        (
            {"day": "2027-03-15", "time": "10:00", "every_weeks": "4", "sessions": "40"},
            "sessions",
            "books 2 to 26 sessions",
        ),
    ],
)
def test_bad_dates_and_recurrences_are_refused_with_the_form_kept(app, ids, data, field, message):
    client = _client(app, "sue.super")
    page = f"/people/{ids['pat.prac']}/supervision/new"
    typed = {**data, "place": "Room <4>", "notes": "Bring the reflective log"}
    response = _post(client, page, typed)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "There is a problem" in body
    assert message in html.unescape(body)
    assert f'href="#{field}"' in body
    # everything typed comes back
    assert 'value="Room &lt;4&gt;"' in body
    assert "Bring the reflective log" in body
    for name in ("day", "time", "every_weeks", "sessions"):
        if data.get(name):
            assert f'value="{html.escape(data[name])}"' in body
    assert _sessions(app) == []


def test_who_may_schedule(app, ids):
    page = f"/people/{ids['pat.prac']}/supervision/new"
    good = {"day": "2027-03-20", "time": "14:30"}
    for local in ("pat.prac", "sam.south", "kim.prac"):
        client = _client(app, local)
        token = csrf_from(client.get("/").get_data(as_text=True))
        assert client.post(page, data={"csrf_token": token, **good}).status_code == 403
    assert _sessions(app) == []
    # a manager of the team books for the person's supervisor
    response = _post(_client(app, "max.manager"), page, good)
    assert response.status_code == 303
    (session,) = _sessions(app)
    assert session.supervisor_id == ids["sue.super"]
    assert session.created_by_id == ids["max.manager"]
    # a keyworker without a supervisor cannot be booked yet: the manager is told why
    response = _post(
        _client(app, "max.manager"), f"/people/{ids['lee.nosuper']}/supervision/new", good
    )
    assert response.status_code == 400
    assert "has no supervisor yet" in response.get_data(as_text=True)


def test_moving_a_session_and_cancelling_with_confirmation(app, ids):
    with app.app_context():
        booked = services.schedule_sessions(
            user("pat.prac"),
            user("sue.super"),
            date(2027, 3, 8),
            time(9, 30),
            every_weeks=4,
            sessions=3,
        )
        db.session.commit()
        first, second, third = (s.id for s in booked)
    client = _client(app, "sue.super")
    # moving: the form starts from the booked time; a past time is refused and kept
    page = f"/supervision/sessions/{first}/reschedule"
    form = client.get(page).get_data(as_text=True)
    assert 'value="08/03/2027"' in form and 'value="09:30"' in form
    refused = _post(client, page, {"day": "2027-02-01", "time": "09:30", "place": "Room 9"})
    assert refused.status_code == 400
    assert 'value="2027-02-01"' in refused.get_data(as_text=True)
    assert 'value="Room 9"' in refused.get_data(as_text=True)
    moved = _post(client, page, {"day": "2027-03-09", "time": "15:00", "place": "Room 9"})
    assert moved.status_code == 303
    with app.app_context():
        session = db.session.get_one(SupervisionSession, first)
        assert session.starts_at.astimezone(LONDON).strftime("%d/%m %H:%M") == "09/03 15:00"
        assert session.place == "Room 9"
    # cancelling asks first: the GET changes nothing
    confirm = client.get(f"/supervision/sessions/{second}/cancel").get_data(as_text=True)
    assert "Cancel the supervision session on 5 April 2027 at 9:30am?" in confirm
    assert "Also cancel the later sessions of this repeating schedule" in confirm
    assert all(s.cancelled_at is None for s in _sessions(app))
    response = _post(client, f"/supervision/sessions/{second}/cancel", {"rest_of_schedule": "y"})
    assert response.status_code == 303
    cancelled = {s.id for s in _sessions(app) if s.cancelled_at is not None}
    assert cancelled == {second, third}
    with app.app_context():
        assert services.next_session(user("pat.prac")).id == first
        count = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "supervision_cancelled")
        )
        assert count == 1
    # a cancelled session cannot be moved or cancelled again
    again = _post(
        client, f"/supervision/sessions/{first}", {}, f"/supervision/sessions/{second}/cancel"
    )
    assert again.status_code == 409
    listing = client.get(f"/people/{ids['pat.prac']}/supervision").get_data(as_text=True)
    assert re.search(r"Cancelled</h2>", listing)


def test_a_schedule_needs_a_supervisor_and_a_future_start_through_the_service(app, ids):
    with app.app_context(), pytest.raises(services.SupervisionError) as refused, unit_of_work():
        services.schedule_sessions(
            user("lee.nosuper"), user("max.manager"), date(2027, 3, 20), time(10, 0)
        )
    assert refused.value.field == "day"
