"""Sign-in through the organisation's OpenID provider, against a real provider (oidc-provider).

Each refusal is checked for its page (status and title), its audit event and for leaving no
one signed in.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import session as flask_session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from competency_app.accounts.models import AuditEvent, Role, SsoIdentity, User
from competency_app.config import check_sign_in_settings, parse_group_roles
from competency_app.extensions import db
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD, commit, make_team, make_user
from tests.sso.local_provider import app_settings


@pytest.fixture
def people(app):
    with app.app_context():
        north = make_team("north")
        sue = make_user("sue.super", Role.SUPERVISOR, team=north)
        make_user("pat.prac", Role.PRACTITIONER, team=north, supervisor=sue)
        make_user("ada.admin", Role.ADMIN)
        make_team("south")
        commit()


@pytest.fixture
def sso(app, provider):
    with app_settings(app, provider.settings()):
        yield provider


def start(client) -> str:
    response = client.get("/login/sso")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def sign_in_through(client, provider, email: str, consent: bool = True):
    callback = provider.authorise(start(client), email, consent=consent)
    parts = urlsplit(callback)
    assert parts.path == "/login/sso/callback"
    return client.get(f"{parts.path}?{parts.query}"), f"{parts.path}?{parts.query}"


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def signed_in_as(client) -> str | None:
    page = client.get("/")
    if page.status_code != 200:
        return None
    return page.get_data(as_text=True)


def assert_refused(app, client, response, reason: str, status: int, title: str):
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:800]
    assert title in page
    assert [e.detail["reason"] for e in events(app, "sso_sign_in_failed")] == [reason]
    assert events(app, "sign_in") == []
    assert client.get("/").status_code == 302  # nobody signed in


# ---- the flow ------------------------------------------------------------------------


def test_the_authorisation_request_uses_pkce_state_and_nonce(app, people, sso):
    query = parse_qs(urlsplit(start(app.test_client())).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert len(query["state"][0]) >= 20 and len(query["nonce"][0]) >= 20
    assert query["scope"] == ["openid email profile groups"]


def test_an_existing_keyworker_signs_in_and_is_linked(app, people, sso):
    client = app.test_client()
    response, _ = sign_in_through(client, sso, "pat.prac@example.nhs.uk")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "Pat Prac" in signed_in_as(client)
    [event] = events(app, "sign_in")
    assert event.detail == {"method": "sso", "linked": True}
    with app.app_context():
        [identity] = db.session.scalars(select(SsoIdentity)).all()
        assert (identity.issuer, identity.subject) == (sso.issuer, "sub-pat")
        assert identity.user.email == "pat.prac@example.nhs.uk"
    # the second time the link decides, and nothing new is linked
    again = app.test_client()
    assert sign_in_through(again, sso, "pat.prac@example.nhs.uk")[0].status_code == 303
    assert events(app, "sign_in")[-1].detail == {"method": "sso", "linked": False}


def test_the_secret_can_go_in_the_form_to_the_token_endpoint(app, people, provider):
    with app_settings(app, provider.settings(OIDC_TOKEN_AUTH_METHOD="client_secret_post")):
        response, _ = sign_in_through(app.test_client(), provider, "pat.prac@example.nhs.uk")
    assert response.status_code == 303
    # and a wrong secret is refused by the provider: nobody signed in
    with app_settings(app, provider.settings(OIDC_CLIENT_SECRET="not-the-secret")):
        client = app.test_client()
        response, _ = sign_in_through(client, provider, "pat.prac@example.nhs.uk")
    assert response.status_code == 400 and client.get("/").status_code == 302
    assert events(app, "sso_sign_in_failed")[-1].detail["reason"] == "provider_error"


def test_next_is_kept_through_the_provider(app, people, sso):
    client = app.test_client()
    response = client.get("/login/sso?next=/framework")
    callback = sso.authorise(response.headers["Location"], "pat.prac@example.nhs.uk")
    parts = urlsplit(callback)
    assert client.get(f"{parts.path}?{parts.query}").headers["Location"] == "/framework"


def test_sign_out_ends_the_session_and_a_copied_cookie_is_refused(app, people, sso):
    client = app.test_client()
    sign_in_through(client, sso, "pat.prac@example.nhs.uk")
    cookie = client.get_cookie("session").value
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    response = replay.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_login_page_offers_the_provider_beside_the_password_form(app, people, sso):
    page = app.test_client().get("/login").get_data(as_text=True)
    assert "Sign in with Test Trust account" in page
    assert 'href="/login/sso"' in page
    assert 'name="password"' in page


# ---- refusals ------------------------------------------------------------------------


def test_an_unknown_person_is_refused_and_no_account_is_made(app, people, sso):
    client = app.test_client()
    response, _ = sign_in_through(client, sso, "stranger@example.nhs.uk")
    assert_refused(app, client, response, "unknown_user", 403, "There is no account for you")
    with app.app_context():
        assert accounts_count() == 3
        assert db.session.scalars(select(SsoIdentity)).all() == []


def accounts_count() -> int:
    return db.session.scalar(select(db.func.count()).select_from(User))


def test_an_unverified_email_is_refused(app, people, sso):
    with app.app_context():
        make_user("una.verified", Role.PRACTITIONER, team=make_team("west"))
        commit()
    client = app.test_client()
    response, _ = sign_in_through(client, sso, "una.verified@example.nhs.uk")
    assert_refused(app, client, response, "email_not_verified", 403, "not verified")


def test_a_disabled_account_is_refused(app, people, sso):
    with app.app_context():
        db.session.scalar(
            select(User).where(User.email == "pat.prac@example.nhs.uk")
        ).active = False
        commit()
    client = app.test_client()
    response, _ = sign_in_through(client, sso, "pat.prac@example.nhs.uk")
    assert_refused(app, client, response, "account_disabled", 403, "Your account is disabled")
    assert events(app, "sso_sign_in_failed")[0].target == "pat.prac@example.nhs.uk"


def test_denied_consent_is_refused(app, people, sso):
    client = app.test_client()
    response, _ = sign_in_through(client, sso, "pat.prac@example.nhs.uk", consent=False)
    assert_refused(app, client, response, "access_denied", 403, "You did not allow the sign-in")


def test_a_replayed_callback_is_refused(app, people, sso):
    client = app.test_client()
    first, callback = sign_in_through(client, sso, "pat.prac@example.nhs.uk")
    assert first.status_code == 303
    attacker = app.test_client()
    response = attacker.get(callback)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "already been used" in page
    assert [e.detail["reason"] for e in events(app, "sso_sign_in_failed")] == ["replayed"]
    assert attacker.get("/").status_code == 302


def test_a_replayed_code_is_refused_by_the_provider(app, people, sso):
    """Even with the state of its sign-in put back, a spent code gets nobody in."""
    client = app.test_client()
    authorisation = start(client)
    with client.session_transaction() as session:
        saved = {k: v for k, v in session.items() if k.startswith("_state_")}
    callback = sso.authorise(authorisation, "pat.prac@example.nhs.uk")
    parts = urlsplit(callback)
    assert client.get(f"{parts.path}?{parts.query}").status_code == 303
    replay = app.test_client()
    with replay.session_transaction() as session:
        session.update(saved)
    response = replay.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 400 and "already been used" in response.get_data(as_text=True)
    assert events(app, "sso_sign_in_failed")[-1].detail["reason"] == "replayed"
    assert replay.get("/").status_code == 302


@pytest.mark.parametrize(
    ("spoiling", "reason", "words"),
    [
        ("tampered", "tampered_token", "does not carry its valid signature"),
        ("wrong-audience", "wrong_audience", "issued to another application"),
        ("wrong-nonce", "wrong_nonce", "belongs to another sign-in attempt"),
        ("wrong-issuer", "wrong_issuer", "other than the one this application trusts"),
        ("expired", "expired_token", "has expired"),
    ],
)
def test_a_spoiled_id_token_is_refused(app, people, sso, spoiling, reason, words):
    sso.spoil_next_id_token(spoiling)
    client = app.test_client()
    response, _ = sign_in_through(client, sso, "pat.prac@example.nhs.uk")
    assert_refused(app, client, response, reason, 400, "We could not verify your sign-in")
    assert words in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(SsoIdentity)).all() == []


def test_a_provider_that_is_down_gets_a_clear_page(app, people, provider):
    with app_settings(app, provider.settings(OIDC_ISSUER="http://127.0.0.1:9")):
        client = app.test_client()
        response = client.get("/login/sso")
        assert_refused(app, client, response, "provider_unavailable", 503, "not answering")


def test_refused_callbacks_are_throttled_per_address(app, people, sso):
    with app_settings(app, {"LOGIN_LIMIT_PER_ADDRESS": "3 per 15 minutes"}):
        client = app.test_client()
        statuses = [client.get("/login/sso/callback?code=x&state=y").status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]


def test_an_address_now_at_another_subject_is_refused(app, people, sso):
    """The account is linked to the provider's first person with the address; another
    person given the address later does not get in."""
    with app.app_context():
        pat = db.session.scalar(select(User).where(User.email == "pat.prac@example.nhs.uk"))
        db.session.add(SsoIdentity(user_id=pat.id, issuer=sso.issuer, subject="sub-old-pat"))
        commit()
    client = app.test_client()
    response, _ = sign_in_through(client, sso, "pat.prac@example.nhs.uk")
    assert_refused(app, client, response, "identity_mismatch", 403, "linked to someone else")


# ---- groups and just-in-time accounts ----------------------------------------------------


def test_groups_give_and_take_mapped_team_roles(app, people, provider):
    mapping = parse_group_roles(
        "kw-north-supervisors=manager@north; kw-north-managers=manager@south"
    )
    settings = provider.settings(OIDC_GROUPS_CLAIM="groups", OIDC_GROUP_ROLES=mapping)
    with app_settings(app, settings):
        client = app.test_client()
        assert sign_in_through(client, provider, "sue.super@example.nhs.uk")[0].status_code == 303
    with app.app_context():
        sue = db.session.scalar(select(User).where(User.email == "sue.super@example.nhs.uk"))
        grants = sorted(f"{a.role.value}@{a.team.slug}" for a in sue.roles)
        assert grants == ["manager@north", "supervisor@north"]
        [event] = events(app, "roles_changed")
        assert event.actor_label == "sso" and event.detail["new"] == grants
        # she leaves the group: the mapped role goes, the role an administrator gave stays
        mapping = parse_group_roles("kw-north-leads=manager@north")
    with app_settings(app, provider.settings(OIDC_GROUPS_CLAIM="groups", OIDC_GROUP_ROLES=mapping)):
        client = app.test_client()
        assert sign_in_through(client, provider, "sue.super@example.nhs.uk")[0].status_code == 303
    with app.app_context():
        sue = db.session.scalar(select(User).where(User.email == "sue.super@example.nhs.uk"))
        assert [f"{a.role.value}@{a.team.slug}" for a in sue.roles] == ["supervisor@north"]


def test_just_in_time_accounts_are_keyworkers_when_switched_on(app, people, provider):
    settings = provider.settings(OIDC_CREATE_ACCOUNTS=True, OIDC_NEW_ACCOUNT_TEAM="north")
    with app_settings(app, settings):
        client = app.test_client()
        response, _ = sign_in_through(client, provider, "stranger@example.nhs.uk")
        assert response.status_code == 303
    with app.app_context():
        person = db.session.scalar(select(User).where(User.email == "stranger@example.nhs.uk"))
        assert [(a.role, a.team.slug) for a in person.roles] == [(Role.PRACTITIONER, "north")]
        assert person.password_hash == "!no-password-set"
    created = [e for e in events(app, "user_created") if e.target == "stranger@example.nhs.uk"]
    assert len(created) == 1 and created[0].detail["roles"] == ["practitioner@north"]
    # and no password opens the account
    assert sign_in(app.test_client(), "stranger@example.nhs.uk", PASSWORD).status_code == 200


def test_a_just_in_time_name_loses_its_line_breaks_and_an_odd_address_is_refused(
    app, people, provider
):
    """The directory's words reach an account only as the forms would take them."""
    settings = provider.settings(OIDC_CREATE_ACCOUNTS=True, OIDC_NEW_ACCOUNT_TEAM="north")
    with app_settings(app, settings):
        response, _ = sign_in_through(app.test_client(), provider, "carla.crlf@example.nhs.uk")
        assert response.status_code == 303
        refused, _ = sign_in_through(app.test_client(), provider, "odd<evil@attacker.example>")
        assert refused.status_code == 403
    with app.app_context():
        carla = db.session.scalar(select(User).where(User.email == "carla.crlf@example.nhs.uk"))
        assert carla.name == "Carla Bcc: x"
        assert db.session.scalar(select(User).where(User.email.contains("attacker"))) is None


