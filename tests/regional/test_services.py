"""The regional figures against a brute-force count from each team's own coverage, training
and vacancies: the same numbers, whether a team's figures were stored or worked out live."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Collaborative, Team
from competency_app.assessments.models import CurrentRating
from competency_app.clock import utcnow
from competency_app.common.caches import clear_caches
from competency_app.coverage.services import GAP, MET, coverage_for_team, team_practitioners
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.recruitment.models import Vacancy
from competency_app.regional import services
from competency_app.training import required as training
from tests.regional.conftest import LEAD, OTHER_LEAD

NORTH_TEAMS = {"harbour", "hill", "river", "empty"}


def _north():
    return db.session.scalar(select(Collaborative).where(Collaborative.slug == "north-region"))


def test_a_regional_lead_sees_their_employers_collaborative(app, region):
    with app.app_context():
        assert services.lead_collaborative(accounts.user_by_email(LEAD)).slug == "north-region"
        assert services.lead_collaborative(accounts.user_by_email(OTHER_LEAD)).slug == (
            "south-region"
        )
        keyworker = accounts.user_by_email("kw.0@example.nhs.uk")
        assert services.lead_collaborative(keyworker) is None
        assert not services.is_regional_lead(keyworker)


def test_team_figures_match_each_teams_own_coverage(app, region):
    with app.app_context():
        version = current_version(structure=True)
        now = utcnow()
        regional = services.regional_figures(_north(), version, now)
        rows = {row.team.slug: row for row in regional.teams}
        assert set(rows) == NORTH_TEAMS  # nothing of the other collaborative
        # both paths were taken: stored figures, and live ones where they were out of date
        assert rows["harbour"].from_stored and rows["river"].from_stored
        assert not rows["hill"].from_stored  # a keyworker joined after the last sign-off
        for slug, row in rows.items():
            team = db.session.scalar(select(Team).where(Team.slug == slug))
            cov = coverage_for_team(team, version, now, cached=False)
            assert row.members == len(cov.members)
            assert row.elements == len(cov.elements)
            assert row.met == sum(1 for e in cov.elements if e.status == MET)
            assert row.at_risk == len(cov.at_risk)
            assert row.gaps == len(cov.gaps)
            assert row.met + row.at_risk + row.gaps == row.elements
            assert row.values == cov.values.status
            assert row.skill_gaps == len(cov.skill_gaps)
            # per skill: the team's holders
            for s in cov.skills:
                spread = regional.skill(s.skill.key)
                by_team = {h.team.slug: h.holders for h in spread.teams}
                assert by_team.get(slug, 0) == s.holders


def test_teams_with_current_stored_figures_are_read_as_counts_not_judged(app, region, monkeypatch):
    """The job that keeps a team's figures stores its counts beside them: the regional view
    reads those, and judges only the teams whose stored figures are not current."""
    judged: list[list[int]] = []
    real = services.team_counts

    def counting(version, ids, figures, now):
        judged.append(list(ids))
        return real(version, ids, figures, now)

    monkeypatch.setattr(services, "team_counts", counting)
    with app.app_context():
        clear_caches()
        version = current_version(structure=True)
        now = utcnow()
        rows = {r.team.slug: r for r in services.regional_figures(_north(), version, now).teams}
        assert rows["harbour"].from_stored and rows["river"].from_stored
        for slug in ("harbour", "river"):
            team = db.session.scalar(select(Team).where(Team.slug == slug))
            ids = [m.id for m in team_practitioners(team, on=now)]
            assert ids and ids not in judged
        assert judged  # hill's, out of date, was judged


def test_people_are_counted_once_and_training_matches(app, region):
    with app.app_context():
        version = current_version(structure=True)
        now = utcnow()
        regional = services.regional_figures(_north(), version, now)
        everyone: dict[int, object] = {}
        for slug in NORTH_TEAMS:
            team = db.session.scalar(select(Team).where(Team.slug == slug))
            members = team_practitioners(team, on=now)
            everyone.update({m.id: m for m in members})
            row = next(r for r in regional.teams if r.team.slug == slug)
            compliance = training.team_compliance(team, version, now)
            assert row.training.people == len(compliance.people)
            assert row.training.required == compliance.required
            assert row.training.compliant == compliance.compliant
            assert row.training.fully_compliant == compliance.fully_compliant
        # kw.2 is in harbour and river: ten places in teams, nine people across the region
        assert sum(r.members for r in regional.teams) == len(everyone) + 1
        assert regional.practitioners == len(everyone) == 9
        overall = training.compliance_for(list(everyone.values()), version)
        assert regional.training.compliant == overall.compliant
        assert regional.training.required == overall.required
        assert regional.training.fully_compliant == overall.fully_compliant
        alpha = next(o for o in regional.organisations if o.organisation.slug == "alpha-trust")
        assert alpha.practitioners == 6  # harbour (3, kw.2 among them) and hill (3)
        delta = next(o for o in regional.organisations if o.organisation.slug == "delta-trust")
        assert delta.teams == [] and delta.practitioners == 0


def test_distinct_holders_and_the_too_few_rule(app, region):
    with app.app_context():
        version = current_version(structure=True)
        now = utcnow()
        regional = services.regional_figures(_north(), version, now)
        people = set()
        for slug in NORTH_TEAMS:
            team = db.session.scalar(select(Team).where(Team.slug == slug))
            people |= {m.id for m in team_practitioners(team, on=now)}
        competent = version.settings.scale.competent_level
        holders: dict[str, set[int]] = {}
        for rating in db.session.scalars(select(CurrentRating)):
            live = rating.expires_at.replace(tzinfo=now.tzinfo) > now
            if rating.person_id in people and rating.level >= competent and live:
                holders.setdefault(rating.skill_key, set()).add(rating.person_id)
        assert regional.teams_counted == 3  # the empty team has no keyworkers
        for spread in regional.skills:
            assert spread.holders == len(holders.get(spread.skill.key, set()))
            assert spread.needed == spread.element.min_holders * 3
            assert spread.too_few == (spread.holders < spread.needed)
            counts = [h.holders for h in spread.teams]
            assert counts == sorted(counts, reverse=True)
            assert all(h.team.slug in NORTH_TEAMS for h in spread.teams)


def test_vacancies_not_closed_by_stage(app, region):
    with app.app_context():
        regional = services.regional_figures(_north(), current_version(structure=True), utcnow())
        rows = {row.team.slug: row for row in regional.teams}
        assert rows["harbour"].vacancies == {"open": 2, "interviewing": 1}
        assert rows["river"].vacancies == {"shortlisting": 1}
        assert rows["hill"].vacancies == {}
        assert regional.vacancies_by_stage() == {"open": 2, "shortlisting": 1, "interviewing": 1}
        brute = db.session.scalar(
            select(db.func.count())
            .select_from(Vacancy)
            .join(Team, Team.id == Vacancy.team_id)
            .where(Team.slug.in_(NORTH_TEAMS), Vacancy.state != "closed")
        )
        assert sum(r.open_vacancies for r in regional.teams) == brute


def test_forecast_matches_each_teams_coverage_ahead(app, region):
    with app.app_context():
        version = current_version(structure=True)
        now = utcnow()
        forecast = services.regional_forecast(_north(), version, now)
        assert forecast.days == (30, 60, 90)
        for row in forecast.rows:
            for index, moment in enumerate([now, *forecast.moments]):
                cov = coverage_for_team(row.team, version, moment, cached=False)
                assert row.gaps[index] == sum(1 for e in cov.elements if e.status == GAP)
                assert row.at_risk[index] == len(cov.at_risk)
        # kept for the day: the same object while nothing changes
        assert services.regional_forecast(_north(), version, now) is forecast


def test_forecast_sees_validations_expire(app, region):
    """A year on every validation has lapsed: every team with keyworkers is all gaps."""
    app.config["FROZEN_NOW"] = utcnow() + timedelta(days=300)
    with app.app_context():
        version = current_version(structure=True)
        forecast = services.regional_forecast(_north(), version, utcnow())
        harbour = next(r for r in forecast.rows if r.team.slug == "harbour")
        elements = sum(len(c.elements) for c in version.competencies)
        assert harbour.gaps[-1] == elements
        assert harbour.gaps[0] <= harbour.gaps[-1]


def test_a_new_sign_off_is_seen_at_once(app, region):
    """The counts kept in the process follow the team's epoch: a sign-off changes them."""
    import random

    from tests.regional.conftest import sign_off

    with app.app_context():
        version = current_version(structure=True)
        before = services.regional_figures(_north(), version, utcnow())
        harbour = next(r for r in before.teams if r.team.slug == "harbour")
        person = accounts.user_by_email("kw.0@example.nhs.uk")
        supervisor = accounts.user_by_email("sam.super@example.nhs.uk")
        sign_off(person, supervisor, random.Random(99))
        db.session.commit()
        now = utcnow()
        after = services.regional_figures(_north(), version, now)
        row = next(r for r in after.teams if r.team.slug == "harbour")
        assert row.from_stored
        cov = coverage_for_team(harbour.team, version, now, cached=False)
        assert (row.met, row.at_risk, row.gaps) == (
            sum(1 for e in cov.elements if e.status == MET),
            len(cov.at_risk),
            len(cov.gaps),
        )
        for s in cov.skills:
            spread = after.skill(s.skill.key)
            assert {h.team.slug: h.holders for h in spread.teams}.get("harbour", 0) == s.holders
        competent = version.settings.scale.competent_level
        mine = {
            r.skill_key
            for r in db.session.scalars(
                select(CurrentRating).where(CurrentRating.person_id == person.id)
            )
            if r.level >= competent
        }
        changed = [s for s in after.skills if s.skill.key in mine]
        assert all(s.holders >= 1 for s in changed)


