"""The installation administrator's pages and `flask grant-installation-admin`."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from competency_app.accounts import services
from competency_app.accounts.models import (
    AuditEvent,
    Collaborative,
    Organisation,
    Role,
    User,
)
from competency_app.extensions import db
from tests.conftest import csrf_from, post_form, sign_in
from tests.factories import PASSWORD, commit, make_organisation, make_team, make_user


@pytest.fixture
def installer(app, client):
    with app.app_context():
        make_team("north")
        make_user("ada.admin", Role.ADMIN)
        make_user("ian.install", Role.INSTALLATION_ADMIN)
        commit()
    sign_in(client, "ian.install@example.nhs.uk", PASSWORD)
    return client


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_overview_lists_collaboratives_with_their_organisations(app, installer):
    with app.app_context():
        make_organisation("south-trust", domains="south.nhs.uk")
        commit()
    page = installer.get("/installation").get_data(as_text=True)
    assert "Keyworking collaborative" in page
    assert "Keyworking service" in page and "South Trust" in page
    assert "south.nhs.uk" in page
    home = installer.get("/").get_data(as_text=True)
    assert 'href="/installation"' in home  # the navigation and the home section
    assert "Without an administrator: South Trust." in home


def test_create_a_collaborative_organisation_and_first_administrator(app, installer):
    response = post_form(
        installer, "/installation/collaboratives/new", {"name": "North region", "slug": "north"}
    )
    assert response.status_code == 303
    response = post_form(
        installer,
        "/installation/collaboratives/north/organisations/new",
        {"name": "North Trust", "slug": "north-trust", "domains": "north.nhs.uk  @northcare.org"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        "/installation/organisations/north-trust/first-administrator"
    )
    with app.app_context():
        trust = db.session.scalar(select(Organisation).where(Organisation.slug == "north-trust"))
        assert trust.collaborative.slug == "north"
        assert trust.domains == ["north.nhs.uk", "northcare.org"]
        trust_id = trust.id
    response = post_form(
        installer,
        "/installation/organisations/north-trust/first-administrator",
        {"name": "Nora North", "email": "nora@north.nhs.uk"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    link = re.search(r'data-testid="set-password-link">([^<]+)<', page).group(1)
    with app.app_context():
        nora = services.user_by_email("nora@north.nhs.uk")
        assert nora.organisation_id == trust_id
        assert nora.role_set == {Role.ADMIN}
        assert nora.password_hash == services.NO_PASSWORD
    (created,) = _events(app, "collaborative_created")
    assert created.target == "north"
    (organisation_event,) = _events(app, "organisation_created")
    assert organisation_event.organisation_id == trust_id
    assert organisation_event.detail["domains"] == ["north.nhs.uk", "northcare.org"]
    (first,) = _events(app, "first_admin_created")
    assert first.organisation_id == trust_id
    assert first.actor_label == "ian.install@example.nhs.uk"
    (issued,) = _events(app, "password_link_issued")
    assert issued.organisation_id == trust_id
    # the new administrator chooses a password through the link and administers the trust
    new_browser = app.test_client()
    path = link.split("localhost", 1)[1]
    token = csrf_from(new_browser.get(path).get_data(as_text=True))
    words = "a long new passphrase 2026"
    response = new_browser.post(
        path, data={"csrf_token": token, "new_password": words, "confirm_password": words}
    )
    assert response.status_code == 303
    assert new_browser.get("/admin/people").status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "X", "slug": "Bad Slug"}, "lower-case letters, digits and single hyphens"),
        ({"name": "", "slug": "fine"}, "Enter the collaborative name"),
        ({"name": "Again", "slug": "keyworking-collaborative"}, "already exists"),
    ],
)
def test_a_collaborative_refused_keeps_what_was_typed(app, installer, data, message):
    before = _count(app, Collaborative)
    response = post_form(installer, "/installation/collaboratives/new", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert f'value="{data["slug"]}"' in page
    assert _count(app, Collaborative) == before


@pytest.mark.parametrize(
    ("domains", "message"),
    [
        ("North.nhs.uk", "Write the email domain North.nhs.uk in lower case: north.nhs.uk"),
        ("nhs", "nhs is not an email domain"),
        ("north..nhs.uk", "north..nhs.uk is not an email domain"),
        ("bad_domain.org", "bad_domain.org is not an email domain"),
        ("ok.org taken.nhs.uk", "taken.nhs.uk is already listed by Taken Trust"),
    ],
)
def test_email_domains_are_checked(app, installer, domains, message):
    with app.app_context():
        make_organisation("taken-trust", domains="taken.nhs.uk")
        commit()
    before = _count(app, Organisation)
    response = post_form(
        installer,
        "/installation/collaboratives/keyworking-collaborative/organisations/new",
        {"name": "New Trust", "slug": "new-trust", "domains": domains},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="New Trust"' in page and 'value="new-trust"' in page
    assert _count(app, Organisation) == before


def test_editing_asks_before_taking_domains_away(app, installer):
    with app.app_context():
        make_organisation("south-trust", domains="south.nhs.uk southcare.org")
        commit()
    path = "/installation/organisations/south-trust"
    page = installer.get(path).get_data(as_text=True)
    assert 'value="south.nhs.uk southcare.org"' in page
    asked = post_form(installer, path, {"name": "South NHS Trust", "domains": "south.nhs.uk"})
    assert asked.status_code == 200
    text = asked.get_data(as_text=True)
    assert "Stop using southcare.org for South Trust?" in text
    assert _events(app, "organisation_changed") == []
    response = installer.post(
        path,
        data={
            "csrf_token": csrf_from(text),
            "name": "South NHS Trust",
            "domains": "south.nhs.uk",
            "confirmed": "yes",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        south = db.session.scalar(select(Organisation).where(Organisation.slug == "south-trust"))
        assert (south.name, south.email_domains) == ("South NHS Trust", "south.nhs.uk")
    (event,) = _events(app, "organisation_changed")
    assert event.detail["old"] == {
        "name": "South Trust",
        "domains": ["south.nhs.uk", "southcare.org"],
    }
    assert event.organisation_id == south.id
    # adding a domain needs no confirmation
    response = post_form(
        installer, path, {"name": "South NHS Trust", "domains": "south.nhs.uk more.org"}
    )
    assert response.status_code == 303


def test_a_first_administrator_with_a_known_email_is_refused(app, installer):
    before = _count(app, User)
    response = post_form(
        installer,
        "/installation/organisations/keyworking-service/first-administrator",
        {"name": "Ada Again", "email": "ada.admin@example.nhs.uk"},
    )
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    assert _count(app, User) == before


def test_unknown_collaborative_or_organisation_is_not_found(installer):
    assert installer.get("/installation/organisations/nowhere").status_code == 404
    assert (
        installer.get("/installation/collaboratives/nowhere/organisations/new").status_code == 404
    )


def test_an_administrator_is_refused(app, client):
    with app.app_context():
        make_user("ada.admin", Role.ADMIN)
        commit()
    sign_in(client, "ada.admin@example.nhs.uk", PASSWORD)
    assert client.get("/installation").status_code == 403
    assert 'href="/installation"' not in client.get("/").get_data(as_text=True)


def test_grant_installation_admin_command(app, runner):
    with app.app_context():
        make_user("ada.admin", Role.ADMIN)
        commit()
    result = runner.invoke(args=["grant-installation-admin", "Ada.Admin@example.nhs.uk"])
    assert result.exit_code == 0, result.output
    assert "ada.admin@example.nhs.uk is now an installation administrator" in result.output
    with app.app_context():
        ada = services.user_by_email("ada.admin@example.nhs.uk")
        assert ada.role_set == {Role.ADMIN, Role.INSTALLATION_ADMIN}
    (event,) = _events(app, "installation_admin_granted")
    assert event.target == "ada.admin@example.nhs.uk" and event.actor_label == "cli"
    again = runner.invoke(args=["grant-installation-admin", "ada.admin@example.nhs.uk"])
    assert again.exit_code == 0 and "already" in again.output
    assert len(_events(app, "installation_admin_granted")) == 1
    unknown = runner.invoke(args=["grant-installation-admin", "nobody@example.nhs.uk"])
    assert unknown.exit_code == 2
    assert "there is no one with the email 'nobody@example.nhs.uk'" in unknown.output
