"""A team with validated ratings, a second team, a vacancy with candidates, and a token for
each role that may hold one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from competency_app.accounts.models import Role
from competency_app.api.tokens import create_token
from competency_app.assessments import services
from competency_app.recruitment.services import add_candidate, create_vacancy
from tests.factories import commit, make_team, make_user, reflect_on_values


@pytest.fixture
def api_world(app, framework):
    with app.app_context():
        north = make_team("north", "North keyworking team")
        south = make_team("south", "South keyworking team")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=north)
        manager = make_user("max.manager", Role.MANAGER, team=north)
        south_manager = make_user("sam.manager", Role.MANAGER, team=south)
        hr = make_user("hana.hr", Role.HR)
        admin = make_user("ada.admin", Role.ADMIN)
        recruiter = make_user("rae.recruit", Role.RECRUITER, team=north)
        people = {}
        for local, level in (("pat.prac", 2), ("kim.keyworker", 1)):
            person = make_user(local, Role.PRACTITIONER, team=north, supervisor=supervisor)
            assessment = services.start_assessment(person)
            for element in services.elements_of(assessment.framework_version):
                ratings = {s.id: (level, "evidence") for s in element.skills}
                services.save_element(assessment, person, element, ratings, None)
            reflect_on_values(assessment, person)
            services.submit(assessment, person, None)
            services.validate(assessment, supervisor, {}, None)
            people[local] = person.id
        make_user("sol.south", Role.PRACTITIONER, team=south)
        closing = date.today() + timedelta(days=30)
        panel = [supervisor, manager]
        north_vacancy = create_vacancy(
            north, "Keyworker", closing, panel, panel, manager, recruiter
        )
        add_candidate(north_vacancy, "Cara Candidate", "cara@example.com", None)
        add_candidate(north_vacancy, "Dev Candidate", "", None)
        south_supervisor = make_user("sid.south", Role.SUPERVISOR, team=south)
        south_panel = [south_manager, south_supervisor]
        south_vacancy = create_vacancy(
            south, "Senior keyworker", closing, south_panel, south_panel, south_manager, hr
        )
        south_vacancy.closing_date = date.today() - timedelta(days=3)  # closed
        tokens = {
            role: create_token(user, f"{role} reporting", 90).secret
            for role, user in (("manager", manager), ("hr", hr), ("admin", admin))
        }
        commit()
        return {
            "tokens": tokens,
            "people": people,
            "north_vacancy": north_vacancy.id,
            "south_vacancy": south_vacancy.id,
            "manager": manager.id,
        }


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
