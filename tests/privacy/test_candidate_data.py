"""A candidate's copy of their data: every row about the application, found by a brute-force
walk over every table naming a candidate, and no other candidate's; people who acted by
name only; asked for by HR of the organisation hosting the vacancy from the vacancy's page,
never by another organisation's HR, a recruiter, the panel, a keyworker or an administrator;
refused once the candidate's data is purged; every request and download audited."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from competency_app.accounts.models import AuditEvent, Role, User
from competency_app.clock import today
from competency_app.common.dates import uk_date, uk_datetime
from competency_app.extensions import db
from competency_app.jobs import services as jobs
from competency_app.jobs.models import Job, JobState
from competency_app.privacy.candidate_jobs import params_of
from competency_app.privacy.candidates import candidate_holdings, collect
from competency_app.privacy.registry import CANDIDATE_TABLE
from competency_app.recruitment import checks, services
from competency_app.recruitment.models import Candidate, InterviewSlot, Vacancy
from competency_app.recruitment.retention import purge_vacancies
from tests.conftest import csrf_from
from tests.factories import commit, make_organisation, make_user
from tests.recruitment.test_lifecycle import (
    _client,
    _vacancy,
    user,
    world,  # noqa: F401 - the fixture, used below
)

pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
def jobs_dir(app, tmp_path):
    app.config["JOBS_DIR"] = str(tmp_path / "jobs")
    yield tmp_path / "jobs"
    app.config["JOBS_DIR"] = ""


@pytest.fixture
def people(app):
    """HR and an administrator of the vacancy's organisation, HR of another one, and a
    keyworker of the vacancy's team."""
    with app.app_context():
        north = _vacancy().team
        make_user("hana.hr", Role.HR)
        make_user("ada.admin", Role.ADMIN)
        make_user("kit.keyworker", Role.PRACTITIONER, team=north)
        make_user("olu.hr", Role.HR, organisation=make_organisation("county-council"))
        commit()


def _seed() -> tuple[int, int]:
    """Cara and Dan through every stage, each with rows in every candidate table: marks
    with a moderated disagreement, a slot, both panel members' scores and submissions,
    the assessment task, agreed scores; Dan offered, a check recorded, the offer
    withdrawn; then Cara offered with her checks recorded (one waived)."""
    vacancy = _vacancy()
    cara, dan = vacancy.candidates
    rae, amy, bob = user("rae.recruit"), user("amy.panel"), user("bob.panel")
    shortlist = services.shortlist_criteria(vacancy)
    disputed = next(c for c in shortlist if c.requirement == "essential")
    met = {c.key: (True, None) if c.requirement == "essential" else (None, 3) for c in shortlist}
    for candidate, who in ((cara, "Cara"), (dan, "Dan")):
        services.save_shortlist(candidate, amy, met)
        services.save_shortlist(candidate, bob, {**met, disputed.key: (False, None)})
        reason = f"{who}'s application shows two years in a similar post."
        services.moderate(candidate, {disputed.key: (True, None, reason)}, bob)
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    services.set_slot(cara, starts, "Room 2, Civic Centre", rae)
    services.set_slot(dan, starts + timedelta(hours=1), "Room 3, Civic Centre", rae)
    services.move_vacancy(vacancy, "interviewing", rae)
    keys = [c.key for c in services.interview_criteria(vacancy)]
    tasked = [c.key for c in services.assessment_criteria(vacancy)]
    for candidate, who in ((cara, "Cara"), (dan, "Dan")):
        for person in (amy, bob):
            notes = f"{person.name} on {who}: clear examples."
            services.save_scores(candidate, person, {k: (4, notes) for k in keys}, True)
        services.save_task_scores(candidate, bob, {k: 4 for k in tasked})
        services.save_agreed(candidate, bob, {k: 4 for k in keys})
    services.move_vacancy(vacancy, "decided", bob)
    found = checks.checks_for(vacancy)
    services.make_offer(dan, rae)
    checks.record_check(dan, found[0].id, "satisfactory", today(), "", rae)
    services.withdraw_offer(dan, rae)
    services.make_offer(cara, rae)
    checks.record_check(cara, found[0].id, "satisfactory", today(), "", rae)
    checks.record_check(cara, found[1].id, "waived", today(), "Cara's referee retired", rae)
    commit()
    return cara.id, dan.id


def about_candidate(candidate_id: int) -> set[tuple[str, int]]:
    """Every (table, id) naming the candidate, by walking every table's foreign keys to
    `candidate.id` (and the candidate's own row)."""
    found = {(CANDIDATE_TABLE, candidate_id)}
    for name, table in db.metadata.tables.items():
        for column in table.columns:
            if any(key.column.table.name == CANDIDATE_TABLE for key in column.foreign_keys):
                ids = db.session.scalars(select(table.c.id).where(column == candidate_id))
                found |= {(name, row_id) for row_id in ids}
    return found


