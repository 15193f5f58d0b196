"""Recruitment: shortlisting, independent scoring, the appointable rule, purge, workbook."""

from __future__ import annotations

import html
import io
import re
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from competency_app.accounts import services as accounts
from competency_app.accounts.models import AuditEvent, Role
from competency_app.extensions import db
from competency_app.framework.models import Criterion, Element
from competency_app.recruitment import services
from competency_app.recruitment.models import (
    Candidate,
    InterviewScore,
    ShortlistMark,
    Vacancy,
)
from tests.conftest import csrf_from, sign_in
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
        make_user("pat.prac", Role.PRACTITIONER, team=north)
        south = make_team("south")
        make_user("ria.south", Role.RECRUITER, team=south)
        vacancy = services.create_vacancy(
            north, "Keyworker", date.today() + timedelta(days=14), [a, b], [a, b], b, rec
        )
        services.add_candidate(vacancy, "Cara Candidate", "cara@example.com", rec)
        commit()
        return vacancy.id


def _vacancy():
    return db.session.get(Vacancy, db.session.scalar(select(Vacancy.id)))


def _form(client, path):
    return csrf_from(client.get(path).get_data(as_text=True))


def test_shortlisting_needs_every_essential_met_and_shows_disagreement(app, vacancy_id):
    with app.app_context():
        vacancy = _vacancy()
        candidate = vacancy.candidates[0]
        criteria = services.shortlist_criteria(vacancy)
        all_met = {
            c.key: (True, None) if c.requirement == "essential" else (None, 3) for c in criteria
        }
        services.save_shortlist(candidate, user("amy.panel"), all_met)
        first_essential = next(c.key for c in criteria if c.requirement == "essential")
        services.save_shortlist(
            candidate, user("bob.panel"), {**all_met, first_essential: (False, None)}
        )
        result = services.shortlist_results(vacancy)[0]
        assert not result.goes_forward and result.status == "Shortlisters disagree"
        assert first_essential in [c.key for c in result.disagreements]
        services.save_shortlist(candidate, user("bob.panel"), all_met)
        assert services.shortlist_results(vacancy)[0].goes_forward
        with pytest.raises(services.RecruitmentError):
            services.save_shortlist(candidate, user("rae.recruit"), all_met)


def test_panel_scores_are_invisible_until_you_submit(app, client, vacancy_id):
    with app.app_context():
        vacancy = _vacancy()
        candidate = vacancy.candidates[0]
        criteria = services.interview_criteria(vacancy)
        services.save_scores(
            candidate,
            user("amy.panel"),
            {c.key: (4, "AMY-SECRET-NOTE") for c in criteria},
            submit=True,
        )
        commit()
        candidate_id = candidate.id
    sign_in(client, "bob.panel@example.nhs.uk", PASSWORD)
    path = f"/recruitment/{vacancy_id}/candidates/{candidate_id}/interview"
    page = client.get(path).get_data(as_text=True)
    assert "AMY-SECRET-NOTE" not in page and "Amy Panel" not in page
    with app.app_context():
        visible = services.visible_scores(
            db.session.get(Candidate, candidate_id), user("bob.panel")
        )
        assert visible == {}
    token = _form(client, path)
    data = {"csrf_token": token, "action": "submit"}
    data.update({f"s-{c}": "3" for c in _criteria_keys(app)})
    assert client.post(path, data=data).status_code == 303
    page = client.get(path).get_data(as_text=True)
    assert "AMY-SECRET-NOTE" in page and "3–4" in page
    # submitted scores are final: a second submission (another window) is told so
    again = client.post(path, data={**data, f"n-{_criteria_keys(app)[0]}": "TYPED-AGAIN"})
    assert again.status_code == 409
    assert "already submitted" in again.get_data(as_text=True)


def _criteria_keys(app):
    with app.app_context():
        return [c.key for c in services.interview_criteria(_vacancy())]


def _criteria(app):
    with app.app_context():
        return [(c.key, c.requirement) for c in services.interview_criteria(_vacancy())]


