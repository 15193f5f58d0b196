"""Coverage as at another date: the forecast (expiries and leaving dates), the history, the
leaving date itself (admin page, roster import) and bad dates."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from competency_app.accounts import services as accounts
from competency_app.accounts.models import AuditEvent, Role, Team, User
from competency_app.extensions import db
from competency_app.framework.services import current_version
from tests.conftest import post_form, sign_in
from tests.coverage.test_coverage import NOW, _write_history
from tests.factories import PASSWORD, commit, make_team, make_user


def _whole(version, person: int, element_key: str, days_ago: int):
    element = next(e for c in version.competencies for e in c.elements if e.key == element_key)
    return [(person, skill.key, 2, days_ago) for skill in element.skills]


@pytest.fixture
def forecast_team(app, framework):
    """kw0 holds 4a alone and 3b with kw2; kw0's validations expire in 45 days. kw1 holds
    4c alone and leaves in 20 days."""
    app.config["FROZEN_NOW"] = NOW
    with app.app_context():
        team = make_team("north", "North keyworking team")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=team)
        make_user("max.manager", Role.MANAGER, team=team)
        people = [
            make_user(f"kw{n}", Role.PRACTITIONER, team=team, supervisor=supervisor)
            for n in range(3)
        ]
        people[1].leaving_date = NOW.date() + timedelta(days=20)
        version = current_version()
        history = _whole(version, 0, "4a", 320) + _whole(version, 0, "3b", 320)
        history += _whole(version, 2, "3b", 10) + _whole(version, 1, "4c", 10)
        _write_history(version, people, supervisor, history)
        commit()
        ids = {p.email.split("@")[0]: p.id for p in people}
        db.session.remove()
    return ids


def _api(client, query=""):
    response = client.get(f"/api/v1/teams/north/coverage{query}")
    return response.status_code, json.loads(response.get_data(as_text=True))


def test_forecast_at_30_and_60_days(app, client, forecast_team):
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    day = NOW.date()
    status, today = _api(client)
    assert status == 200
    states = {e["id"]: e["status"] for e in today["elements"]}
    assert (states["4a"], states["4c"], states["3b"]) == ("at_risk", "at_risk", "met")
    assert "changes" not in today

    status, in30 = _api(client, f"?as_at={day + timedelta(days=30)}")
    assert status == 200
    assert in30["as_at"].startswith(str(day + timedelta(days=30)))
    assert forecast_team["kw1"] not in [m["id"] for m in in30["members"]]  # left on day 20
    assert "4c" in in30["gaps"] and "4a" not in in30["gaps"]
    assert "4a" in in30["at_risk"] and "3b" not in in30["at_risk"]
    changes = {(c["id"], c["status"]): c["date"] for c in in30["changes"]}
    assert changes == {("4c", "gap"): str(day + timedelta(days=20))} | {
        (key, "gap"): str(day + timedelta(days=20))
        for key in [s["id"] for s in today["skills"] if s["id"].startswith("4c.")]
    }

    status, in60 = _api(client, f"?as_at={day + timedelta(days=60)}")
    assert {"4a", "4c"} <= set(in60["gaps"])
    assert "3b" in in60["at_risk"]
    changes = {(c["id"], c["status"]): c["date"] for c in in60["changes"]}
    assert changes[("4c", "gap")] == str(day + timedelta(days=20))
    assert changes[("4a", "gap")] == str(day + timedelta(days=45))
    assert changes[("3b", "at_risk")] == str(day + timedelta(days=45))

    # the page says the same, with the reason
    page = client.get(f"/teams/north/coverage?as_at={day + timedelta(days=60)}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="gap-4a"' in html and 'id="gap-4c"' in html
    assert 'data-key="4a" data-status="gap"' in html
    assert 'data-key="3b" data-status="at_risk"' in html
    assert "no skill is held by anyone" in html  # 4a, kw0's validations expired
    page30 = client.get(f"/teams/north/coverage?as_at={day + timedelta(days=30)}")
    html30 = page30.get_data(as_text=True)
    assert 'data-key="4c" data-status="gap"' in html30
    assert 'data-key="4a" data-status="gap"' not in html30
    assert "in 30 days" in html30 and "If this team member left" in html30


def test_if_a_member_left_and_the_past(app, client, forecast_team):
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    status, without = _api(client, f"?without={forecast_team['kw2']}")
    assert status == 200 and without["without"] == [forecast_team["kw2"]]
    assert "3b" in without["at_risk"]  # only kw0, whose validations expire within 60 days
    assert ("3b", "at_risk") in {(c["id"], c["status"]) for c in without["changes"]}
    page = client.get(f"/teams/north/coverage?without={forecast_team['kw2']}")
    assert "As if Kw2 had left" in page.get_data(as_text=True)
    # 100 days ago only kw0's validations (320 days old) existed: 4c was a gap then
    status, past = _api(client, f"?as_at={NOW.date() - timedelta(days=100)}")
    assert status == 200 and "4c" in past["gaps"] and "4a" in past["at_risk"]
    assert "changes" not in past


@pytest.mark.parametrize(
    ("query", "field", "message", "api_message"),
    [
        ("?as_at=31/12/2026", "as_at", "as_at must be a date written YYYY-MM-DD", None),
        ("?as_at=2026-02-30", "as_at", "as_at must be a date written YYYY-MM-DD", None),
        ("?as_at=1900-01-01", "as_at", "between 2000-01-01 and 2100-12-31", None),
        (
            "?without=abc",
            "without",
            "without must be the id of a member of this team",
            "without must be a whole number",
        ),
        ("?without=999999", "without", "without must be the id of a member of this team", None),
    ],
)
def test_bad_dates_and_members_are_refused(
    app, client, forecast_team, query, field, message, api_message
):
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    status, body = _api(client, query)
    # the API's refusals of a query argument are 422s naming it; a well-formed id of no
    # member is a 404 (api/views.py)
    assert status == (404 if query == "?without=999999" else 422) and body["field"] == field
    assert (api_message or message) in body["message"]
    page = client.get(f"/teams/north/coverage{query}")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "There is a problem" in html and message in html


def test_leaving_date_from_the_admin_page_and_the_roster(app, client, runner, tmp_path):
    with app.app_context():
        team = make_team("north")
        make_user("ada.admin", Role.ADMIN)
        pat = make_user("pat.prac", Role.PRACTITIONER, team=team)
        commit()
        pat_id, team_id = pat.id, team.id
    sign_in(client, "ada.admin@example.nhs.uk", PASSWORD)
    path = f"/admin/people/{pat_id}"
    form = {"team": str(team_id), "roles": ["practitioner"], "active": "y"}
    bad = post_form(client, path, data={**form, "leaving_date": "next spring"})
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "Enter the leaving date as a date, for example 17/03/2027" in html
    assert 'value="next spring"' in html  # what was typed comes back
    with app.app_context():
        assert db.session.get(User, pat_id).leaving_date is None
    ok = post_form(client, path, data={**form, "leaving_date": "31/03/2027"})
    assert ok.status_code == 303
    assert "31 March 2027" in client.get(path).get_data(as_text=True)
    with app.app_context():
        assert str(db.session.get(User, pat_id).leaving_date) == "2027-03-31"
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "leaving_date_changed")
        )
        assert event.detail == {"set": True}

    def roster(rows):
        book = Workbook()
        book.active.append(["name", "email", "role", "team", "supervisor", "leaving_date"])
        for row in rows:
            book.active.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        file = tmp_path / "roster.xlsx"
        file.write_bytes(buffer.getvalue())
        return str(file)

    result = runner.invoke(
        args=[
            "import-staff",
            roster([["Pat Prac", "pat.prac@example.nhs.uk", "practitioner", "north", "", "x"]]),
        ]
    )
    assert result.exit_code == 2 and "row 2, column leaving_date" in result.output
    result = runner.invoke(
        args=[
            "import-staff",
            roster(
                [
                    ["Pat Prac", "pat.prac@example.nhs.uk", "practitioner", "north", "", ""],
                    ["Nia Jones", "nia@example.nhs.uk", "practitioner", "north", "", "2027-01-15"],
                ]
            ),
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert str(db.session.get(User, pat_id).leaving_date) == "2027-03-31"  # blank: kept
        assert str(accounts.user_by_email("nia@example.nhs.uk").leaving_date) == "2027-01-15"
        assert db.session.scalar(select(Team).where(Team.slug == "north")) is not None