def audit_about(candidate_id: int) -> set[tuple[str, int]]:
    return {
        ("audit_event", event.id)
        for event in db.session.scalars(select(AuditEvent))
        if (event.detail or {}).get("candidate") == candidate_id
    }


def exported(data: dict) -> set[tuple[str, int]]:
    return {
        (name, row["id"])
        for tables in data["sections"].values()
        for name, table in tables.items()
        for row in table["rows"]
    }


def test_the_copy_holds_every_row_about_the_candidate_and_no_other_candidates(app):
    with app.app_context():
        cara_id, dan_id = _seed()
        data, readable = collect(cara_id)
        got = exported(data)
        cara, dan = about_candidate(cara_id), about_candidate(dan_id)
        # every table naming a candidate holds rows about both: the test cannot pass empty
        tables = {name for name, _ in cara}
        assert tables == {name for name, _ in dan}
        assert tables == {h.table for h in candidate_holdings()}, "a table not in the registry"
        assert cara <= got, sorted(cara - got)
        assert not dan & got, sorted(dan & got)
        # the audit log's events about Cara, none about Dan
        assert audit_about(cara_id) <= got and audit_about(cara_id)
        assert not audit_about(dan_id) & got
        assert got == cara | audit_about(cara_id)

        # people who acted by name, never by id or address
        names = dict(db.session.execute(select(User.id, User.name)).all())
        for holding in candidate_holdings():
            for row in data["sections"][holding.section][holding.table]["rows"]:
                for column in holding.actors:
                    assert column not in row
                    assert row[column.removesuffix("_id")] in names.values()
        text = json.dumps(data)
        emails = db.session.scalars(select(User.email)).all()
        assert not [email for email in emails if email in text]
        assert "Dan" not in text
        scores = data["sections"]["Recruitment"]["interview_score"]["rows"]
        assert {row["panel_member"] for row in scores} == {"Amy Panel", "Bob Panel"}
        assert all(row["score"] == 4 for row in scores)
        assert data["candidate"] == {
            "id": cara_id,
            "reference": db.session.get_one(Candidate, cara_id).reference,
            "name": "Cara Candidate",
            "email": "cara@example.com",
        }
        vacancy = db.session.get_one(Candidate, cara_id).vacancy
        assert data["vacancy"]["title"] == vacancy.title
        assert data["vacancy"]["team"] == "North keyworking team"
        assert data["vacancy"]["closing_date"] == vacancy.closing_date.isoformat()
        assert data["outcome"]["offer"] == "Offer made" and data["outcome"]["appointable"]
        assert data["outcome"]["shortlisting"] == "Goes forward"
        assert set(data["criteria"]) >= {row["criterion_key"] for row in scores}
        # the readable page's dates are UK dates, read from the rows themselves
        slot = db.session.scalar(select(InterviewSlot).where(InterviewSlot.candidate_id == cara_id))
        rows = readable["sections"]["Recruitment"]["interview_slot"]["rows"]
        assert rows[0]["starts_at"] == uk_datetime(slot.starts_at)
        assert readable["closing_date"] == uk_date(vacancy.closing_date)


def test_a_new_candidate_table_in_the_registry_goes_into_the_copy(app, monkeypatch):
    """The copy reads the registry: a candidate holding declared there is copied (here the
    registry without `interview_slot`, then with it)."""
    from competency_app.privacy import candidates, registry

    with app.app_context():
        cara_id, _dan_id = _seed()
        without = tuple(h for h in registry.HOLDINGS if h.table != "interview_slot")
        monkeypatch.setattr(candidates, "HOLDINGS", without)
        data, _ = collect(cara_id)
        assert "interview_slot" not in data["sections"]["Recruitment"]
        monkeypatch.setattr(candidates, "HOLDINGS", registry.HOLDINGS)
        data, _ = collect(cara_id)
        assert data["sections"]["Recruitment"]["interview_slot"]["rows"]