def test_forecast_counts_a_leaver_out_from_their_leaving_date(app, region):
    with app.app_context():
        version = current_version(structure=True)
        now = utcnow()
        leaver = accounts.user_by_email("kw.5@example.nhs.uk")  # in river
        leaver.leaving_date = (now + timedelta(days=45)).date()
        db.session.commit()
        forecast = services.regional_forecast(_north(), version, now)
        for row in forecast.rows:
            for index, moment in enumerate([now, *forecast.moments]):
                cov = coverage_for_team(row.team, version, moment, cached=False)
                assert row.gaps[index] == len(cov.gaps), (row.team.slug, index)
                assert row.at_risk[index] == len(cov.at_risk), (row.team.slug, index)


def test_stored_figures_kept_before_counts_are_judged_from_the_figures(app, region):
    """Figures stored before the counts were (an upgraded installation) are still read:
    judged here from the stored figures, with the same numbers as the team's own page."""
    from competency_app.coverage.models import StoredTeamFigures

    with app.app_context():
        harbour = db.session.scalar(select(Team).where(Team.slug == "harbour"))
        row = db.session.get(StoredTeamFigures, harbour.id)
        assert row is not None and row.counts is not None
        row.counts = None
        db.session.commit()
        clear_caches()
        version = current_version(structure=True)
        now = utcnow()
        found = services.regional_figures(_north(), version, now)
        team_row = next(r for r in found.teams if r.team.slug == "harbour")
        assert team_row.from_stored
        cov = coverage_for_team(harbour, version, now, cached=False)
        assert (team_row.met, team_row.at_risk, team_row.gaps) == (
            sum(1 for e in cov.elements if e.status == MET),
            len(cov.at_risk),
            len(cov.gaps),
        )
        assert team_row.skill_gaps == len(cov.skill_gaps)
