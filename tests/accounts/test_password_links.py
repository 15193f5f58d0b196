"""New people set their own password through a one-time, expiring link."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from competency_app.accounts import services
from competency_app.accounts.models import AuditEvent, PasswordLink, Role
from competency_app.accounts.password_links import set_password_by_link, token_hash, valid_link
from competency_app.clock import utcnow
from competency_app.extensions import db
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD, commit, make_team, make_user

NEW_PASSWORD = "plum orchard lantern"


def _import_new_person(app, client) -> str:
    """HR imports one new person; returns the link shown on the page."""
    with app.app_context():
        make_team("north")
        make_user("hana.hr", Role.HR)
        commit()
    sign_in(client, "hana.hr@example.nhs.uk", PASSWORD)
    token = csrf_from(client.get("/admin/imports").get_data(as_text=True))
    content = b"name,email,role,team\nNia Jones,nia.jones@example.nhs.uk,practitioner,north\n"
    preview = client.post(
        "/admin/imports/preview",
        data={"csrf_token": token, "kind": "roster", "file": (io.BytesIO(content), "s.csv")},
        content_type="multipart/form-data",
    )
    pending = re.search(r'name="token" value="([^"]+)"', preview.get_data(as_text=True)).group(1)
    done = client.post("/admin/imports/apply", data={"csrf_token": token, "token": pending})
    page = done.get_data(as_text=True)
    link = re.search(r'data-testid="password-link">([^<]+)<', page).group(1)
    # the one-time CSV holds the same link, and only once
    csv = client.post("/admin/imports/links.csv", data={"csrf_token": token})
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert link in csv.get_data(as_text=True)
    assert client.post("/admin/imports/links.csv", data={"csrf_token": token}).status_code == 409
    client.post("/logout", data={"csrf_token": token})
    return link.replace("http://localhost", "")


def test_new_person_sets_password_through_the_link_once(app, client):
    path = _import_new_person(app, client)
    token = path.rsplit("/", 1)[1]
    with app.app_context():
        nia = services.user_by_email("nia.jones@example.nhs.uk")
        stored = db.session.scalar(select(PasswordLink).where(PasswordLink.user_id == nia.id))
        assert stored.token_hash == token_hash(token) and token not in stored.token_hash
        assert nia.password_hash == services.NO_PASSWORD
    # no password works before it is set
    assert sign_in(client, "nia.jones@example.nhs.uk", services.NO_PASSWORD).status_code == 200
    page = client.get(path)
    assert page.status_code == 200 and "nia.jones@example.nhs.uk" in page.get_data(as_text=True)
    csrf = csrf_from(page.get_data(as_text=True))
    weak = client.post(
        path,
        data={"csrf_token": csrf, "new_password": "short", "confirm_password": "short"},
    )
    assert weak.status_code == 400
    assert "Password must be at least 12 characters" in weak.get_data(as_text=True)
    mismatch = client.post(
        path,
        data={"csrf_token": csrf, "new_password": NEW_PASSWORD, "confirm_password": "other"},
    )
    assert mismatch.status_code == 400
    done = client.post(
        path,
        data={"csrf_token": csrf, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    # signed in at once, in a new session (the CSRF token changes with it)
    assert done.status_code == 303 and done.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Your password is set and you are signed in." in home
    assert "Hello, Nia Jones" in home
    assert csrf_from(home) != csrf
    # single use
    assert client.get(path).status_code == 404
    client.post("/logout", data={"csrf_token": csrf_from(home)})
    assert sign_in(client, "nia.jones@example.nhs.uk", NEW_PASSWORD).status_code == 303
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert "password_link_issued" in actions and "password_set_by_link" in actions
        assert "sign_in" in actions[actions.index("password_set_by_link") :]


def test_a_link_sets_a_password_once_even_when_two_requests_race(app, client):
    path = _import_new_person(app, client)
    token = path.rsplit("/", 1)[1]
    with app.app_context():
        first, second = valid_link(token), valid_link(token)  # both read before either spends
        set_password_by_link(first, NEW_PASSWORD)
        commit()
        with pytest.raises(services.AccountError, match="has just been used"):
            set_password_by_link(second, "another long passphrase")
        db.session.rollback()
        assert valid_link(token) is None


def test_links_expire_and_stop_with_the_account(app, client):
    path = _import_new_person(app, client)
    app.config["FROZEN_NOW"] = utcnow() + timedelta(days=7, minutes=1)
    assert client.get(path).status_code == 404
    app.config.pop("FROZEN_NOW")
    assert client.get(path).status_code == 200
    with app.app_context():
        nia = services.user_by_email("nia.jones@example.nhs.uk")
        services.set_active(nia, False, None)
        commit()
    assert client.get(path).status_code == 404
    assert client.get("/set-password/not-a-real-token").status_code == 404


def test_many_links_are_a_one_time_download_and_the_command_writes_a_private_file(
    app, client, runner, tmp_path
):
    with app.app_context():
        make_team("north")
        make_user("hana.hr", Role.HR)
        commit()
    sign_in(client, "hana.hr@example.nhs.uk", PASSWORD)
    token = csrf_from(client.get("/admin/imports").get_data(as_text=True))
    lines = ["name,email,role,team"] + [
        f"Person {n},person.{n}@example.nhs.uk,practitioner,north" for n in range(60)
    ]
    preview = client.post(
        "/admin/imports/preview",
        data={
            "csrf_token": token,
            "kind": "roster",
            "file": (io.BytesIO("\n".join(lines).encode()), "s.csv"),
        },
        content_type="multipart/form-data",
    )
    pending = re.search(r'name="token" value="([^"]+)"', preview.get_data(as_text=True)).group(1)
    done = client.post("/admin/imports/apply", data={"csrf_token": token, "token": pending})
    page = done.get_data(as_text=True)
    assert "Set-your-password links for 60 new people" in page
    assert 'data-testid="password-link"' not in page  # too many for the page
    csv = client.post("/admin/imports/links.csv", data={"csrf_token": token})
    assert csv.get_data(as_text=True).count("/set-password/") == 60
    roster = tmp_path / "more.csv"
    roster.write_text("name,email,role,team\nZoe Zed,zoe@example.nhs.uk,practitioner,north\n")
    links = tmp_path / "links.csv"
    result = runner.invoke(args=["import-staff", str(roster), "--links", str(links)])
    assert result.exit_code == 0, result.output
    assert "Wrote 1 set-your-password link to" in result.output
    assert "/set-password/" not in result.output
    assert links.stat().st_mode & 0o777 == 0o600
    assert "zoe@example.nhs.uk" in links.read_text()
