"""The coverage page kept per process: the same HTML as rendered afresh, never another
viewer's controls, header, form token or script nonce, and a new page after a validation,
a completion or assignment, a rename, or with a message to show."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role
from competency_app.common.caches import clear_caches
from competency_app.coverage.development import record_completion
from competency_app.coverage.fragments import FRAGMENTS, SHELLS
from competency_app.coverage.services import coverage_for_team
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.training.models import TrainingAssignment
from competency_app.training.required import required_keys
from competency_app.training.services import assign_module, cancel_assignment
from tests.conftest import csrf_from, sign_in
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
        make_user("mia.manager", Role.MANAGER, team=team)
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


def _nonce_matches_header(response) -> None:
    html = response.get_data(as_text=True)
    (nonce,) = set(re.findall(r'nonce="([^"]+)"', html))
    assert f"'nonce-{nonce}'" in response.headers["Content-Security-Policy"]
    assert "hole-" not in html  # every part was filled


def test_one_permission_class_shares_the_page_never_the_header_token_or_nonce(app, north):
    max_, mia = _client(app, "max.manager"), _client(app, "mia.manager")
    first = max_.get(PAGE)
    second = mia.get(PAGE)
    assert len(SHELLS.entries) == 1  # the same page for both managers
    for response in (first, second):
        _nonce_matches_header(response)
    max_page, mia_page = first.get_data(as_text=True), second.get_data(as_text=True)
    assert "Mia Manager" in mia_page and "Max Manager" not in mia_page
    assert csrf_from(max_page) != csrf_from(mia_page)
    assert re.findall(r'nonce="([^"]+)"', max_page) != re.findall(r'nonce="([^"]+)"', mia_page)
    # Mia's sign-out form carries her own session's token: it signs her out
    response = mia.post("/logout", data={"csrf_token": csrf_from(mia_page)})
    assert response.status_code in (302, 303)
    assert mia.get(PAGE).status_code in (302, 303)
    assert "Max Manager" in _page(max_)  # Max is still signed in


def test_a_message_waiting_to_be_shown_is_shown_and_never_kept(app, north):
    manager = _client(app, "max.manager")
    _page(manager)
    with manager.session_transaction() as session:
        session["_flashes"] = [("success", "Assignment saved for the test")]
    assert "Assignment saved for the test" in _page(manager)
    assert "Assignment saved for the test" not in _page(manager)
    assert all("Assignment saved" not in shell for shell in SHELLS.entries.values())


def _training_line(client) -> str:
    html = _page(client)
    line = re.search(r'<p id="coverage-training">(.*?)</p>', html, re.S)
    assert line is not None
    return re.sub(r"<[^>]+>", "", line.group(1))


def test_the_training_line_follows_completions_and_assignments(app, north):
    manager = _client(app, "max.manager")
    with app.app_context():
        other = make_team("south")
        make_user("sol.south", Role.PRACTITIONER, team=other)
        commit()
        version = current_version()
        required = [m for m in version.modules if m.required]
        assert required
    before = _training_line(manager)
    assert f"{3 * len(required)} never done" in before
    assert "Assigned training: 0 assigned" in before
    assert _training_line(manager) == before  # kept

    def epochs() -> dict[str, int]:
        return {t.slug: t.training_epoch for t in db.session.scalars(select(accounts.Team))}

    with app.app_context():
        start = epochs()
        person = accounts.user_by_email("kw0@example.nhs.uk")
        manager_user = accounts.user_by_email("max.manager@example.nhs.uk")
        for key in required_keys(current_version()):  # every part of every required item
            record_completion(person, key, date.today(), "CERT", manager_user)
        commit()
        now = epochs()
        assert now["north"] > start["north"] and now["south"] == start["south"]
    after_completion = _training_line(manager)
    assert f"{2 * len(required)} never done" in after_completion

    with app.app_context():
        person = accounts.user_by_email("kw1@example.nhs.uk")
        manager_user = accounts.user_by_email("max.manager@example.nhs.uk")
        version = current_version()
        assign_module(
            person, required[0].key, date.today() + timedelta(days=30), manager_user, version
        )
        commit()
    assert "Assigned training: 1 assigned, 0 completed" in _training_line(manager)

    with app.app_context():
        assignment = db.session.scalar(select(TrainingAssignment))
        cancel_assignment(assignment, accounts.user_by_email("max.manager@example.nhs.uk"))
        commit()
        assert epochs()["south"] == start["south"]
    assert "Assigned training: 0 assigned" in _training_line(manager)


def test_renaming_the_team_changes_the_kept_page(app, north):
    manager = _client(app, "max.manager")
    assert "North team: coverage" in _page(manager)
    with app.app_context():
        team = db.session.scalar(select(accounts.Team))
        team.name = "North keyworkers"
        commit()
    renamed = _page(manager)
    assert "North keyworkers: coverage" in renamed
    assert "North team" not in renamed


def test_a_kept_page_is_served_without_working_the_coverage_out_again(app, north, monkeypatch):
    from competency_app.coverage import services

    manager = _client(app, "max.manager")
    fresh = _page(manager)

    def worked_out_again(*_args, **_kwargs):
        pytest.fail("the kept page was not used")

    monkeypatch.setattr(services, "coverage_for_team", worked_out_again)
    assert _without_per_request_values(_page(manager)) == _without_per_request_values(fresh)
