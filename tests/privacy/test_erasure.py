"""Erasing a leaver: nothing identifies them afterwards in any column of any table, the
team's coverage as at a past date counts the same, the audit log keeps the erasure without
their details; refusals change nothing and keep what was typed."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import JSON, String, Text, func, select

from competency_app.accounts import services as accounts
from competency_app.accounts.models import AuditEvent, Role, Team, User
from competency_app.clock import utcnow
from competency_app.coverage.services import coverage_for_team
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.privacy.erasure import ErasureRefused, erase
from competency_app.privacy.export import about
from competency_app.privacy.registry import DELETE, KEEP, staff_holdings
from competency_app.ui.demo import DEMO_TEAM, create_demo_organisation
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD, commit, make_organisation, make_user

DEMO_PASSWORD = "keyworking-demo-2026"
BEN, BEN_NAME = "ben.hughes@demo.nhs.uk", "Ben Hughes"
HR = "priya.shah@demo.nhs.uk"


@pytest.fixture
def demo(app, framework):
    with app.app_context():
        create_demo_organisation(DEMO_PASSWORD)
        ben = accounts.user_by_email(BEN)
        accounts.set_leaving_date(ben, date.today(), None)
        accounts.set_active(ben, False, None)
        commit()
        return ben.id


def _figures(moment) -> tuple:
    team = db.session.scalar(select(Team).where(Team.slug == DEMO_TEAM[0]))
    cov = coverage_for_team(team, current_version(), now=moment, cached=False)
    return (
        sorted(m.id for m in cov.members),
        dict(cov.counts),
        {e.element.key: len(e.holder_expiry) for e in cov.elements},
    )


def _anywhere(*needles: str) -> list[str]:
    """Every (table.column, row) of the database whose text holds one of `needles`."""
    found = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        for row in db.session.execute(select(*columns)) if columns else []:
            for column, value in zip(columns, row, strict=True):
                text = json.dumps(value) if isinstance(column.type, JSON) else str(value)
                if any(needle in text for needle in needles):
                    found.append(f"{table.name}.{column.name}: {text[:80]}")
    return found


def test_erasing_a_leaver_leaves_nothing_identifying_and_past_figures_true(app, demo):
    with app.app_context():
        past = utcnow() - timedelta(days=10)
        before = _figures(past)
        assert demo in before[0]  # Ben was a member then
        assert _anywhere(BEN, BEN_NAME)  # the demo quotes him in many places
        hr = accounts.user_by_email(HR)
        done = erase(db.session.get_one(User, demo), hr, f"{BEN_NAME} left; retention over")
        commit()
        assert done.deleted["supervision_session"] > 0 and done.kept["validated_rating"] > 0

        assert _anywhere(BEN, BEN_NAME) == []
        assert _figures(past) == before  # counted as before, under the pseudonym
        ben = db.session.get_one(User, demo)
        assert (ben.name, ben.active) == (f"Erased person {demo}", False)
        for holding in staff_holdings():
            table = db.metadata.tables[holding.table]
            rows = db.session.execute(select(table).where(about(holding, demo))).all()
            if holding.erase == DELETE:
                assert rows == [], holding.table
            if holding.erase == KEEP:
                for row in rows:
                    for column in holding.clear:
                        assert row._mapping[column] in (None, {}), (holding.table, column)
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "personal_data_erased")
        )
        assert event is not None and event.target == f"Erased person {demo}"
        assert event.detail["reason"] == f"Erased person {demo} left; retention over"
        assert event.organisation_id == ben.organisation_id
        assert accounts.authenticate(f"erased-{demo}@erased.invalid", DEMO_PASSWORD) is None


def test_an_active_person_or_ones_own_record_is_refused(app, demo):
    with app.app_context():
        hr = accounts.user_by_email(HR)
        grace = accounts.user_by_email("grace.lewis@demo.nhs.uk")
        with pytest.raises(ErasureRefused, match="still active"):
            erase(grace, hr, "asked")
        with pytest.raises(ErasureRefused, match="your own record"):
            erase(hr, hr, "asked")
        db.session.rollback()


def _count(action: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


def test_the_form_asks_for_a_reason_and_confirmation_and_keeps_what_was_typed(app, demo):
    client = app.test_client()
    sign_in(client, HR, DEMO_PASSWORD)
    path = f"/people/{demo}/erase"
    page = client.get(path).get_data(as_text=True)
    assert "cannot be undone" in page
    token = csrf_from(page)
    no_reason = client.post(path, data={"csrf_token": token, "confirm": "yes"})
    assert no_reason.status_code == 400
    text = no_reason.get_data(as_text=True)
    assert "Enter the reason" in text and 'value="yes" checked' in text
    unconfirmed = client.post(path, data={"csrf_token": token, "reason": "Left 2019"})
    assert unconfirmed.status_code == 400
    text = unconfirmed.get_data(as_text=True)
    assert "Confirm that the erasure cannot be undone" in text and "Left 2019" in text
    with app.app_context():
        assert accounts.user_by_email(BEN) is not None and _count("personal_data_erased") == 0
    done = client.post(path, data={"csrf_token": token, "reason": "Left 2019", "confirm": "yes"})
    assert done.status_code == 303
    with app.app_context():
        assert accounts.user_by_email(BEN) is None and _count("personal_data_erased") == 1


def test_hr_of_another_organisation_cannot_erase(app, demo):
    with app.app_context():
        make_user("olu.hr", Role.HR, organisation=make_organisation("county-council"))
        commit()
    client = app.test_client()
    sign_in(client, "olu.hr@example.nhs.uk", PASSWORD)
    token = csrf_from(client.get("/my-data").get_data(as_text=True))
    assert client.get(f"/people/{demo}/erase").status_code == 403
    response = client.post(
        f"/people/{demo}/erase", data={"csrf_token": token, "reason": "x", "confirm": "yes"}
    )
    assert response.status_code == 403
    with app.app_context():
        assert accounts.user_by_email(BEN) is not None


def test_an_erasure_on_request_runs_as_a_job_and_leaves_the_name_nowhere(app, demo):
    """The reason may name the person: the request's audit event and the job's own row
    hold it until the erasure runs, which rewrites them too."""
    client = app.test_client()
    sign_in(client, HR, DEMO_PASSWORD)
    path = f"/people/{demo}/erase"
    token = csrf_from(client.get(path).get_data(as_text=True))
    reason = f"{BEN_NAME} ({BEN}) asked on 1 December under Article 17"
    done = client.post(path, data={"csrf_token": token, "reason": reason, "confirm": "yes"})
    assert done.status_code == 303 and "/jobs/" in done.headers["Location"]
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"1 record erased (now Erased person {demo})" in page
    with app.app_context():
        assert _anywhere(BEN, BEN_NAME) == []
        requested = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "erasure_requested")
        )
        assert requested is not None
        assert requested.detail["reason"].startswith(f"Erased person {demo} (erased-{demo}@")
