"""Coverage: the page and the API agree with a brute-force computation from the history."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role
from competency_app.assessments.models import Assessment, CurrentRating, Status, ValidatedRating
from competency_app.assessments.services import _upsert_current, bump_coverage_epoch
from competency_app.coverage.services import coverage_for_team, coverage_summary, training_plan
from competency_app.extensions import db
from competency_app.framework.models import Element, Skill
from competency_app.framework.services import current_version, forget_cached_structures
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD, commit, make_team, make_user

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def team_world(app, framework):
    with app.app_context():
        team = make_team("north")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=team)
        make_user("max.manager", Role.MANAGER, team=team)
        for n in range(4):
            make_user(f"kw{n}", Role.PRACTITIONER, team=team, supervisor=supervisor)
        commit()
    return "north"


def _wipe_ratings():
    """Delete every rating as a write the cache must see: the people's teams' coverage
    epoch moves on, as it does for every change through the app."""
    bump_coverage_epoch(set(db.session.scalars(select(CurrentRating.person_id).distinct())))
    for table in ("current_rating", "validated_rating", "assessment_event", "assessment"):
        db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed table names


def _write_history(version, people, supervisor, history):
    """history: list of (person index, skill index, level, validated days ago)."""
    skills = [s for e in version.competencies for el in e.elements for s in el.skills]
    rows = []
    for cycle, (person_i, skill_i, level, days_ago) in enumerate(history, start=1):
        person = people[person_i % len(people)]
        skill = skills[skill_i % len(skills)]
        at = NOW - timedelta(days=days_ago)
        assessment = Assessment(
            person_id=person.id,
            framework_version_id=version.id,
            cycle=cycle,
            status=Status.VALIDATED,
            started_at=at,
            updated_at=at,
            validated_at=at,
        )
        db.session.add(assessment)
        db.session.flush()
        rating = ValidatedRating(
            assessment_id=assessment.id,
            person_id=person.id,
            skill_id=skill.id,
            skill_key=skill.key,
            self_level=level,
            level=level,
            validated_by_id=supervisor.id,
            validated_at=at,
            expires_at=at + timedelta(days=365),
        )
        db.session.add(rating)
        db.session.flush()
        rows.append(rating)
    # the projection, as validate() maintains it: the latest validation per person and skill
    for rating in sorted(rows, key=lambda r: (r.validated_at, r.id)):
        _upsert_current(
            [
                {
                    "person_id": rating.person_id,
                    "skill_key": rating.skill_key,
                    "element_key": rating.skill_key.split(".")[0],
                    "level": rating.level,
                    "validated_at": rating.validated_at,
                    "expires_at": rating.expires_at,
                    "rating_id": rating.id,
                }
            ]
        )


def brute_force(version, people, min_holders):
    """Coverage from the rating history alone, in plain Python."""
    latest = {}
    for r in db.session.scalars(
        select(ValidatedRating).order_by(ValidatedRating.validated_at, ValidatedRating.id)
    ):
        latest[(r.person_id, r.skill_key)] = r
    competent = version.rating_scale["competent_level"]
    horizon = NOW + timedelta(days=version.rules["expiring_soon_days"])
    result = {}
    for element in db.session.scalars(select(Element).where(Element.version_id == version.id)):
        holders, durable = 0, 0
        for person in people:
            ratings = [latest.get((person.id, s.key)) for s in element.skills]
            ok = [
                r
                for r in ratings
                if r and r.level >= competent and r.expires_at.replace(tzinfo=UTC) > NOW
            ]
            if len(ok) == len(element.skills):
                holders += 1
                if min(r.expires_at.replace(tzinfo=UTC) for r in ok) > horizon:
                    durable += 1
        need = min_holders
        gap = holders < need
        at_risk = not gap and (holders == 1 or durable < need)
        result[element.key] = (holders, gap, at_risk)
    return result


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    history=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 80), st.integers(0, 3), st.integers(0, 420)),
        max_size=120,
    ),
    # whole elements validated at once, so that holders, gaps and at-risk all vary
    holdings=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 7), st.integers(1, 3), st.integers(0, 420)),
        max_size=12,
    ),
    min_holders=st.integers(1, 3),
)
# a holder of 1a, then nothing at all: the wiped ratings must not come back from the cache
@example(history=[], holdings=[(0, 0, 3, 10)], min_holders=2)
@example(history=[], holdings=[], min_holders=2)
def test_page_and_api_equal_brute_force(app, client, team_world, history, holdings, min_holders):
    app.config["FROZEN_NOW"] = NOW
    with app.app_context():
        _wipe_ratings()
        version = current_version()
        # Versions never change once loaded; this test edits one in place, so it drops the
        # per-process copy as loading a new version would.
        db.session.execute(
            Element.__table__.update()
            .where(Element.version_id == version.id)
            .values(min_holders=min_holders)
        )
        forget_cached_structures()
        team = accounts.db.session.scalar(
            select(accounts.Team).where(accounts.Team.slug == "north")
        )
        people = coverage_for_team(team, version).members
        supervisor = accounts.user_by_email("sue.super@example.nhs.uk")
        skills = [s for c in version.competencies for e in c.elements for s in e.skills]
        elements = [e for c in version.competencies for e in c.elements]
        for person, element_i, level, days_ago in holdings:
            history = history + [
                (person, skills.index(skill), level, days_ago)
                for skill in elements[element_i].skills
            ]
        _write_history(version, people, supervisor, history)
        commit()
        expected = brute_force(version, people, min_holders)
        db.session.remove()
    if client.get("/").status_code != 200:
        sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    api = json.loads(client.get("/api/v1/teams/north/coverage").get_data(as_text=True))
    got = {e["id"]: (e["holders"], e["gap"], e["at_risk"]) for e in api["elements"]}
    for key, (holders, gap, at_risk) in expected.items():
        element = next(e for e in api["elements"] if e["id"] == key)
        if element["expected_of_everyone"]:
            assert got[key][0] == holders
        else:
            assert got[key] == (holders, gap, at_risk), key
    page = client.get("/teams/north/coverage").get_data(as_text=True)
    shown = [int(n) for n in re.findall(r'data-holders="(\d+)"', page)]
    assert shown == [e["holders"] for e in api["elements"]]


def test_expired_and_below_competent_do_not_count(app, team_world):
    with app.app_context():
        version = current_version()
        team = db.session.scalar(select(accounts.Team))
        people = coverage_for_team(team, version, NOW).members
        element = db.session.scalar(select(Element).where(Element.version_id == version.id))
        indexes = [
            i
            for i, s in enumerate(
                s for c in version.competencies for e in c.elements for s in e.skills
            )
            if s.element_id == element.id
        ]
        supervisor = accounts.user_by_email("sue.super@example.nhs.uk")
        history = [(0, i, 2, 10) for i in indexes]  # person 0 holds it, freshly
        history += [(1, i, 3, 400) for i in indexes]  # person 1's validations expired
        history += [(2, i, 1, 10) for i in indexes]  # person 2 is Developing
        _write_history(version, people, supervisor, history)
        commit()
        cov = coverage_for_team(team, version, NOW)
        ec = next(e for e in cov.elements if e.element.id == element.id)
        assert ec.holders == [people[0].id]
        assert ec.at_risk(cov.horizon)  # a single holder
        assert not ec.is_gap
        # the clock moved past the validity: the gap opens
        later = coverage_for_team(team, version, NOW + timedelta(days=400))
        assert next(e for e in later.elements if e.element.id == element.id).is_gap
        plan = training_plan(cov)
        assert plan  # modules are suggested for the at-risk and missing elements
        assert len({step.module.key for step in plan}) == len(plan)


def test_zero_holder_skills_are_listed(app, team_world):
    with app.app_context():
        version = current_version()
        team = db.session.scalar(select(accounts.Team))
        cov = coverage_for_team(team, version, NOW)
        total = db.session.scalar(
            select(db.func.count()).select_from(Skill).where(Skill.version_id == version.id)
        )
        assert len(cov.skills) == total
        assert all(s.holders == 0 and s.is_gap for s in cov.skills)
        assert db.session.scalar(select(db.func.count()).select_from(CurrentRating)) == 0


def test_completion_is_recorded_and_changes_no_rating(app, client, team_world):
    sign_in(client, "kw0@example.nhs.uk", PASSWORD)
    page = client.get("/training", follow_redirects=True).get_data(as_text=True)
    assert "Development plan" in page
    with app.app_context():
        module = current_version().modules[0].key
        person_id = accounts.user_by_email("kw0@example.nhs.uk").id
    path = f"/people/{person_id}/development"
    token = csrf_from(client.get(path).get_data(as_text=True))
    bad = client.post(
        path, data={"csrf_token": token, "module": module, "completed_on": "02/11/2026"}
    )
    assert bad.status_code == 400
    assert "YYYY-MM-DD" in bad.get_data(as_text=True)
    future = client.post(
        path, data={"csrf_token": token, "module": module, "completed_on": "2099-01-01"}
    )
    assert "cannot be in the future" in future.get_data(as_text=True)
    ok = client.post(
        path,
        data={
            "csrf_token": token,
            "module": module,
            "completed_on": "2026-11-02",
            "certificate_ref": "CERT-123",
        },
    )
    assert ok.status_code == 303
    page = client.get(path).get_data(as_text=True)
    assert "CERT-123" in page and "2 November 2026" in page
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(CurrentRating)) == 0
    # the manager may read the plan but not record on someone's behalf
    manager = app.test_client()
    sign_in(manager, "max.manager@example.nhs.uk", PASSWORD)
    assert manager.get(path).status_code == 200
    token = csrf_from(manager.get(path).get_data(as_text=True))
    assert (
        manager.post(
            path, data={"csrf_token": token, "module": module, "completed_on": "2026-11-02"}
        ).status_code
        == 403
    )


def test_chart_endpoints(app, client, team_world):
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    assert client.get("/teams/north/coverage-chart.png").data.startswith(b"\x89PNG")
    assert b"<svg" in client.get("/teams/north/coverage-chart.svg?kind=history").data
    assert client.get("/teams/north/coverage-chart.svg?kind=nope").status_code == 404
    assert client.get("/teams/nowhere/coverage").status_code == 404


def test_cached_figures_follow_validations_and_the_clock(app, team_world):
    """The per-process cache never shows stale coverage: a validation bumps the team's
    epoch, and an expiry or a clock moved backwards recomputes."""
    with app.app_context():
        version = current_version()
        team = db.session.scalar(select(accounts.Team))
        people = coverage_for_team(team, version, NOW).members
        element = next(e for c in version.competencies for e in c.elements)
        indexes = [
            i
            for i, s in enumerate(
                s for c in version.competencies for e in c.elements for s in e.skills
            )
            if s.element_id == element.id
        ]
        supervisor = accounts.user_by_email("sue.super@example.nhs.uk")

        def holders(at):
            cov = coverage_for_team(team, version, at)
            fresh = coverage_for_team(team, version, at, cached=False)
            assert coverage_summary(cov) == coverage_summary(fresh)
            return next(e for e in cov.elements if e.element.id == element.id).holders

        assert holders(NOW) == []
        epoch = team.coverage_epoch
        _write_history(version, people, supervisor, [(0, i, 2, 10) for i in indexes])
        commit()
        db.session.refresh(team)
        assert team.coverage_epoch > epoch
        assert holders(NOW) == [people[0].id]  # the validation shows at once
        assert holders(NOW + timedelta(days=356)) == []  # expired: recomputed
        assert holders(NOW) == [people[0].id]  # the clock moved back: recomputed again
