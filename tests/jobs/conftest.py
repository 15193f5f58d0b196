"""The jobs tests' fixtures: a result folder of the test's own, and a small organisation."""

from __future__ import annotations

from pathlib import Path

import pytest

from competency_app.accounts.models import Role
from tests.factories import commit, make_team, make_user, validated_assessment


@pytest.fixture
def jobs_dir(app, tmp_path):
    app.config["JOBS_DIR"] = str(tmp_path / "jobs")
    yield Path(app.config["JOBS_DIR"])
    app.config["JOBS_DIR"] = ""


@pytest.fixture
def organisation(app, framework):
    with app.app_context():
        for slug in ("north", "south"):
            team = make_team(slug)
            supervisor = make_user(f"sue.{slug}", Role.SUPERVISOR, team=team)
            for n in range(3):
                person = make_user(
                    f"kw{n}.{slug}", Role.PRACTITIONER, team=team, supervisor=supervisor
                )
                validated_assessment(person, supervisor)
        make_user("hana.hr", Role.HR)
        make_user("hal.hr", Role.HR)
        commit()
