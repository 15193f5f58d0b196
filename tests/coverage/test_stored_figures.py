"""The teams' stored coverage figures: brought up to date by each sign-off from the signed-off
person's ratings alone, always equal to the figures worked out afresh, and never used when
they could be out of date (another epoch, other members, the clock past them)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role, Team
from competency_app.assessments import services as assessments
from competency_app.common.caches import clear_caches
from competency_app.coverage import stored
from competency_app.coverage.figures import TeamFigures, team_figures
from competency_app.coverage.models import StoredTeamFigures
from competency_app.coverage.services import coverage_for_team, team_practitioners
from competency_app.extensions import db
from competency_app.framework.services import current_version
from tests.factories import commit, make_team, make_user, reflect_on_values

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def teams(app, framework):
    """North (four keyworkers), south (two), one keyworker in both; one supervisor."""
    app.config["FROZEN_NOW"] = START
    with app.app_context():
        north, south = make_team("north"), make_team("south")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=north)
        grants = [accounts.RoleGrant(Role.SUPERVISOR, team) for team in (north, south)]
        accounts.set_roles(supervisor, grants, None)
        for n in range(4):
            make_user(f"kw{n}", Role.PRACTITIONER, team=north, supervisor=supervisor)
        for n in range(2):
            make_user(f"sw{n}", Role.PRACTITIONER, team=south, supervisor=supervisor)
        both = accounts.user_by_email("kw3@example.nhs.uk")
        grants = [accounts.RoleGrant(Role.PRACTITIONER, team) for team in (north, south)]
        accounts.set_roles(both, grants, None)
        commit()
    yield
    app.config.pop("FROZEN_NOW", None)


def _sign_off(person, supervisor, rng: random.Random, evidenced: bool) -> None:
    """A whole assessment at random levels, signed off; the values evidenced or not."""
    assessment = assessments.start_assessment(person)
    scale = sorted(assessment.framework_version.settings.scale.values)
    for element in assessments.elements_of(assessment.framework_version):
        levels = {s.id: (rng.choice(scale), "") for s in element.skills}
        assessments.save_element(assessment, person, element, levels, None)
    reflect_on_values(assessment, person)
    assessments.submit(assessment, person, None)
    outcome = "evidenced" if evidenced else "discuss"
    reviews = {v.id: (outcome, "Talked it through") for v in assessment.framework_version.values}
    assessments.review_values(assessment, supervisor, reviews, None)
    # agreed throughout, with a comment (a level below the one validated before needs one)
    agreed = {
        s.id: assessments.Decision(None, "Agreed in supervision")
        for element in assessments.elements_of(assessment.framework_version)
        for s in element.skills
    }
    assessments.validate(assessment, supervisor, agreed, None)


def _same(kept: TeamFigures, fresh: TeamFigures) -> None:
    assert dict(kept.competent) == dict(fresh.competent)
    assert dict(kept.developing) == dict(fresh.developing)
    assert dict(kept.holder_expiry) == dict(fresh.holder_expiry)
    assert kept.skills == fresh.skills
    assert kept.values_met == fresh.values_met
    assert kept.valid_until == fresh.valid_until


def _team(slug: str) -> Team:
    return db.session.scalar(select(Team).where(Team.slug == slug))


def test_stored_figures_always_equal_the_figures_worked_out_afresh(app, teams, monkeypatch):
    rng = random.Random(2026)
    fetched: list[list[int]] = []
    real_fetch = stored.fetch

    def counting_fetch(version, ids, now, from_history=False):
        fetched.append(list(ids))
        return real_fetch(version, ids, now, from_history)

    monkeypatch.setattr(stored, "fetch", counting_fetch)
    moment = START
    patched = full = 0
    for step in range(24):
        # the clock moves on: sometimes within the figures' window, sometimes past
        # expiries and into warning periods (validations hold 12 months here)
        moment += timedelta(days=rng.choice((0, 1, 3, 20, 45, 90, 150)))
        app.config["FROZEN_NOW"] = moment
        with app.app_context():
            version = current_version()
            people = [accounts.user_by_email(f"kw{n}@example.nhs.uk") for n in range(4)]
            people += [accounts.user_by_email(f"sw{n}@example.nhs.uk") for n in range(2)]
            person = rng.choice(people)
            supervisor = accounts.user_by_email("sue.super@example.nhs.uk")
            fetched.clear()
            _sign_off(person, supervisor, rng, evidenced=rng.random() < 0.7)
            commit()
            for slug in ("north", "south"):
                team = _team(slug)
                ids = [m.id for m in team_practitioners(team, on=moment)]
                kept = stored.stored_figures(team, version, ids, moment)
                if person.id not in ids and kept is None:
                    continue  # this team's figures were not touched by the sign-off
                assert kept is not None, (step, slug)
                _same(kept, team_figures(version, ids, moment))
                # and at later moments within the window they hold for
                later = moment + timedelta(days=rng.choice((1, 10, 30)))
                if kept.valid_until is None or later < kept.valid_until:
                    again = stored.stored_figures(team, version, ids, later)
                    assert again is not None
                    _same(again, team_figures(version, ids, later))
                elif later >= kept.valid_until:
                    assert stored.stored_figures(team, version, ids, later) is None
            # brought up to date from the signed-off person's ratings alone, unless the
            # kept figures no longer held (then the whole team's)
            if fetched and all(ids == [person.id] for ids in fetched):
                patched += 1
            else:
                full += 1
    assert patched >= 5 and full >= 2  # both ways were taken


def test_a_cold_cache_after_a_validation_reads_the_stored_figures(app, teams, monkeypatch):
    rng = random.Random(7)
    with app.app_context():
        supervisor = accounts.user_by_email("sue.super@example.nhs.uk")
        for n in (0, 1):
            _sign_off(accounts.user_by_email(f"kw{n}@example.nhs.uk"), supervisor, rng, True)
            commit()
        team, version = _team("north"), current_version()
        fresh = coverage_for_team(team, version, cached=False)
    clear_caches()  # a new process, or one that last saw another epoch

    def worked_out(*_args, **_kwargs):
        pytest.fail("the figures were worked out instead of read")

    monkeypatch.setattr(stored, "team_figures", worked_out)
    with app.app_context():
        cov = coverage_for_team(_team("north"), current_version())
        assert [(e.element.key, e.status, e.why) for e in cov.elements] == [
            (e.element.key, e.status, e.why) for e in fresh.elements
        ]
        assert [(s.skill.key, s.status) for s in cov.skills] == [
            (s.skill.key, s.status) for s in fresh.skills
        ]
        assert cov.values.met == fresh.values.met


def test_stored_figures_out_of_date_are_never_read(app, teams):
    rng = random.Random(3)
    with app.app_context():
        supervisor = accounts.user_by_email("sue.super@example.nhs.uk")
        _sign_off(accounts.user_by_email("kw0@example.nhs.uk"), supervisor, rng, True)
        commit()
        team, version = _team("north"), current_version()
        ids = [m.id for m in team_practitioners(team, on=START)]
        kept = stored.stored_figures(team, version, ids, START)
        assert kept is not None
        # the clock before they were worked out, or past the moment they hold until
        assert stored.stored_figures(team, version, ids, START - timedelta(seconds=1)) is None
        if kept.valid_until is not None:
            assert stored.stored_figures(team, version, ids, kept.valid_until) is None
        # other members (someone joined), or another order
        assert stored.stored_figures(team, version, ids[:-1], START) is None
        assert stored.stored_figures(team, version, ids[::-1], START) is None
        # a write that did not keep them (the epoch moved on without them)
        team.coverage_epoch += 1
        commit()
        assert stored.stored_figures(_team("north"), version, ids, START) is None
        # the next sign-off in the team works the whole team's out again
        _sign_off(accounts.user_by_email("kw1@example.nhs.uk"), supervisor, rng, False)
        commit()
        team = _team("north")
        kept = stored.stored_figures(team, version, ids, START)
        assert kept is not None
        _same(kept, team_figures(version, ids, START))
        row = db.session.get(StoredTeamFigures, team.id)
        assert row is not None and row.epoch == team.coverage_epoch


def test_jobs_that_run_late_or_out_of_order_leave_the_latest_figures(app, teams, monkeypatch):
    """The update runs as a job after each sign-off's commit; two sign-offs in one team whose
    jobs run the other way round, or a job run twice, still leave the figures of the team's
    latest epoch, equal to those worked out afresh."""
    queued: list = []
    monkeypatch.setattr(stored, "after_commit", queued.append)
    rng = random.Random(5)
    with app.app_context():
        supervisor = accounts.user_by_email("sue.super@example.nhs.uk")
        for name in ("kw0", "kw1"):
            _sign_off(accounts.user_by_email(f"{name}@example.nhs.uk"), supervisor, rng, True)
            commit()
        team, version = _team("north"), current_version()
        ids = [m.id for m in team_practitioners(team, on=START)]
        assert stored.stored_figures(team, version, ids, START) is None  # not run yet
    assert len(queued) == 2
    for job in (queued[1], queued[0], queued[1]):
        with app.app_context():  # the job runs in this app (not the last one configured)
            job()
        with app.app_context():
            team, version = _team("north"), current_version()
            kept = stored.stored_figures(team, version, ids, START)
            assert kept is not None
            _same(kept, team_figures(version, ids, START))
            row = db.session.get(StoredTeamFigures, team.id)
            assert row is not None and row.epoch == team.coverage_epoch
