"""Against the real local provider: roles from groups follow the groups at each sign-in
(hand-given roles stay), and signing out ends the provider's session too (RP-initiated
logout), so "Sign in with…" asks the next person at the computer for their password.
"""

from __future__ import annotations

import base64
import json
import os
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import session as flask_session
from sqlalchemy import select

from competency_app.accounts import services, sso
from competency_app.accounts.models import AuditEvent, Role, User
from competency_app.config import parse_group_roles
from competency_app.extensions import db
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD, commit, make_team, make_user
from tests.sso.conftest import CALLBACK, SIGNED_OUT
from tests.sso.local_provider import CLIENT_ID, LocalProvider, app_settings

MAPPING = parse_group_roles(
    "kw-north-managers=manager@north; kw-north-supervisors=supervisor@north"
)


@pytest.fixture
def people(app):
    with app.app_context():
        north = make_team("north")
        make_team("south")
        make_user("sue.super", Role.SUPERVISOR, team=north)
        make_user("pat.prac", Role.PRACTITIONER, team=north)
        make_user("mo.mapped", Role.PRACTITIONER, team=north)
        make_user("ada.admin", Role.ADMIN)
        commit()


@pytest.fixture
def groups(app, provider):
    """The provider with group mapping on; people's groups put back after the test."""
    with app_settings(app, provider.settings(OIDC_GROUPS_CLAIM="groups", OIDC_GROUP_ROLES=MAPPING)):
        yield provider
    provider.set_groups("sub-mo", ["kw-north-managers"])
    provider.set_groups("sub-sue", ["kw-north-supervisors"])


def callback_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def through_provider(client, provider, email: str, browser=None):
    started = client.get("/login/sso")
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    url = provider.authorise(started.headers["Location"], email, browser=browser)
    return client.get(callback_of(url))


def roles_of(app, email: str) -> list[tuple[str, bool]]:
    with app.app_context():
        person = db.session.scalar(select(User).where(User.email == email))
        return sorted((f"{a.role.value}@{a.team.slug}", a.from_group) for a in person.roles)


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


# ---- roles from groups -------------------------------------------------------------------


def test_a_role_from_a_group_goes_when_the_person_leaves_the_group(app, people, groups):
    assert (
        through_provider(app.test_client(), groups, "mo.mapped@example.nhs.uk").status_code == 303
    )
    assert roles_of(app, "mo.mapped@example.nhs.uk") == [
        ("manager@north", True),
        ("practitioner@north", False),
    ]
    admin = app.test_client()
    sign_in(admin, "ada.admin@example.nhs.uk", PASSWORD)
    with app.app_context():
        mo_id = db.session.scalar(select(User.id).where(User.email == "mo.mapped@example.nhs.uk"))
    page = admin.get(f"/admin/people/{mo_id}").get_data(as_text=True)
    assert "sign-in: Manager (North team). These go" in page
    # the directory's administrator takes Mo out of the group
    groups.set_groups("sub-mo", ["kw-canteen-rota"])
    client = app.test_client()
    assert through_provider(client, groups, "mo.mapped@example.nhs.uk").status_code == 303
    assert roles_of(app, "mo.mapped@example.nhs.uk") == [("practitioner@north", False)]
    changed = events(app, "roles_changed")[-1]
    assert (changed.actor_label, changed.target) == ("sso", "mo.mapped@example.nhs.uk")
    assert changed.detail["old"] == ["manager@north", "practitioner@north"]
    assert changed.detail["new"] == ["practitioner@north"]
    assert client.get("/").status_code == 200  # the hand-given role still signs them in


def test_leaving_every_mapped_group_takes_the_last_role_and_refuses_sign_in(app, people, groups):
    assert (
        through_provider(app.test_client(), groups, "mo.mapped@example.nhs.uk").status_code == 303
    )
    # an administrator removes the hand-given role and keeps the group's: still the group's
    with app.app_context():
        mo = db.session.scalar(select(User).where(User.email == "mo.mapped@example.nhs.uk"))
        admin = db.session.scalar(select(User).where(User.email == "ada.admin@example.nhs.uk"))
        north = next(a.team for a in mo.roles if a.role == Role.MANAGER)
        services.set_roles(mo, [services.RoleGrant(Role.MANAGER, north)], admin)
        commit()
    assert roles_of(app, "mo.mapped@example.nhs.uk") == [("manager@north", True)]
    signed_in = app.test_client()
    assert signed_in.get("/").status_code == 302  # the role change ended the session
    through_provider(signed_in, groups, "mo.mapped@example.nhs.uk")
    groups.set_groups("sub-mo", [])
    client = app.test_client()
    response = through_provider(client, groups, "mo.mapped@example.nhs.uk")
    assert response.status_code == 403
    assert "You have no role in this service any more" in response.get_data(as_text=True)
    assert roles_of(app, "mo.mapped@example.nhs.uk") == []
    assert client.get("/").status_code == 302
    assert signed_in.get("/").status_code == 302  # and their other session has ended
    changed = events(app, "roles_changed")[-1]
    assert (changed.actor_label, changed.detail["new"]) == ("sso", [])
    assert events(app, "sso_sign_in_failed")[-1].detail["reason"] == "no_role"
    # back in the group, the next sign-in gives the role again
    groups.set_groups("sub-mo", ["kw-north-managers"])
    assert (
        through_provider(app.test_client(), groups, "mo.mapped@example.nhs.uk").status_code == 303
    )
    assert roles_of(app, "mo.mapped@example.nhs.uk") == [("manager@north", True)]


