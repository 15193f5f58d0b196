"""A person's copy of their data: every row about them, found by a brute-force walk over
every table, and nothing about anyone else; asked for and downloaded through the web by
the person and by their employer's HR, never by another organisation's HR."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from sqlalchemy import func, select

from competency_app.accounts import services as accounts
from competency_app.accounts.models import AuditEvent, Role, User
from competency_app.extensions import db
from competency_app.privacy.export import collect
from competency_app.privacy.registry import BY_TABLE
from competency_app.ui.demo import create_demo_organisation
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD, commit, make_organisation, make_team, make_user

DEMO_PASSWORD = "keyworking-demo-2026"
BEN = "ben.hughes@demo.nhs.uk"


@pytest.fixture
def demo(app, framework, jobs_dir):
    with app.app_context():
        create_demo_organisation(DEMO_PASSWORD)
        commit()


@pytest.fixture
def jobs_dir(app, tmp_path):
    app.config["JOBS_DIR"] = str(tmp_path / "jobs")
    yield tmp_path / "jobs"
    app.config["JOBS_DIR"] = ""


def brute_force(person_id: int, email: str) -> set[tuple[str, int]]:
    """Every (table, id) about the person, by walking every table's foreign keys: rows
    naming them in a column that is not only someone who acted, then every row below
    one of those (through any foreign key), until nothing more is found."""
    tables = db.metadata.tables
    found: dict[str, set[int]] = {"app_user": {person_id}}
    changed = True
    while changed:
        changed = False
        for name, table in tables.items():
            if "id" not in table.c or name == "app_user":
                continue
            actors = set(BY_TABLE[name].actors) if name in BY_TABLE else set()
            clauses = []
            for column in table.columns:
                for key in column.foreign_keys:
                    target = key.column.table.name
                    if column.name in actors or not found.get(target):
                        continue
                    clauses.append(column.in_(sorted(found[target])))
            if name == "audit_event":
                clauses.append(table.c.target == email)
            ids = set()
            for clause in clauses:
                ids |= set(db.session.scalars(select(table.c.id).where(clause)))
            if ids - found.get(name, set()):
                found.setdefault(name, set()).update(ids)
                changed = True
    return {(name, row_id) for name, ids in found.items() for row_id in ids}


def exported(data: dict) -> set[tuple[str, int]]:
    return {
        (name, row["id"])
        for tables in data["sections"].values()
        for name, table in tables.items()
        for row in table["rows"]
    }


def test_the_copy_holds_every_row_about_the_person_and_nothing_else(app, demo):
    with app.app_context():
        ben = accounts.user_by_email(BEN)
        expected = brute_force(ben.id, ben.email)
        data = collect(ben.id)
        got = exported(data)
        assert got == expected, (sorted(expected - got)[:10], sorted(got - expected)[:10])
        kinds = {name for name, _ in got}
        # a rich record: the demo gave Ben all of these
        assert {
            "app_user",
            "assessment",
            "self_rating",
            "validated_rating",
            "supervision_session",
            "module_completion",
        } <= kinds
        text = json.dumps(data)
        others = db.session.scalars(select(User.email).where(User.id != ben.id)).all()
        assert not [email for email in others if email in text]  # actors by name only
        assert "password_hash" not in text and "token_hash" not in text
        supervisor = accounts.user_by_email("sam.taylor@demo.nhs.uk")
        sessions = data["sections"]["Supervision"]["supervision_session"]["rows"]
        assert sessions and all(row["supervisor"] == supervisor.name for row in sessions)


def _job_id(response) -> int:
    assert response.status_code == 303, response.status_code
    match = re.search(r"/jobs/(\d+)$", response.headers["Location"])
    assert match
    return int(match.group(1))


def _archive(client, job_id: int) -> dict:
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Ready" in page, page
    response = client.get(f"/jobs/{job_id}/download")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/zip")
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert sorted(archive.namelist()) == ["data.json", "record.html"]
        page = archive.read("record.html").decode()
        data = json.loads(archive.read("data.json"))
    assert data["person"]["email"] in page and "Self-assessments and validation" in page
    return data


def test_a_keyworker_asks_for_their_own_copy_and_hr_for_an_employees(app, demo):
    keyworker = app.test_client()
    sign_in(keyworker, BEN, DEMO_PASSWORD)
    page = keyworker.get("/my-data").get_data(as_text=True)
    assert "Prepare a copy of your data" in page and "What the copy holds" in page
    job_id = _job_id(keyworker.post("/my-data", data={"csrf_token": csrf_from(page)}))
    data = _archive(keyworker, job_id)
    assert data["person"]["email"] == BEN

    hr = app.test_client()
    sign_in(hr, "priya.shah@demo.nhs.uk", DEMO_PASSWORD)
    with app.app_context():
        ben_id = accounts.user_by_email(BEN).id
    page = hr.get(f"/people/{ben_id}/data").get_data(as_text=True)
    assert "subject access request" in page
    hr_job = _job_id(hr.post(f"/people/{ben_id}/data", data={"csrf_token": csrf_from(page)}))
    assert _archive(hr, hr_job)["person"]["id"] == ben_id
    with app.app_context():
        actions = dict(
            db.session.execute(
                select(AuditEvent.action, func.count())
                .where(AuditEvent.action.like("personal_data_%"))
                .group_by(AuditEvent.action)
            ).all()
        )
        assert actions == {"personal_data_requested": 2, "personal_data_downloaded": 2}
        # each in the log of Ben's employer, naming him, never his data
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("personal_data_%"))
        ).all()
        ben = accounts.user_by_email(BEN)
        assert {(e.target, e.organisation_id) for e in events} == {(BEN, ben.organisation_id)}


def test_hr_of_another_organisation_and_colleagues_cannot_ask(app, demo):
    with app.app_context():
        other = make_organisation("county-council")
        make_user("olu.hr", Role.HR, organisation=other)
        make_user("kim.kw", Role.PRACTITIONER, team=make_team("east"))
        ben_id = accounts.user_by_email(BEN).id
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
        commit()
    for local in ("olu.hr", "kim.kw"):
        client = app.test_client()
        sign_in(client, f"{local}@example.nhs.uk", PASSWORD)
        token = csrf_from(client.get("/my-data").get_data(as_text=True))
        assert client.get(f"/people/{ben_id}/data").status_code == 403
        response = client.post(f"/people/{ben_id}/data", data={"csrf_token": token})
        assert response.status_code == 403
    with app.app_context():
        after = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action != "sign_in")
        )
        signed = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "sign_in")
        )
        assert after + signed - 2 == before  # only the two sign-ins were recorded