def test_appointable_rule_edges(app, vacancy_id):
    with app.app_context():
        vacancy = _vacancy()
        criteria = services.interview_criteria(vacancy)
        rule = services.scoring_of(vacancy).appointable_rule
        good = {c.key: 3 for c in criteria}
        assert services.appointable(criteria, good, rule).appointable
        essential = next(c for c in criteria if c.requirement == "essential")
        desirable = next(c for c in criteria if c.requirement == "desirable")
        at_two = services.appointable(criteria, {**good, essential.key: 2}, rule)
        assert not at_two.appointable
        assert [str(r) for r in at_two.reasons] == [
            f"{services.short_title(essential)}: essential criterion scored 2 (needs 3)"
        ]
        # desirable criteria rank the candidates who pass: a 1 there is no bar
        assert services.appointable(criteria, {**good, desirable.key: 1}, rule).appointable
        assert services.appointable(criteria, {**good, desirable.key: 2}, rule).appointable
        assert not services.appointable(criteria, {**good, essential.key: 1}, rule).appointable
        missing = dict(good)
        del missing[essential.key]
        assert not services.appointable(criteria, missing, rule).appointable
        # a file that bars the forbidden score on every criterion
        strict = rule.model_copy(update={"forbidden_applies_to": "all"})
        one_on_desirable = services.appointable(criteria, {**good, desirable.key: 1}, strict)
        assert not one_on_desirable.appointable
        assert str(one_on_desirable.reasons[0]).endswith(": scored 1")


def test_agreement_ranking_and_gap_fit(app, vacancy_id):
    with app.app_context():
        vacancy = _vacancy()
        candidate = vacancy.candidates[0]
        criteria = services.shortlist_criteria(vacancy)
        all_met = {
            c.key: (True, None) if c.requirement == "essential" else (None, 3) for c in criteria
        }
        for local in ("amy.panel", "bob.panel"):
            services.save_shortlist(candidate, user(local), all_met)
        keys = [c.key for c in services.interview_criteria(vacancy)]
        with pytest.raises(services.RecruitmentError):  # the chair must submit first
            services.save_agreed(candidate, user("bob.panel"), {k: 4 for k in keys})
        for local in ("amy.panel", "bob.panel"):
            services.save_scores(candidate, user(local), {k: (4, "") for k in keys}, submit=True)
        services.save_agreed(candidate, user("bob.panel"), {k: 4 for k in keys})
        ranked = services.ranking(vacancy)
        assert ranked[0].verdict.appointable and ranked[0].total == 4 * len(keys)
        # an empty team has every element as a gap: the candidate's 4s fill those linked
        linked = {link for c in db.session.scalars(select(Criterion)) for link in c.links}
        fills = {e.key for e in ranked[0].gap_fit}
        assert fills and fills <= linked
        # below the file's threshold (4 on this scale) nothing is filled
        services.save_agreed(candidate, user("bob.panel"), {k: 3 for k in keys})
        assert services.ranking(vacancy)[0].gap_fit == []


def test_candidates_are_not_visible_to_practitioners_or_other_recruiters(app, vacancy_id):
    for local in ("pat.prac", "ria.south"):
        client = app.test_client()
        sign_in(client, f"{local}@example.nhs.uk", PASSWORD)
        assert client.get(f"/recruitment/{vacancy_id}").status_code == 403
        assert "Cara" not in client.get("/recruitment").get_data(as_text=True)


def test_create_vacancy_errors_keep_input(app, client, vacancy_id):
    sign_in(client, "rae.recruit@example.nhs.uk", PASSWORD)
    token = _form(client, "/recruitment/new")
    response = client.post(
        "/recruitment/new",
        data={
            "csrf_token": token,
            "title": "Senior keyworker",
            "closing_date": "31 Dec",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter the closing date as a date, for example 17/03/2027" in page
    assert 'value="Senior keyworker"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Vacancy)) == 1


def test_purge_after_retention_leaves_no_candidate_data(app, runner, vacancy_id):
    with app.app_context():
        vacancy = _vacancy()
        candidate = vacancy.candidates[0]
        keys = [c.key for c in services.interview_criteria(vacancy)]
        services.save_scores(candidate, user("amy.panel"), {k: (3, "notes") for k in keys}, True)
        commit()
    result = runner.invoke(args=["purge-candidates"])
    assert result.exit_code == 0 and "Purged 0 candidates" in result.output
    app.config["FROZEN_NOW"] = datetime.now(UTC) + timedelta(days=14 + 370)
    result = runner.invoke(args=["purge-candidates"])
    assert "Purged 1 candidates from 1 vacancies" in result.output, result.output
    with app.app_context():
        for model in (Candidate, InterviewScore, ShortlistMark):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "candidates_purged")
        )
        assert event.detail["candidates"] == 1
        assert _vacancy().purged_at is not None