def test_a_role_given_by_hand_stays_when_a_group_mapped_to_it_goes(app, people, groups):
    """Sue's supervisor role was given by an administrator; the group that also maps to it
    neither takes it over nor takes it away."""
    assert (
        through_provider(app.test_client(), groups, "sue.super@example.nhs.uk").status_code == 303
    )
    assert roles_of(app, "sue.super@example.nhs.uk") == [("supervisor@north", False)]
    groups.set_groups("sub-sue", [])
    assert (
        through_provider(app.test_client(), groups, "sue.super@example.nhs.uk").status_code == 303
    )
    assert roles_of(app, "sue.super@example.nhs.uk") == [("supervisor@north", False)]
    assert events(app, "roles_changed") == []


# ---- signing out at the provider -----------------------------------------------------------


def claims_of(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def sign_out(client):
    token = csrf_from(client.get("/").get_data(as_text=True))
    return client.post("/logout", data={"csrf_token": token})


def test_sign_out_ends_the_provider_session_so_the_next_person_is_asked_to_sign_in(
    app, people, provider
):
    shared_computer = requests.Session()  # the provider's cookies in the one browser
    with app_settings(app, provider.settings()):
        client = app.test_client()
        assert through_provider(client, provider, "pat.prac@example.nhs.uk", shared_computer)
        assert len(client.get_cookie("session").value) < 4000  # the ID token fits the cookie
        # while the provider's session lasts, "Sign in with…" needs no password
        assert not provider.asks_for_credentials(
            app.test_client().get("/login/sso").headers["Location"], shared_computer
        )
        # browsers check the form's redirect to the provider against the page's policy
        csp = client.get("/").headers["Content-Security-Policy"]
        assert f"form-action 'self' {provider.issuer};" in csp
        assert client.get("/logout").status_code == 405  # still a POST with its CSRF token
        assert client.post("/logout").status_code == 400
        response = sign_out(client)
        assert response.status_code == 303
        location = response.headers["Location"]
        assert location.startswith(f"{provider.issuer}/session/end?")
        query = parse_qs(urlsplit(location).query)
        assert query["post_logout_redirect_uri"] == [SIGNED_OUT]
        assert query["client_id"] == [CLIENT_ID]
        hint = claims_of(query["id_token_hint"][0])
        assert (hint["sub"], hint["aud"], hint["iss"]) == ("sub-pat", CLIENT_ID, provider.issuer)
        assert client.get("/").status_code == 302  # signed out here already
        back = provider.end_session(location, shared_computer)
        assert back == f"{SIGNED_OUT}?state={query['state'][0]}"
        page = client.get(callback_of(back)).get_data(as_text=True)
        assert "You have signed out of this service and of Test Trust account" in page
        # the state counts once
        assert "and of Test Trust" not in client.get(callback_of(back)).get_data(as_text=True)
        # the next person at the computer is asked for their password by the provider
        assert provider.asks_for_credentials(
            client.get("/login/sso").headers["Location"], shared_computer
        )
    [event] = events(app, "sign_out")
    assert event.detail == {"provider": True}


def test_an_id_token_too_big_for_the_cookie_is_not_kept(app, people, provider):
    shared_computer = requests.Session()
    with app_settings(app, provider.settings()):
        client = app.test_client()
        provider.spoil_next_id_token("oversized")
        assert through_provider(client, provider, "pat.prac@example.nhs.uk", shared_computer)
        assert len(client.get_cookie("session").value) < 4000
        location = sign_out(client).headers["Location"]
        query = parse_qs(urlsplit(location).query)
        assert "id_token_hint" not in query and query["client_id"] == [CLIENT_ID]
        assert provider.end_session(location, shared_computer).startswith(SIGNED_OUT + "?state=")
        assert provider.asks_for_credentials(
            client.get("/login/sso").headers["Location"], shared_computer
        )


@pytest.fixture(scope="module")
def provider_without_sign_out():
    running = LocalProvider([CALLBACK], end_session=False)
    yield running
    running.stop()


def test_without_an_end_session_endpoint_sign_out_is_local_and_says_so(
    app, people, provider_without_sign_out
):
    with app_settings(app, provider_without_sign_out.settings()):
        client = app.test_client()
        assert through_provider(client, provider_without_sign_out, "pat.prac@example.nhs.uk")
        response = sign_out(client)
        assert response.headers["Location"] == "/login"
        page = client.get("/login").get_data(as_text=True)
    assert "you may still be signed in to Test Trust account" in page
    assert client.get("/").status_code == 302
    assert events(app, "sign_out")[0].detail == {"provider": False}


def test_a_password_session_signs_out_here_only(app, people, provider):
    with app_settings(app, provider.settings()):
        client = app.test_client()
        assert sign_in(client, "pat.prac@example.nhs.uk", PASSWORD).status_code == 303
        response = sign_out(client)
        assert response.headers["Location"] == "/login"
        page = client.get("/login").get_data(as_text=True)
    assert "You have signed out." in page and "may still be signed in" not in page
    assert events(app, "sign_out")[0].detail == {}


def test_the_biggest_id_token_kept_leaves_the_session_cookie_under_4_kb(app):
    token = base64.urlsafe_b64encode(os.urandom(2000)).decode()[: sso.ID_TOKEN_KEPT_UP_TO]
    with app.test_request_context():
        flask_session.update({"_user_id": "1234567:89", "_fresh": True, "_id": "f" * 128})
        flask_session["csrf_token"] = "c" * 40
        sso.remember_sign_in(token)
        assert flask_session[sso.SIGNED_IN_KEY] == token
        cookie = app.session_interface.get_signing_serializer(app).dumps(dict(flask_session))
        sso.remember_sign_in(token + "x")  # one character more is not kept
        assert flask_session[sso.SIGNED_IN_KEY] == ""
    assert len(cookie) < 3600  # room left for a message or two within a browser's 4,096
