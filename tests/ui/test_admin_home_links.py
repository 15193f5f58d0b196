"""The administrator's home and the administration page reach every administration page
(issue 29: API tokens and notification settings were reachable from nowhere)."""

from __future__ import annotations

from competency_app.accounts.models import Role
from tests.conftest import sign_in
from tests.factories import PASSWORD, commit, make_team, make_user

PAGES = [
    'href="/account/api-tokens"',
    'href="/notifications/settings"',
    'href="/framework/versions"',
]


def test_admin_home_and_administration_page_link_every_admin_page(app, client, framework):
    with app.app_context():
        team = make_team("north")
        make_user("ada.admin", Role.ADMIN, team=team)
        make_user("pat.prac", Role.PRACTITIONER, team=team)
        commit()
    sign_in(client, "ada.admin@example.nhs.uk", PASSWORD)
    home = client.get("/").get_data(as_text=True)
    main = home.split('id="maincontent"')[1].split("</main>")[0]
    assert all(link in main for link in PAGES)
    admin = client.get("/admin").get_data(as_text=True)
    assert all(link in admin.split('id="maincontent"')[1] for link in PAGES)
    # not on a keyworker's home
    other = app.test_client()
    sign_in(other, "pat.prac@example.nhs.uk", PASSWORD)
    assert "Administration pages" not in other.get("/").get_data(as_text=True)
