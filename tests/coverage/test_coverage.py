"""Coverage: the page and the API agree with a brute-force computation from the history."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select, text

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role
from competency_app.assessments.models import Assessment, CurrentRating, Status, ValidatedRating
from competency_app.assessments.projection import bump_coverage_epoch
from competency_app.assessments.projection import upsert_current as _upsert_current
from competency_app.common.caches import clear_caches
from competency_app.coverage import services
from competency_app.coverage.actions import training_plan
from competency_app.coverage.services import coverage_for_team, coverage_summary
from competency_app.exports.workbooks import GAPS_HEADER, build_workbook
from competency_app.extensions import db
from competency_app.framework.models import Element, FrameworkVersion, Skill
from competency_app.framework.services import current_version, forget_cached_structures
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD, commit, make_team, make_user

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


KEYWORKERS = 8


@pytest.fixture
def team_world(app, framework):
    with app.app_context():
        team = make_team("north")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=team)
        make_user("max.manager", Role.MANAGER, team=team)
        for n in range(KEYWORKERS):
            make_user(f"kw{n}", Role.PRACTITIONER, team=team, supervisor=supervisor)
        commit()
    return "north"


def _wipe_ratings():
    """Delete every rating as a write the cache must see: the people's teams' coverage
    epoch moves on, as it does for every change through the app."""
    bump_coverage_epoch(set(db.session.scalars(select(CurrentRating.person_id).distinct())))
    for table in (
        "value_review",
        "value_reflection",
        "validation_draft",
        "current_rating",
        "validated_rating",
        "assessment_event",
        "assessment",
    ):
        db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed table names


def _write_history(version, people, supervisor, history):
    """history: list of (person index, skill index or key, level, validated days ago)."""
    skills = [s for e in version.competencies for el in e.elements for s in el.skills]
    by_key = {s.key: s for s in skills}
    rows = []
    for cycle, (person_i, skill_i, level, days_ago) in enumerate(history, start=1):
        person = people[person_i % len(people)]
        skill = by_key[skill_i] if isinstance(skill_i, str) else skills[skill_i % len(skills)]
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


def _utc(moment):
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def brute_force(version, people, at, rule, everyone=("values", "2")):
    """Coverage at `at` from the rating history alone, in plain Python, as the framework
    file states it: statuses of every element, skill and the values, and the lists.
    `everyone` is the file's `rules.expected_of_everyone`: an element named asks every
    member for each of its skills not marked enhanced, a skill named for that skill, and
    the core values are asked of everyone only when it names `values`. Members are the
    people who had started (start date on or before the day, or none) and not left."""
    latest = {}
    for r in db.session.scalars(
        select(ValidatedRating).order_by(ValidatedRating.validated_at, ValidatedRating.id)
    ):
        if _utc(r.validated_at) <= at:
            latest[(r.person_id, r.skill_key)] = r
    competent = version.settings.scale.competent_level
    horizon = at + timedelta(days=version.settings.expiring_soon_days)
    day = at.date()
    members = [
        p
        for p in people
        if (p.leaving_date is None or p.leaving_date > day)
        and (p.start_date is None or p.start_date <= day)
    ]

    def expiry(person, skill):
        r = latest.get((person.id, skill.key))
        if r and r.level >= competent and _utc(r.expires_at) > at:
            return _utc(r.expires_at)
        return None

    elements, skills = {}, {}
    for competency in version.competencies:
        for element in competency.elements:
            need = element.min_holders
            for skill in element.skills:
                held = [x for x in (expiry(p, skill) for p in members) if x]
                durable = [x for x in held if x > horizon]
                skills[skill.key] = (
                    "gap"
                    if len(held) < need
                    else "at_risk"
                    if len(held) == 1 or len(durable) < need
                    else "met"
                )
            whole = {}
            for p in members:
                ends = [expiry(p, s) for s in element.skills]
                if all(ends):
                    whole[p.id] = min(ends)
            asked = [
                s
                for s in element.skills
                if s.key in everyone or (element.key in everyone and not s.enhanced)
            ]
            if asked:
                met = {}
                for p in members:
                    ends = [expiry(p, s) for s in asked]
                    if all(ends):
                        met[p.id] = min(ends)
                if not members or len(met) < len(members):
                    status = "gap"
                elif any(x <= horizon for x in met.values()):
                    status = "at_risk"
                else:
                    status = "met"
                # the skills not asked of everyone (enhanced) are held as any other
                rest = {skills[s.key] for s in element.skills if s not in asked}
                rank = ["met", "at_risk", "gap"]
                status = max([status, *rest], key=rank.index)
            elif rule == "whole_element":
                durable = [x for x in whole.values() if x > horizon]
                status = (
                    "gap"
                    if len(whole) < need
                    else "at_risk"
                    if len(whole) == 1 or len(durable) < need
                    else "met"
                )
            else:
                states = {skills[s.key] for s in element.skills}
                status = "gap" if "gap" in states else "at_risk" if "at_risk" in states else "met"
            elements[element.key] = (status, len(whole))
    # no value reflections in these histories: nobody has met the values, a gap only
    # where the file expects them of everyone
    values = "gap" if "values" in everyone else "met"
    gaps = [k for k, (st_, _) in elements.items() if st_ == "gap"]
    gaps += ["values"] if values == "gap" else []
    at_risk = [k for k, (st_, _) in elements.items() if st_ == "at_risk"]
    return {
        "elements": elements,
        "skills": skills,
        "values": values,
        "gaps": gaps,
        "at_risk": at_risk,
        "skill_gaps": [k for k, v in skills.items() if v == "gap"],
        "skills_at_risk": [k for k, v in skills.items() if v == "at_risk"],
        "members": [p.id for p in members],
    }


def headline(found) -> str:
    """The headline a brute-force result gives (`TeamCoverage.headline`'s words)."""

    def plural(n, word):
        return f"{n} {word if n == 1 else word + 's'}"

    elements = found["elements"]
    gaps = sum(1 for status, _ in elements.values() if status == "gap")
    at_risk = sum(1 for status, _ in elements.values() if status == "at_risk")
    members = plural(len(found["members"]), "member")
    values = f"0 of {members}"
    if found["values"] == "met":
        values = f"not expected of everyone ({values} signed off)"
    return (
        f"{len(elements) - gaps} of {len(elements)} elements met: {plural(gaps, 'gap')}, "
        f"{at_risk} at risk; core values: {values}; "
        f"{plural(len(found['skill_gaps']), 'skill')} held by too few"
    )


def _set_rule(version, rule, min_holders, everyone=("values", "2")):
    """Versions never change once loaded; this test edits one in place (rule, numbers
    needed and what is expected of everyone), so it drops the per-process copies as
    loading a new version would."""
    document = dict(version.document)
    document["rules"] = {
        **document["rules"],
        "coverage_rule": rule,
        "expected_of_everyone": list(everyone),
    }
    db.session.execute(
        FrameworkVersion.__table__.update()
        .where(FrameworkVersion.id == version.id)
        .values(document=document)
    )
    keys = [e.key for c in version.competencies for e in c.elements]
    for key, need in zip(keys, min_holders, strict=False):
        db.session.execute(
            Element.__table__.update()
            .where(Element.version_id == version.id, Element.key == key)
            .values(min_holders=need)
        )
    db.session.execute(
        Element.__table__.update()
        .where(Element.version_id == version.id)
        .values(expected_of_everyone=Element.key.in_([k for k in everyone if k in keys]))
    )
    forget_cached_structures()
    clear_caches()


def _gaps_sheet_rows(app, version_number, slug):
    with app.app_context():
        version = current_version(structure=True)
        team = db.session.scalar(select(accounts.Team).where(accounts.Team.slug == slug))
        export = build_workbook([team], version, NOW, team.name)
        db.session.remove()
    sheet = load_workbook(io.BytesIO(export.content), read_only=True)["Gaps"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == GAPS_HEADER
    return {(kind, key): status for _team, kind, key, _t, status, *_ in rows[1:]}


# The demo's cases, built by hand: every skill of 4b held by two people but nobody holds
# all of 4b; 3a held but for 3a.s4; element 2 (expected of everyone) held by 1 of the 8.
FOUR_B = [((n + d) % KEYWORKERS, f"4b.s{n + 1}", 2, 30) for n in range(12) for d in (0, 1)]
THREE_A = [(n, f"3a.s{s}", 2, 30) for n in (0, 1) for s in (1, 2, 3, 5, 6)]
TWO = [(7, f"2.s{s}", 3, 30) for s in range(1, 14)]
DEMO_CASE = FOUR_B + THREE_A + TWO
# Element 2 held by all 8 but for its enhanced skill 2.s12, which kw0 alone holds.
TWO_BUT_ENHANCED = [(p, f"2.s{s}", 2, 30) for p in range(KEYWORKERS) for s in range(1, 14)]
TWO_BUT_ENHANCED = [h for h in TWO_BUT_ENHANCED if h[1] != "2.s12" or h[0] == 0]


def histories(max_days: int, max_size: int):
    """Validations of single skills: (person, skill index, level, days ago)."""
    return st.lists(
        st.tuples(
            st.integers(0, KEYWORKERS - 1),
            st.integers(0, 80),
            st.integers(0, 3),
            st.integers(0, max_days),
        ),
        max_size=max_size,
    )


def holdings(max_days: int, max_size: int):
    """Whole elements validated at once, so that holders, gaps and at-risk all vary:
    (person, element index, level, days ago)."""
    return st.lists(
        st.tuples(
            st.integers(0, KEYWORKERS - 1),
            st.integers(0, 7),
            st.integers(1, 3),
            st.integers(0, max_days),
        ),
        max_size=max_size,
    )


MIN_HOLDERS = st.lists(st.integers(1, 3), min_size=8, max_size=8)
RULES = st.sampled_from(["each_skill", "whole_element"])
# rules.expected_of_everyone: the keyworking file's (element 2 but its enhanced 2.s12, and
# the values), without the values, skills named one by one (an enhanced one among them),
# and nothing at all
EVERYONE = st.sampled_from([("values", "2"), ("2",), ("values", "1a.s2", "2.s12", "4b"), ()])
# a member's start date (days from NOW; None: not recorded)
STARTS = st.one_of(st.none(), st.integers(-500, 20))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    history=histories(max_days=420, max_size=150),
    holdings=holdings(max_days=420, max_size=16),
    min_holders=MIN_HOLDERS,
    rule=RULES,
    as_at_days=st.sampled_from([0, 0, -40, -400, 30, 75]),
    leaving_in=st.one_of(st.none(), st.integers(-5, 90)),
    everyone=EVERYONE,
    start_in=STARTS,
)
@example(
    history=DEMO_CASE,
    holdings=[],
    min_holders=[1] * 8,
    rule="each_skill",
    as_at_days=0,
    leaving_in=None,
    everyone=("values", "2"),
    start_in=None,
)
@example(
    history=DEMO_CASE,
    holdings=[],
    min_holders=[1] * 8,
    rule="whole_element",
    as_at_days=0,
    leaving_in=None,
    everyone=("values", "2"),
    start_in=None,
)
# element 2 judged without its enhanced skill: not a gap (2.s12 held by the team, by kw0
# alone: at risk); as at 400 days ago kw5 (started 30 days ago) was not yet a member, and
# the values, not expected of everyone by that file, are met
@example(
    history=TWO_BUT_ENHANCED,
    holdings=[],
    min_holders=[1] * 8,
    rule="each_skill",
    as_at_days=0,
    leaving_in=None,
    everyone=("values", "2"),
    start_in=-30,
)
@example(
    history=TWO_BUT_ENHANCED,
    holdings=[],
    min_holders=[1] * 8,
    rule="each_skill",
    as_at_days=-400,
    leaving_in=None,
    everyone=("2",),
    start_in=-30,
)
# a holder of 1a, then nothing at all: the wiped ratings must not come back from the cache
@example(
    history=[],
    holdings=[(0, 0, 3, 10)],
    min_holders=[2] * 8,
    rule="each_skill",
    as_at_days=0,
    leaving_in=None,
    everyone=("values", "2"),
    start_in=None,
)
@example(
    history=[],
    holdings=[],
    min_holders=[2] * 8,
    rule="each_skill",
    as_at_days=0,
    leaving_in=None,
    everyone=("values", "2"),
    start_in=None,
)
def test_every_consumer_equals_brute_force(
    app,
    client,
    team_world,
    history,
    holdings,
    min_holders,
    rule,
    as_at_days,
    leaving_in,
    everyone,
    start_in,
):
    """The page, the API (today, past and future), the workbook's Gaps sheet and the home
    page's headline all say what a brute-force reading of the rating history says, by the
    file's rules (what is expected of everyone, enhanced skills left out) and the members'
    start and leaving dates."""
    app.config["FROZEN_NOW"] = NOW
    with app.app_context():
        _wipe_ratings()
        version = current_version()
        _set_rule(version, rule, min_holders, everyone)
        version = current_version(structure=True)
        team = db.session.scalar(select(accounts.Team).where(accounts.Team.slug == "north"))
        people = services.team_practitioners(team)
        leaver = people[3]
        leaver.leaving_date = None if leaving_in is None else NOW.date() + timedelta(leaving_in)
        starter = people[5]
        starter.start_date = None if start_in is None else NOW.date() + timedelta(start_in)
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
        at = NOW + timedelta(days=as_at_days)
        today = brute_force(version, people, NOW, rule, everyone)
        expected = brute_force(version, people, at, rule, everyone)
        db.session.remove()
    if client.get("/").status_code != 200:
        sign_in(client, "max.manager@example.nhs.uk", PASSWORD)

    # the JSON API, as at the date
    query = "" if as_at_days == 0 else f"?as_at={at.date().isoformat()}"
    api = json.loads(client.get(f"/api/v1/teams/north/coverage{query}").get_data(as_text=True))
    assert [m["id"] for m in api["members"]] == expected["members"]
    got = {e["id"]: (e["status"], e["holders"]) for e in api["elements"]}
    assert got == expected["elements"]
    assert {s["id"]: s["status"] for s in api["skills"]} == expected["skills"]
    assert api["gaps"] == expected["gaps"]
    assert api["at_risk"] == expected["at_risk"]
    assert api["skill_gaps"] == expected["skill_gaps"]
    assert api["skills_at_risk"] == expected["skills_at_risk"]
    assert api["counts"]["gaps"] == len(expected["gaps"])
    assert api["rule"] == rule

    # the page, as at the same date: statuses in the matrix, skill-gap cards
    page = client.get(f"/teams/north/coverage{query}").get_data(as_text=True)
    shown = re.findall(r'data-holders="(\d+)" data-status="(\w+)"', page)
    assert [(status, int(n)) for n, status in shown] == list(expected["elements"].values())
    cards = re.findall(r'id="gap-skill-([\w-]+)"', page)
    assert cards == [k.replace(".", "-") for k in expected["skill_gaps"]]

    # today's figures: the home page's counts and the workbook's Gaps sheet
    assert f"{headline(expected)}." in page
    home = client.get("/").get_data(as_text=True)
    assert f"; {headline(today)}." in home
    sheet = _gaps_sheet_rows(app, None, "north")
    words = {"gap": "gap", "at_risk": "at risk"}
    wanted = {("element", k): words[s] for k, (s, _) in today["elements"].items() if s != "met"}
    wanted.update({("skill", k): words[s] for k, s in today["skills"].items() if s != "met"})
    if today["values"] == "gap":
        wanted[("values", "values")] = "gap"
    assert sheet == wanted

    if history == DEMO_CASE and rule == "each_skill":
        # the demo's facts: 4b met by its skills though nobody holds all of it, 3a.s4 a
        # skill gap held by nobody, element 2 not met by 7 of the 8
        element = {e["id"]: e for e in api["elements"]}
        assert element["4b"]["status"] == "met" and element["4b"]["holders"] == 0
        assert "3a.s4" in api["skill_gaps"]
        assert "3a.s4 is held by nobody" in element["3a"]["why"]
        assert element["2"]["why"] == "Effective communication: 7 of 8 have not yet met it"
        assert "Effective communication: 7 of 8 have not yet met it" in page
    if history == TWO_BUT_ENHANCED and as_at_days == 0:
        element = {e["id"]: e for e in api["elements"]}
        assert element["2"]["status"] == "at_risk"  # not the gap it was with 2.s12 asked
        assert element["2"]["why"] == "2.s12 is held only by Kw0"
        assert "2" not in api["gaps"] and api["values"]["status"] == "gap"
    if history == TWO_BUT_ENHANCED and as_at_days == -400:
        # kw5 started 30 days ago: not a member 400 days ago; the values not asked
        assert len(api["members"]) == KEYWORKERS - 1
        assert api["values"]["status"] == "met" and "values" not in api["gaps"]


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
        assert ec.is_at_risk  # a single holder of every skill
        assert ec.why == f"every skill is held only by {people[0].name}"
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
    bad = client.post(path, data={"csrf_token": token, "module": module, "completed_on": "2 Nov"})
    assert bad.status_code == 400
    assert "for example 17/03/2027" in bad.get_data(as_text=True)
    future = client.post(
        path, data={"csrf_token": token, "module": module, "completed_on": "2099-01-01"}
    )
    assert "Date completed must be today or in the past" in future.get_data(as_text=True)
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