def test_workbook_for_hr(app, client, vacancy_id):
    with app.app_context():
        vacancy = _vacancy()
        services.add_candidate(vacancy, '=HYPERLINK("http://x")', "", None)
        commit()
    sign_in(client, "rae.recruit@example.nhs.uk", PASSWORD)
    response = client.get(f"/recruitment/{vacancy_id}/workbook.xlsx")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        for name in archive.namelist():
            assert not re.search(rb"<f[ >]", archive.read(name))
    token = _form(client, f"/recruitment/{vacancy_id}")
    bad = client.post(
        f"/recruitment/{vacancy_id}/candidates", data={"csrf_token": token, "name": ""}
    )
    assert bad.status_code == 400 and "Enter the candidate" in bad.get_data(as_text=True)


def test_vacancy_page_names_what_each_criterion_evidences(app, client, vacancy_id):
    sign_in(client, "rae.recruit@example.nhs.uk", PASSWORD)
    page = client.get(f"/recruitment/{vacancy_id}").get_data(as_text=True)
    with app.app_context():
        elements = {e.key: e.title for e in db.session.scalars(select(Element))}
        keys = {k for c in db.session.scalars(select(Criterion)) for k in c.links}
    shown = [f"{k} {elements[k]}" for k in sorted(keys & set(elements))]
    assert shown and all(html.escape(title, quote=False) in page for title in shown)


UNDERSTANDING = "The post holder will have a proven understanding of:"


def test_each_criterion_standing_alone_carries_its_lead_in(app, client, vacancy_id):
    """The person specification's lead-ins go with every criterion they govern wherever a
    criterion is read on its own: shortlisting and interview scoring, the vacancy, the
    person-specification page and the workbook's full text; c09 without the page number."""
    c05 = f"{UNDERSTANDING} An excellent understanding of the difficulties and inequality"
    c09 = f"{UNDERSTANDING} Working knowledge of legal frameworks that support the Keyworker"
    c16 = "Experience of: Working with children/young adults and their families"
    with app.app_context():
        candidate_id = _vacancy().candidates[0].id
    sign_in(client, "amy.panel@example.nhs.uk", PASSWORD)
    base = f"/recruitment/{vacancy_id}/candidates/{candidate_id}"
    pages = {
        "shortlist": client.get(f"{base}/shortlist"),
        "interview": client.get(f"{base}/interview"),
        "vacancy": client.get(f"/recruitment/{vacancy_id}"),
        "specification": client.get("/framework/person-specification"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        text = html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))
        assert c05 in text and c16 in text, name
        assert c09 in text and "32 Keyworker" not in text, name
    hr = app.test_client()
    sign_in(hr, "rae.recruit@example.nhs.uk", PASSWORD)
    workbook = hr.get(f"/recruitment/{vacancy_id}/workbook.xlsx")
    sheet = load_workbook(io.BytesIO(workbook.data), read_only=True)["Criteria"]
    full_texts = [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert any(t.startswith(c05) for t in full_texts)
    assert any(t.startswith(c16) for t in full_texts)


def test_a_panel_member_finds_recruitment_in_the_navigation(app, client, vacancy_id):
    """Panel membership is read with the signed-in person: a supervisor on the panel gets
    the Recruitment link, a keyworker on none does not."""
    recruitment = re.compile(r'<a[^>]+href="/recruitment/?"[^>]*>\s*Recruitment\s*</a>')
    sign_in(client, "amy.panel@example.nhs.uk", PASSWORD)
    assert recruitment.search(client.get("/").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    sign_in(client, "pat.prac@example.nhs.uk", PASSWORD)
    assert not recruitment.search(client.get("/").get_data(as_text=True))
