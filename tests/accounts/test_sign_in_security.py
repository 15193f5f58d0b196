"""Sign-in and session security: sessions end at sign-out, argon2id hashes, the ASVS checks."""

from __future__ import annotations

import re

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from competency_app.accounts import services
from competency_app.accounts.models import AuditEvent, Role, Team, User
from competency_app.extensions import db, limiter
from tests.conftest import csrf_from, post_form, sign_in
from tests.factories import PASSWORD, commit, make_team, make_user


def _people(app):
    with app.app_context():
        team = make_team("north")
        make_user("pat.prac", Role.PRACTITIONER, team=team)
        make_user("ada.admin", Role.ADMIN)
        commit()


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str):
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get("/")


def test_sign_in_and_home(app, client):
    _people(app)
    response = sign_in(client, "pat.prac@example.nhs.uk", PASSWORD)
    assert response.status_code == 303
    page = client.get("/").get_data(as_text=True)
    assert "Hello, Pat Prac" in page


def test_cookie_copied_before_sign_out_is_refused_after(app, client):
    _people(app)
    sign_in(client, "pat.prac@example.nhs.uk", PASSWORD)
    stolen = _cookie(client)
    assert _replay(app, stolen).status_code == 200
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    replay = _replay(app, stolen)
    assert replay.status_code == 302
    assert "/login" in replay.headers["Location"]


def test_cookie_copied_before_password_change_is_refused_after(app, client):
    _people(app)
    sign_in(client, "pat.prac@example.nhs.uk", PASSWORD)
    stolen = _cookie(client)
    response = post_form(
        client,
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm_password": "a brand new passphrase",
        },
    )
    assert response.status_code == 303
    assert _replay(app, stolen).status_code == 302
    # the browser that changed it stays signed in
    assert client.get("/").status_code == 200


def test_disabling_and_role_change_end_sessions(app, client):
    _people(app)
    sign_in(client, "pat.prac@example.nhs.uk", PASSWORD)
    stolen = _cookie(client)
    with app.app_context():
        admin = services.user_by_email("ada.admin@example.nhs.uk")
        user = services.user_by_email("pat.prac@example.nhs.uk")
        team = db.session.scalar(select(Team))
        services.set_roles(user, [services.RoleGrant(Role.SUPERVISOR, team)], admin)
        commit()
    assert _replay(app, stolen).status_code == 302

    sign_in(client, "pat.prac@example.nhs.uk", PASSWORD)
    stolen = _cookie(client)
    with app.app_context():
        admin = services.user_by_email("ada.admin@example.nhs.uk")
        services.set_active(services.user_by_email("pat.prac@example.nhs.uk"), False, admin)
        commit()
    assert _replay(app, stolen).status_code == 302
    # and a disabled person cannot sign in again
    assert sign_in(client, "pat.prac@example.nhs.uk", PASSWORD).status_code == 200


def test_session_is_rotated_at_sign_in(app, client):
    _people(app)
    before = csrf_from(client.get("/login").get_data(as_text=True))
    sign_in(client, "pat.prac@example.nhs.uk", PASSWORD)
    after = csrf_from(client.get("/account/password").get_data(as_text=True))
    assert before != after  # the pre-sign-in session (and its token) was discarded


def test_unknown_email_and_wrong_password_get_identical_answers(app, client):
    _people(app)
    unknown = sign_in(client, "nobody@example.nhs.uk", PASSWORD)
    wrong = sign_in(client, "pat.prac@example.nhs.uk", "not the password at all")

    def strip(html: str) -> str:
        html = re.sub(r'name="csrf_token" value="[^"]+"', "", html)
        html = re.sub(r"nonce(=|-)\"?[A-Za-z0-9_-]+", "", html)
        return html.replace("nobody@example.nhs.uk", "EMAIL").replace(
            "pat.prac@example.nhs.uk", "EMAIL"
        )

    assert unknown.status_code == wrong.status_code == 200
    assert strip(unknown.get_data(as_text=True)) == strip(wrong.get_data(as_text=True))
    assert "Enter a correct email address and password" in unknown.get_data(as_text=True)
    with app.app_context():
        failures = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "sign_in_failed")
        ).all()
    assert len(failures) == 2


def test_throttling_per_account(app, client):
    _people(app)
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    for _ in range(limit):
        assert sign_in(client, "pat.prac@example.nhs.uk", "wrong password!").status_code == 200
    # even the right password is refused now, from any address
    assert sign_in(client, "pat.prac@example.nhs.uk", PASSWORD).status_code == 429
    # another account is unaffected
    assert sign_in(app.test_client(), "ada.admin@example.nhs.uk", PASSWORD).status_code == 303


def test_throttling_per_address(app, client):
    _people(app)
    limit = int(app.config["LOGIN_LIMIT_PER_ADDRESS"].split()[0])
    for n in range(limit):
        sign_in(client, f"guess{n}@example.nhs.uk", "wrong password!")
    assert sign_in(client, "ada.admin@example.nhs.uk", PASSWORD).status_code == 429