def _job_id(response) -> int:
    assert response.status_code == 303, response.status_code
    match = re.search(r"/jobs/(\d+)$", response.headers["Location"])
    assert match
    return int(match.group(1))


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_hr_asks_from_the_vacancy_page_downloads_and_both_are_audited(app, people, jobs_dir):
    with app.app_context():
        cara_id, _dan_id = _seed()
        vacancy_id = _vacancy().id
        reference = db.session.get_one(Candidate, cara_id).reference
        organisation_id = _vacancy().team.organisation_id
    hr = _client(app, "hana.hr")
    vacancy_page = html.unescape(hr.get(f"/recruitment/{vacancy_id}").get_data(as_text=True))
    path = f"/recruitment/{vacancy_id}/candidates/{cara_id}/data"
    assert "A copy of Cara Candidate's data" in vacancy_page and path in vacancy_page
    page = html.unescape(hr.get(path).get_data(as_text=True))
    assert "Prepare a copy of Cara Candidate's data" in page and "subject access" in page
    job_id = _job_id(hr.post(path, data={"csrf_token": csrf_from(page)}))
    assert "Ready" in hr.get(f"/jobs/{job_id}").get_data(as_text=True)
    response = hr.get(f"/jobs/{job_id}/download")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/zip")
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert sorted(archive.namelist()) == ["data.json", "record.html"]
        data = json.loads(archive.read("data.json"))
        record = archive.read("record.html").decode()
    assert data["candidate"]["name"] == "Cara Candidate"
    assert "Cara Candidate" in record and "Amy Panel" in record
    # the page asked for lists the copy asked for
    assert f"/jobs/{job_id}" in hr.get(path).get_data(as_text=True)
    with app.app_context():
        job = db.session.get_one(Job, job_id)
        # the job's record outlives a purge: it names the candidate by reference only
        assert "Cara" not in f"{job.summary} {job.result_name} {job.params}"
        for action in ("candidate_data_requested", "candidate_data_downloaded"):
            (event,) = _events(action)
            assert event.target == f"candidate:{reference}"
            assert event.organisation_id == organisation_id
            assert event.detail == {"vacancy": vacancy_id, "candidate": cara_id, "job": job_id}
            assert event.actor_id == user("hana.hr").id
        # the request is in the next copy's audit log section
        data, _ = collect(cara_id)
        logged = {row["action"] for row in data["sections"]["Audit log"]["audit_event"]["rows"]}
        assert {"candidate_data_requested", "candidate_data_downloaded"} <= logged


def test_only_hr_of_the_hosting_organisation_may_ask(app, people, jobs_dir):
    with app.app_context():
        cara_id, _dan_id = _seed()
        vacancy_id = _vacancy().id
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    path = f"/recruitment/{vacancy_id}/candidates/{cara_id}/data"
    refused = ["olu.hr", "ada.admin", "rae.recruit", "bob.panel", "amy.panel", "kit.keyworker"]
    for local in refused:
        client = _client(app, local)
        token = csrf_from(client.get("/jobs").get_data(as_text=True))
        assert client.get(path).status_code == 403, local
        assert client.post(path, data={"csrf_token": token}).status_code == 403, local
        if local in ("rae.recruit", "bob.panel"):  # they see the vacancy, not the link
            page = client.get(f"/recruitment/{vacancy_id}").get_data(as_text=True)
            assert "Cara Candidate" in page and path not in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 0
        signed = len(_events("sign_in"))
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before + signed
    # a candidate of another vacancy under this one's address: not found
    hr = _client(app, "hana.hr")
    assert hr.get(f"/recruitment/{vacancy_id}/candidates/999999/data").status_code == 404


def _purge(app) -> None:
    with app.app_context():
        vacancy = _vacancy()
        vacancy.closing_date = date.today() - timedelta(days=800)
        purge_vacancies([vacancy], None, "test")
        commit()


def test_a_purged_candidate_is_not_offered_and_a_request_is_refused(app, people, jobs_dir):
    with app.app_context():
        cara_id, _dan_id = _seed()
        vacancy_id = _vacancy().id
    _purge(app)
    hr = _client(app, "hana.hr")
    vacancy_page = hr.get(f"/recruitment/{vacancy_id}").get_data(as_text=True)
    assert "purged" in vacancy_page and "/data" not in vacancy_page
    path = f"/recruitment/{vacancy_id}/candidates/{cara_id}/data"
    response = hr.get(path)
    assert response.status_code == 410
    page = html.unescape(response.get_data(as_text=True))
    assert "was purged on" in page and "nothing to copy" in page
    assert "Prepare a copy" not in page
    token = csrf_from(hr.get("/jobs").get_data(as_text=True))
    response = hr.post(path, data={"csrf_token": token})
    assert response.status_code == 410
    assert "nothing to copy" in html.unescape(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 0
        assert not _events("candidate_data_requested")


def test_a_copy_asked_for_before_a_purge_fails_with_the_reason(app, people, jobs_dir):
    with app.app_context():
        cara_id, _dan_id = _seed()
        params = params_of(db.session.get_one(Candidate, cara_id))
        job, _created = jobs.request_job("candidate_data", params, user("hana.hr"))
        job_id = job.id
        commit()
    _purge(app)
    with app.app_context():
        assert db.session.get(Candidate, cara_id) is None
        assert db.session.get_one(Vacancy, _vacancy().id).purged_at is not None
    with app.app_context():  # the job runs in this app (outside one: the last app configured)
        jobs.enqueue(job_id)
        job = db.session.get_one(Job, job_id)
        assert job.status is JobState.FAILED
        assert "purged after the retention period" in (job.error or "")
        assert not jobs.may_try_again(user("hana.hr"), job)
