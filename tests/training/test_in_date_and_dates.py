"""A module the person is in date for is not assigned without a confirmation nor suggested
by the training plan; every date field takes the UK form its hint shows (issue 29)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from competency_app.accounts.models import Team
from competency_app.clock import today
from competency_app.common.dates import parse_day
from competency_app.coverage.actions import training_plan
from competency_app.coverage.development import record_completion
from competency_app.coverage.services import coverage_for_team
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.training.models import TrainingAssignment
from tests.factories import commit
from tests.supervision.helpers import user
from tests.training.test_assignments import (
    ASSIGN,
    MODULE,
    client_of,
    post_assign,
    teams,  # noqa: F401 - fixture
)

TEMPLATES = Path(__file__).resolve().parents[2] / "competency_app" / "templates"


def _assignments(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(TrainingAssignment))


def _completed(app, local: str, module: str, days_ago: int) -> None:
    with app.app_context():
        person = user(local)
        record_completion(person, module, today() - timedelta(days=days_ago), "", person)
        commit()


def test_an_in_date_module_is_assigned_only_when_confirmed(app, teams):  # noqa: F811
    _completed(app, "pat.prac", MODULE, 30)
    client = client_of(app, "max.manager")
    data = {
        "person": str(teams["pat"]),
        "module": MODULE,
        "due_on": (today() + timedelta(days=30)).strftime("%d/%m/%Y"),  # the UK form
        "note": "Typed note",
    }
    refused = post_assign(client, data)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Pat Prac completed Developing your trauma skilled practice" in page
    assert "and it does not need repeating." in page
    assert "Assign it again anyway" in page and "Typed note" in page
    assert _assignments(app) == 0
    done = post_assign(client, {**data, "confirm": "y"})
    assert done.status_code == 303
    assert _assignments(app) == 1


def test_a_completion_past_its_refresh_is_no_reason_to_warn(app, teams):  # noqa: F811
    with app.app_context():
        version = current_version()
        refreshed = next(m for m in version.modules if m.refresh_months)
        key, months = refreshed.key, refreshed.refresh_months
    _completed(app, "pat.prac", key, months * 31 + 5)  # its refresh has come
    client = client_of(app, "max.manager")
    due = (today() + timedelta(days=30)).isoformat()
    response = post_assign(client, {"person": str(teams["pat"]), "module": key, "due_on": due})
    assert response.status_code == 303


def test_the_training_plan_does_not_suggest_a_module_someone_is_in_date_for(app, teams):  # noqa: F811
    with app.app_context():
        version = current_version()
        team = db.session.scalar(select(Team).where(Team.slug == "north"))
        before = training_plan(coverage_for_team(team, version))
        first = before[0].module.key
        assert [m.name for m in before[0].members] == ["Pat Prac"]
    _completed(app, "pat.prac", first, 10)
    with app.app_context():
        version = current_version()
        team = db.session.scalar(select(Team).where(Team.slug == "north"))
        after = training_plan(coverage_for_team(team, version))
        # Pat is the only keyworker: the module is not suggested to anyone now
        assert first not in [step.module.key for step in after]
        assert all(
            "Pat Prac" not in [m.name for m in step.members] or step.module.key != first
            for step in after
        )
    page = client_of(app, "max.manager").get("/teams/north/training-plan").get_data(as_text=True)
    assert f"module={first}&" not in page


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("17/03/2027", date(2027, 3, 17)),
        ("7/3/2027", date(2027, 3, 7)),
        ("2027-03-17", date(2027, 3, 17)),
        (" 17/03/2027 ", date(2027, 3, 17)),
        ("31/02/2027", None),
        ("17/03/1999", None),
        ("17 March", None),
        ("", None),
        (None, None),
    ],
)
def test_one_date_parser_for_every_field(typed, day):
    assert parse_day(typed) == day


def test_every_date_field_uses_the_one_macro_and_hint():
    """No date input outside `_dates.html`, and no other example format in a hint."""
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if path.name == "_dates.html":
            continue
        assert '"type": "date"' not in text, f"{path}: use date_input from _dates.html"
        assert not re.search(r"For example, \d{4}-\d\d-\d\d", text), path
        assert "(YYYY-MM-DD)" not in text, path


def test_the_assign_page_shows_the_uk_hint(app, teams):  # noqa: F811
    page = client_of(app, "max.manager").get(ASSIGN).get_data(as_text=True)
    assert "For example, 17/03/2027" in page
    assert "2027-01-31" not in page
    # a text field: a browser's date picker would show its own language's format
    assert 'type="date"' not in page
