"""The coverage page's cached matrix and gap cards: the same HTML as rendered afresh, never
another viewer's controls, and a new page after a validation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role
from competency_app.common.caches import clear_caches
from competency_app.coverage.fragments import FRAGMENTS
from competency_app.coverage.services import coverage_for_team
from competency_app.extensions import db
from competency_app.framework.services import current_version
from tests.conftest import sign_in
from tests.coverage.test_coverage import _write_history
from tests.factories import PASSWORD, commit, make_team, make_user

PAGE = "/teams/north/coverage"
HOLDS = "nhsuk-tag--green"


@pytest.fixture
def north(app, framework):
    with app.app_context():
        team = make_team("north")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=team)
        make_user("max.manager", Role.MANAGER, team=team)
        for n in range(3):
            make_user(f"kw{n}", Role.PRACTITIONER, team=team, supervisor=supervisor)
        commit()


def _client(app, local: str):
    client = app.test_client()
    sign_in(client, f"{local}@example.nhs.uk", PASSWORD)
    return client


def _page(client) -> str:
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    return response.get_data(as_text=True)


def _without_per_request_values(html: str) -> str:
    """The page less what differs on every response: the form token and the script nonce."""
    html = re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token"', html)
    return re.sub(r'nonce="[^"]+"', "nonce", html)


def test_each_viewer_sees_only_their_own_controls_whoever_came_first(app, north):
    supervisor, manager = _client(app, "sue.super"), _client(app, "max.manager")
    for first, second in ((supervisor, manager), (manager, supervisor)):
        clear_caches()
        pages = {client: _page(client) for client in (first, second)}
        supervisor_page, manager_page = pages[supervisor], pages[manager]
        workbook = 'href="/teams/north/export.xlsx"'
        assert workbook in manager_page
        assert workbook not in supervisor_page
        assert "Max Manager" in manager_page and "Max Manager" not in supervisor_page
        assert "Sue Super" in supervisor_page and "Sue Super" not in manager_page
        # one fragment per permission class: the supervisor's was not the manager's
        assert len(FRAGMENTS.entries) == 2


def test_the_cached_page_is_the_page_rendered_afresh(app, north):
    manager = _client(app, "max.manager")
    fresh = _page(manager)
    assert len(FRAGMENTS.entries) == 1
    (key,) = FRAGMENTS.entries
    cached = _page(manager)
    assert list(FRAGMENTS.entries) == [key]  # reused, not rendered again
    assert _without_per_request_values(cached) == _without_per_request_values(fresh)
    # a what-if view is rendered afresh and leaves the cache alone
    assert manager.get(f"{PAGE}?as_at=2099-01-01").status_code == 200
    assert list(FRAGMENTS.entries) == [key]


def test_a_validation_changes_the_cached_page(app, north):
    manager = _client(app, "max.manager")
    before = _page(manager)
    assert HOLDS not in before
    with app.app_context():
        version = current_version()
        team = db.session.scalar(select(accounts.Team))
        people = coverage_for_team(team, version).members
        element = version.competencies[0].elements[0]
        skills = [s for c in version.competencies for e in c.elements for s in e.skills]
        supervisor = accounts.user_by_email("sue.super@example.nhs.uk")
        held = [(0, s.key, 2, 10) for s in skills if s.element_id == element.id]
        _write_history(version, people, supervisor, held)  # bumps the coverage epoch
        commit()
    after = _page(manager)
    assert HOLDS in after
    assert len(FRAGMENTS.entries) == 2  # the new epoch's fragment beside the old one
