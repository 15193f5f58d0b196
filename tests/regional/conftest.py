"""A region to look at: collaborative "north-region" with two organisations and four teams
(one keyworker in two teams, one team with none), and collaborative "south-region" with
one organisation and its own team and lead. Some sign-offs store figures; a keyworker who
joins later makes one team's stored figures out of date, so both paths are exercised."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role
from competency_app.assessments import services as assessments
from competency_app.clock import utcnow
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.recruitment.models import Vacancy
from competency_app.training.demo import CORE, DAY, OLIVER
from competency_app.training.models import ModuleCompletion
from tests.factories import (
    PASSWORD,
    commit,
    make_collaborative,
    make_organisation,
    make_team,
    make_user,
    reflect_on_values,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEAD = "rhea.lead@example.nhs.uk"
OTHER_LEAD = "olu.lead@example.nhs.uk"
# Every keyworker's name and email: none may appear on a regional page, answer or workbook.
KEYWORKERS = [f"kw.{n}" for n in range(9)] + ["far.away"]


def sign_off(person, supervisor, rng: random.Random) -> None:
    assessment = assessments.start_assessment(person)
    scale = sorted(assessment.framework_version.settings.scale.values)
    for element in assessments.elements_of(assessment.framework_version):
        levels = {s.id: (rng.choice(scale), "") for s in element.skills}
        assessments.save_element(assessment, person, element, levels, None)
    reflect_on_values(assessment, person)
    assessments.submit(assessment, person, None)
    reviews = {
        v.id: ("evidenced", "Talked it through") for v in assessment.framework_version.values
    }
    assessments.review_values(assessment, supervisor, reviews, None)
    agreed = {
        s.id: assessments.Decision(None, "Agreed in supervision")
        for element in assessments.elements_of(assessment.framework_version)
        for s in element.skills
    }
    assessments.validate(assessment, supervisor, agreed, None)


def _vacancy(team, state: str, creator) -> None:
    version = current_version()
    db.session.add(
        Vacancy(
            team_id=team.id,
            framework_version_id=version.id,
            spec_key="spec.keyworker",
            title=f"Keyworker ({state})",
            closing_date=date(2026, 4, 30),
            created_by_id=creator.id,
            created_at=utcnow(),
            state=state,
        )
    )


@pytest.fixture
def region(app, framework):
    app.config["FROZEN_NOW"] = START
    rng = random.Random(7)
    with app.app_context():
        north = make_collaborative("north-region", "North region")
        south = make_collaborative("south-region", "South region")
        alpha = make_organisation("alpha-trust", north)
        beta = make_organisation("beta-trust", north)
        gamma = make_organisation("gamma-trust", south)
        make_organisation("delta-trust", north)  # hosts no team
        teams = {
            "harbour": make_team("harbour", "Harbour team", organisation=alpha),
            "hill": make_team("hill", "Hill team", organisation=alpha),
            "river": make_team("river", "River team", organisation=beta),
            "empty": make_team("empty", "Empty team", organisation=beta),
            "faraway": make_team("faraway", "Faraway team", organisation=gamma),
        }
        supervisor = make_user(
            "sam.super", Role.SUPERVISOR, team=teams["harbour"], organisation=alpha
        )
        accounts.set_roles(
            supervisor,
            [accounts.RoleGrant(Role.SUPERVISOR, t) for t in teams.values()],
            None,
        )
        placement = ["harbour", "harbour", "harbour", "hill", "hill", "river", "river", "river"]
        people = []
        for n, slug in enumerate(placement):
            org = alpha if slug != "river" else beta
            people.append(
                make_user(
                    f"kw.{n}",
                    Role.PRACTITIONER,
                    team=teams[slug],
                    supervisor=supervisor,
                    organisation=org,
                )
            )
        # kw.2 is in harbour and river (a secondee): counted once across the region
        accounts.set_roles(
            people[2],
            [accounts.RoleGrant(Role.PRACTITIONER, teams[s]) for s in ("harbour", "river")],
            None,
        )
        far = make_user(
            "far.away",
            Role.PRACTITIONER,
            team=teams["faraway"],
            supervisor=supervisor,
            organisation=gamma,
        )
        make_user("rhea.lead", Role.REGIONAL_LEAD, organisation=beta)
        make_user("olu.lead", Role.REGIONAL_LEAD, organisation=gamma)
        commit()
        for person in [*people, far]:
            sign_off(person, supervisor, rng)
            commit()
        # joins hill after its figures were stored: hill's stored figures no longer match
        late = make_user(
            "kw.8", Role.PRACTITIONER, team=teams["hill"], supervisor=supervisor, organisation=alpha
        )
        # required training: some in date, some not
        for person in people[:4] + [late]:
            for key in (CORE, OLIVER, DAY):
                db.session.add(
                    ModuleCompletion(
                        person_id=person.id,
                        module_key=key,
                        completed_on=date(2026, 1, 5),
                        certificate_ref=None,
                        recorded_at=utcnow(),
                        recorded_by_id=supervisor.id,
                    )
                )
        for state in ("open", "open", "interviewing", "closed"):
            _vacancy(teams["harbour"], state, supervisor)
        _vacancy(teams["river"], "shortlisting", supervisor)
        _vacancy(teams["faraway"], "open", supervisor)
        commit()
    yield
    app.config.pop("FROZEN_NOW", None)


@pytest.fixture
def lead_password():
    return PASSWORD
