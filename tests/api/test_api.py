"""The API's answers and refusals: what each token sees, pagination and filters, and the
token's life (shown once, stored hashed, last used, revoked, expired, owner disabled)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from competency_app.accounts import services as accounts
from competency_app.accounts.models import AuditEvent
from competency_app.accounts.password_links import set_password_by_link, valid_link
from competency_app.api.models import ApiToken
from competency_app.api.tokens import TokenError, create_token, token_hash
from competency_app.extensions import db
from competency_app.recruitment import services as recruitment
from competency_app.recruitment.models import Vacancy
from tests.api.conftest import bearer
from tests.conftest import post_form, sign_in
from tests.factories import PASSWORD, commit


def get(app, path: str, secret: str | None):
    headers = bearer(secret) if secret else {}
    return app.test_client().get(path, headers=headers)


def test_teams_are_those_the_owner_may_see(app, api_world):
    tokens = api_world["tokens"]
    manager = get(app, "/api/v1/teams", tokens["manager"]).get_json()
    assert [t["slug"] for t in manager["items"]] == ["north"]
    assert manager["items"][0] == {"slug": "north", "name": "North keyworking team", "members": 2}
    hr = get(app, "/api/v1/teams", tokens["hr"]).get_json()
    assert [t["slug"] for t in hr["items"]] == ["north", "south"]
    assert hr["pagination"] == {"page": 1, "per_page": 50, "total": 2, "pages": 1}
    second = get(app, "/api/v1/teams?per_page=1&page=2", tokens["admin"]).get_json()
    assert [t["slug"] for t in second["items"]] == ["south"]
    assert second["pagination"]["pages"] == 2
    named = get(app, "/api/v1/teams?name=SOUTH", tokens["admin"]).get_json()
    assert [t["slug"] for t in named["items"]] == ["south"]
    # % and _ are text, not wildcards
    assert get(app, "/api/v1/teams?name=%25", tokens["admin"]).get_json()["items"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?page=0", "page"),
        ("?page=abc", "page"),
        ("?page=1.0", "page"),
        ("?per_page=201", "per_page"),
        ("?per-page=5", "per-page"),
    ],
)
def test_bad_arguments_are_422_naming_the_argument(app, api_world, query, field):
    response = get(app, f"/api/v1/teams{query}", api_world["tokens"]["admin"])
    assert response.status_code == 422
    assert response.get_json()["error"] == "invalid_argument"
    assert response.get_json()["field"] == field


def test_coverage_members_and_gaps_of_a_team(app, api_world):
    token = api_world["tokens"]["manager"]
    coverage = get(app, "/api/v1/teams/north/coverage", token).get_json()
    assert coverage["team"]["slug"] == "north"
    assert len(coverage["members"]) == 2
    members = get(app, "/api/v1/teams/north/members", token).get_json()
    by_name = {m["name"]: m for m in members["items"]}
    assert set(by_name) == {"Pat Prac", "Kim Keyworker"}
    pat = by_name["Pat Prac"]["ratings"]
    assert pat and {r["level"] for r in pat} == {2}
    assert {r["level"] for r in by_name["Kim Keyworker"]["ratings"]} == {1}
    assert all(r["expires_at"] > r["validated_at"] for r in pat)
    only_1a = get(app, "/api/v1/teams/north/members?element=1a", token).get_json()
    assert {r["element"] for m in only_1a["items"] for r in m["ratings"]} == {"1a"}
    page = get(app, "/api/v1/teams/north/members?per_page=1&page=2", token).get_json()
    assert [m["name"] for m in page["items"]] == [members["items"][1]["name"]]
    gaps = get(app, "/api/v1/teams/north/gaps", token).get_json()
    assert gaps["items"], "two members cannot cover every element"
    assert {g["id"] for g in gaps["items"] if g["kind"] == "element" and g["status"] == "gap"} == {
        key for key in coverage["gaps"] if key != "values"
    }
    skills = get(app, "/api/v1/teams/north/gaps?kind=skill&status=gap", token).get_json()
    assert {g["id"] for g in skills["items"]} == set(coverage["skill_gaps"])
    # another team: 403 for the manager, 404 for a team that does not exist
    assert get(app, "/api/v1/teams/south/members", token).status_code == 403
    missing = get(app, "/api/v1/teams/nowhere/members", token)
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"


def test_vacancies_in_figures_without_personal_data(app, api_world):
    manager = get(app, "/api/v1/vacancies", api_world["tokens"]["manager"])
    body = manager.get_data(as_text=True)
    items = manager.get_json()["items"]
    assert [v["id"] for v in items] == [api_world["north_vacancy"]]
    assert items[0]["candidates"] == 2 and items[0]["status"] == "open"
    assert "Cara" not in body and "cara@example.com" not in body
    hr = get(app, "/api/v1/vacancies", api_world["tokens"]["hr"]).get_json()
    assert {v["id"] for v in hr["items"]} == {
        api_world["north_vacancy"],
        api_world["south_vacancy"],
    }
    # past its closing date but at the stage "open": open (the stage decides, issue 29)
    closed = get(app, "/api/v1/vacancies?status=closed", api_world["tokens"]["hr"]).get_json()
    assert closed["items"] == []
    north = get(app, "/api/v1/vacancies?team=south", api_world["tokens"]["manager"]).get_json()
    assert north["items"] == []  # a filter never widens what the token sees


def test_the_vacancy_list_follows_the_stages_and_a_lay_members_reach(app, api_world):
    """As the pages have it: a lay panel member sees their vacancy until it closes, and a
    vacancy closed before its closing date is closed."""
    with app.app_context():
        vacancy = db.session.get(Vacancy, api_world["north_vacancy"])
        recruiter = accounts.user_by_email("rae.recruit@example.nhs.uk")
        _lay, link = recruitment.invite_panel_member(
            vacancy, "Lay Three", "lay3@example.org", recruiter
        )
        set_password_by_link(valid_link(link), PASSWORD)
        commit()
    lay = app.test_client()  # a lay member holds no token: the API answers their session
    assert sign_in(lay, "lay3@example.org", PASSWORD).status_code == 303
    listed = lay.get("/api/v1/vacancies").get_json()["items"]
    assert [(v["id"], v["state"], v["status"]) for v in listed] == [
        (api_world["north_vacancy"], "open", "open")
    ]
    with app.app_context():
        vacancy = db.session.get(Vacancy, api_world["north_vacancy"])
        recruiter = accounts.user_by_email("rae.recruit@example.nhs.uk")
        recruitment.move_vacancy(vacancy, "closed", recruiter)
        commit()
    assert lay.get("/api/v1/vacancies").get_json()["items"] == []
    hr = api_world["tokens"]["hr"]
    closed = get(app, "/api/v1/vacancies?status=closed", hr).get_json()["items"]
    assert {(v["id"], v["state"], v["status"]) for v in closed} == {
        (api_world["north_vacancy"], "closed", "closed"),
    }
    still_open = get(app, "/api/v1/vacancies?status=open", hr).get_json()["items"]
    assert [(v["id"], v["state"], v["status"]) for v in still_open] == [
        (api_world["south_vacancy"], "open", "open")  # past its closing date, not closed
    ]
    # the manager of the vacancy's team still sees it, closed
    manager = get(app, "/api/v1/vacancies", api_world["tokens"]["manager"]).get_json()
    assert [(v["id"], v["status"]) for v in manager["items"]] == [
        (api_world["north_vacancy"], "closed")
    ]


def test_refusals_are_json_401s(app, api_world):
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer kwt_nope"}):
        response = app.test_client().get("/api/v1/teams", headers=headers)
        assert response.status_code == 401, headers
        assert response.get_json()["error"] == "unauthorised"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    response = app.test_client().post("/api/v1/teams", headers=bearer(api_world["tokens"]["hr"]))
    assert response.status_code == 405 and response.is_json


def _token_row(app, secret: str) -> ApiToken:
    return db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(secret)))


def test_revoked_expired_and_disabled_owner_tokens_get_401(app, api_world):
    secret = api_world["tokens"]["manager"]
    assert get(app, "/api/v1/teams", secret).status_code == 200
    with app.app_context():
        token = _token_row(app, secret)
        assert token.last_used_at is not None  # shown on the tokens page
        assert secret not in {token.token_hash, token.prefix}  # only its hash is stored
        expires = token.expires_at
    app.config["FROZEN_NOW"] = expires + timedelta(seconds=1)
    expired = get(app, "/api/v1/teams", secret)
    assert expired.status_code == 401 and "expired" in expired.get_json()["message"]
    app.config.pop("FROZEN_NOW")
    client = app.test_client()
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    with app.app_context():
        token_id = _token_row(app, secret).id
    revoked = post_form(client, f"/account/api-tokens/{token_id}/revoke", {})
    assert revoked.status_code == 303
    refused = get(app, "/api/v1/teams", secret)
    assert refused.status_code == 401 and "revoked" in refused.get_json()["message"]
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "api_token_refused")
        ).all()
        assert [e.detail["reason"] for e in events] == ["expired", "revoked"]
        assert all(secret not in json.dumps(e.detail) for e in events)
        hr = accounts.user_by_email("hana.hr@example.nhs.uk")
        admin = accounts.user_by_email("ada.admin@example.nhs.uk")
        accounts.set_active(hr, False, admin)
        commit()
    assert get(app, "/api/v1/teams", api_world["tokens"]["hr"]).status_code == 401
    with app.app_context():
        last = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "api_token_refused")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert last.detail == {"reason": "owner"}


def test_a_token_cannot_write_or_reach_the_pages(app, api_world):
    secret = api_world["tokens"]["admin"]
    client = app.test_client()
    page = client.get("/admin/people", headers=bearer(secret))
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert client.post("/admin/teams", headers=bearer(secret)).status_code == 400  # no CSRF


def test_only_managers_hr_and_admins_hold_tokens(app, api_world):
    with app.app_context():
        for local in ("pat.prac", "sue.super", "rae.recruit"):
            with pytest.raises(TokenError, match="Only managers, HR and administrators"):
                create_token(accounts.user_by_email(f"{local}@example.nhs.uk"), "mine", 30)
    client = app.test_client()
    sign_in(client, "sue.super@example.nhs.uk", PASSWORD)
    assert client.get("/account/api-tokens").status_code == 403


def test_the_tokens_page_shows_a_new_token_once(app, api_world):
    client = app.test_client()
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    page = client.get("/account/api-tokens").get_data(as_text=True)
    assert "manager reporting" in page and "Never" in page  # not used yet
    bad = post_form(client, "/account/api-tokens", {"name": "x" * 81, "days": "90"})
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "There is a problem" in html and "80 characters or fewer" in html
    assert 'value="' + "x" * 81 + '"' in html  # what was typed comes back
    unknown = post_form(client, "/account/api-tokens", {"name": "Excel", "days": "7"})
    assert unknown.status_code == 400 and "Choose how long" in unknown.get_data(as_text=True)
    created = post_form(client, "/account/api-tokens", {"name": "Excel", "days": "30"})
    assert created.status_code == 200
    secret = re.search(r'data-testid="new-token">([^<]+)<', created.get_data(as_text=True))[1]
    assert created.headers["Cache-Control"] == "no-store"
    assert get(app, "/api/v1/teams", secret).status_code == 200
    again = client.get("/account/api-tokens").get_data(as_text=True)
    assert secret not in again and "Excel" in again
    assert secret[:8] in again  # the prefix tells tokens apart
    duplicate = post_form(client, "/account/api-tokens", {"name": "excel", "days": "30"})
    assert "already have an active token with this name" in duplicate.get_data(as_text=True)
    with app.app_context():
        created_events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "api_token_created")
        ).all()
        assert created_events and all("Excel" not in json.dumps(e.detail) for e in created_events)


def test_revoking_asks_first_and_only_the_owner_may(app, api_world):
    client = app.test_client()
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    with app.app_context():
        token_id = _token_row(app, api_world["tokens"]["manager"]).id
        hr_token_id = _token_row(app, api_world["tokens"]["hr"]).id
    confirm = client.get(f"/account/api-tokens/{token_id}/revoke")
    assert confirm.status_code == 200 and "Revoke the token" in confirm.get_data(as_text=True)
    assert get(app, "/api/v1/teams", api_world["tokens"]["manager"]).status_code == 200
    assert client.get(f"/account/api-tokens/{hr_token_id}/revoke").status_code == 403
    assert client.get("/account/api-tokens/999999/revoke").status_code == 404
    done = post_form(client, f"/account/api-tokens/{token_id}/revoke", {}, follow=True)
    assert "has been revoked" in done.get_data(as_text=True)
    assert "Revoked" in done.get_data(as_text=True)


def test_the_document_and_its_page(app, api_world):
    document = get(app, "/api/v1/openapi.json", api_world["tokens"]["hr"]).get_json()
    assert document["openapi"] == "3.1.0"
    paths = set(document["paths"])
    api_rules = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi"
    }
    assert paths == api_rules  # every API route is documented, and nothing else
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    client = app.test_client()
    sign_in(client, "pat.prac@example.nhs.uk", PASSWORD)
    page = client.get("/api-docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for path in paths:
        assert path in html
    # readable offline: nothing is fetched from another site
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