# ---- password sign-in switched off -------------------------------------------------------


def csrf_token_for(app, client) -> str:
    with app.test_request_context():
        token = generate_csrf()
        raw = flask_session["csrf_token"]
    with client.session_transaction() as session:
        session["csrf_token"] = raw
    return token


def test_local_passwords_off_hides_the_form_and_refuses_a_password(app, people, provider):
    with app_settings(app, provider.settings(LOCAL_PASSWORDS=False)):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        assert 'name="password"' not in page and "Sign in with Test Trust account" in page
        token = csrf_token_for(app, client)  # the page has no form left to take one from
        response = client.post(
            "/login",
            data={"email": "pat.prac@example.nhs.uk", "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 403
        assert "Password sign-in is turned off" in response.get_data(as_text=True)
        assert client.get("/").status_code == 302
        [event] = events(app, "sign_in_failed")
        assert event.detail == {"reason": "password sign-in off"}
        # the provider still signs people in; password pages are gone for them
        assert sign_in_through(client, provider, "pat.prac@example.nhs.uk")[0].status_code == 303
        assert client.get("/account/password").status_code == 404
        assert "Change your password" not in client.get("/").get_data(as_text=True)


# ---- settings --------------------------------------------------------------------------


def test_groups_never_give_administrator_or_hr():
    for text in ("admins=admin@north", "people=hr@north", "x=owner@north", "nogroup"):
        with pytest.raises(RuntimeError, match="OIDC_GROUP_ROLES"):
            parse_group_roles(text)
    assert parse_group_roles("a=manager@North; b = supervisor@south") == (
        ("a", "manager", "north"),
        ("b", "supervisor", "south"),
    )


def test_settings_with_which_nobody_could_sign_in_are_refused():
    with pytest.raises(RuntimeError, match="nobody could sign in"):
        check_sign_in_settings({"LOCAL_PASSWORDS": False, "OIDC_ISSUER": ""})
    with pytest.raises(RuntimeError, match="OIDC_CLIENT_ID"):
        check_sign_in_settings({"OIDC_ISSUER": "https://login.example", "OIDC_SCOPES": "openid"})
    with pytest.raises(RuntimeError, match="OIDC_TOKEN_AUTH_METHOD"):
        check_sign_in_settings({"OIDC_TOKEN_AUTH_METHOD": "private_key_jwt"})
    with pytest.raises(RuntimeError, match="OIDC_NEW_ACCOUNT_TEAM"):
        check_sign_in_settings({"OIDC_CREATE_ACCOUNTS": True})
    check_sign_in_settings({"LOCAL_PASSWORDS": True, "OIDC_ISSUER": ""})


def test_without_a_provider_the_sso_pages_do_not_exist(app, people):
    client = app.test_client()
    assert client.get("/login/sso").status_code == 404
    assert client.get("/login/sso/callback?code=x&state=y").status_code == 404
    assert 'href="/login/sso"' not in client.get("/login").get_data(as_text=True)


# ---- administrators and the link ----------------------------------------------------------


def test_an_administrator_sees_and_removes_a_link_then_it_links_again(app, people, sso):
    client = app.test_client()
    sign_in_through(client, sso, "pat.prac@example.nhs.uk")
    admin = app.test_client()
    sign_in(admin, "ada.admin@example.nhs.uk", PASSWORD)
    with app.app_context():
        pat = db.session.scalar(select(User).where(User.email == "pat.prac@example.nhs.uk"))
        pat_id = pat.id
    page = admin.get(f"/admin/people/{pat_id}").get_data(as_text=True)
    assert "Linked on" in page, page[page.find("<main") :][:3000]
    assert "sign-in link" in page
    confirm = admin.get(f"/admin/people/{pat_id}/sign-in-link").get_data(as_text=True)
    assert "They are signed out everywhere" in confirm
    response = admin.post(
        f"/admin/people/{pat_id}/sign-in-link", data={"csrf_token": csrf_from(confirm)}
    )
    assert response.status_code == 303
    assert client.get("/").status_code == 302  # the linked session has ended
    with app.app_context():
        assert db.session.scalars(select(SsoIdentity)).all() == []
    [removed] = events(app, "sso_link_removed")
    assert removed.target == "pat.prac@example.nhs.uk" and removed.detail == {"links": 1}
    # the next sign-in through the provider links the account again
    assert sign_in_through(app.test_client(), sso, "pat.prac@example.nhs.uk")[0].status_code == 303
    assert events(app, "sign_in")[-1].detail == {"method": "sso", "linked": True}