def test_next_never_leaves_the_site(app, client):
    _people(app)
    for target, expected in [
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/framework", "/framework"),
    ]:
        client = app.test_client()
        token = csrf_from(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login",
            query_string={"next": target},
            data={"email": "pat.prac@example.nhs.uk", "password": PASSWORD, "csrf_token": token},
        )
        assert response.headers["Location"] == expected, target


def test_post_without_csrf_token_is_400_and_changes_nothing(app, client):
    _people(app)
    sign_in(client, "ada.admin@example.nhs.uk", PASSWORD)
    response = client.post("/admin/teams", data={"name": "Rogue", "slug": "rogue"})
    assert response.status_code == 400
    response = client.post(
        "/admin/teams", data={"name": "Rogue", "slug": "rogue", "csrf_token": "forged"}
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Team).where(Team.slug == "rogue")) is None
    # logout is POST-only and needs the token too
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_passwords_are_argon2id_and_old_hashes_are_upgraded(app, client):
    _people(app)
    with app.app_context():
        user = services.user_by_email("pat.prac@example.nhs.uk")
        assert user.password_hash.startswith("$argon2id$")
        user.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        commit()
    assert sign_in(client, "pat.prac@example.nhs.uk", PASSWORD).status_code == 303
    with app.app_context():
        assert services.user_by_email("pat.prac@example.nhs.uk").password_hash.startswith(
            "$argon2id$"
        )


def test_security_headers_and_cookie_flags(app, client):
    _people(app)
    response = client.get("/login")
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.config["MAX_CONTENT_LENGTH"] <= 16 * 1024 * 1024


def test_production_cookies_are_secure_and_secret_key_required(monkeypatch):
    import pytest

    from competency_app.config import load_settings

    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_settings("production")
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    settings = load_settings("production")
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_forced_password_change_after_reset(app, client):
    _people(app)
    with app.app_context():
        admin = services.user_by_email("ada.admin@example.nhs.uk")
        temporary = services.reset_password(
            services.user_by_email("pat.prac@example.nhs.uk"), admin
        )
        commit()
    assert sign_in(client, "pat.prac@example.nhs.uk", PASSWORD).status_code == 200
    response = sign_in(client, "pat.prac@example.nhs.uk", temporary)
    assert response.headers["Location"].endswith("/account/password")
    assert client.get("/framework").headers["Location"].endswith("/account/password")
    post_form(
        client,
        "/account/password",
        {
            "current_password": temporary,
            "new_password": "my own new passphrase",
            "confirm_password": "my own new passphrase",
        },
    )
    assert client.get("/framework").status_code == 200


def test_error_pages_have_no_traceback(app, client):
    _people(app)
    sign_in(client, "pat.prac@example.nhs.uk", PASSWORD)
    response = client.get("/admin/people")
    assert response.status_code == 403
    assert "Traceback" not in response.get_data(as_text=True)
    assert client.get("/no/such/page").status_code == 404


def test_user_model_exposes_no_password_in_audit(app, client):
    _people(app)
    sign_in(client, "pat.prac@example.nhs.uk", PASSWORD)
    with app.app_context():
        for event in db.session.scalars(select(AuditEvent)):
            assert PASSWORD not in str(event.detail)
        assert db.session.scalar(select(User).where(User.email == "pat.prac@example.nhs.uk"))


def test_throttling_is_shared_between_workers_through_redis(app, tmp_path):
    """Two app instances (two workers) with Redis storage count failures together."""
    import os

    import pytest
    import redis

    from competency_app import create_app

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip("no Redis server on 127.0.0.1:6379")
    redis.Redis.from_url(url).flushdb()
    _people(app)
    overrides = {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "RATELIMIT_STORAGE_URI": url,
    }
    # The limiter is one extension object: remember the session app's in-memory storage,
    # which init_app for the workers replaces, and put it back afterwards.
    saved = limiter._storage, limiter._limiter
    workers = [create_app("testing", overrides) for _ in range(2)]
    try:
        limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
        for n in range(limit):
            client = workers[n % 2].test_client()
            assert sign_in(client, "pat.prac@example.nhs.uk", "wrong password!").status_code == 200
        for worker in workers:
            assert (
                sign_in(worker.test_client(), "pat.prac@example.nhs.uk", PASSWORD).status_code
                == 429
            )
    finally:
        limiter._storage, limiter._limiter = saved
        redis.Redis.from_url(url).flushdb()
        for worker in workers:
            with worker.app_context():
                db.engine.dispose()


def test_nul_characters_are_refused_with_400(app, client):
    _people(app)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": "pat\x00@example.nhs.uk", "password": "x", "csrf_token": token}
    )
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)
