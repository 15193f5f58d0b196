"""A module completion is never dated after today (in London): the development plan's form
and the completions import refuse it with the field named, and nothing is stored."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from competency_app.accounts.models import Role
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.training.models import ModuleCompletion
from tests.conftest import csrf_from, preview_import, sign_in
from tests.factories import PASSWORD, commit, make_team, make_user

MESSAGE = "Date completed must be today or in the past"
# 23:30 UTC on 30 June is 00:30 on 1 July in London: the UK's today is 1 July.
NOW = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
UK_TODAY = date(2026, 7, 1)


@pytest.fixture
def people(app, framework):
    app.config["FROZEN_NOW"] = NOW
    with app.app_context():
        team = make_team("north")
        pat = make_user("pat.prac", Role.PRACTITIONER, team=team)
        make_user("hana.hr", Role.HR)
        commit()
        module = current_version().modules[0].key
        ids = {"pat": pat.id, "module": module}
    yield ids
    app.config.pop("FROZEN_NOW", None)


def stored(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ModuleCompletion))


@pytest.mark.parametrize("ahead", [1, 400])
def test_the_development_plan_refuses_a_completion_after_today(app, client, people, ahead):
    sign_in(client, "pat.prac@example.nhs.uk", PASSWORD)
    path = f"/people/{people['pat']}/development"
    token = csrf_from(client.get(path).get_data(as_text=True))
    day = UK_TODAY + timedelta(days=ahead)
    refused = client.post(
        path,
        data={"csrf_token": token, "module": people["module"], "completed_on": day.isoformat()},
    )
    assert refused.status_code == 400
    assert MESSAGE in refused.get_data(as_text=True)
    assert stored(app) == 0
    # The UK's today (1 July, while UTC still says 30 June) is allowed.
    done = client.post(
        path,
        data={
            "csrf_token": token,
            "module": people["module"],
            "completed_on": UK_TODAY.isoformat(),
        },
    )
    assert done.status_code == 303
    assert stored(app) == 1


def test_the_completions_import_names_the_row_and_column_and_applies_nothing(app, client, people):
    sign_in(client, "hana.hr@example.nhs.uk", PASSWORD)
    ahead = (UK_TODAY + timedelta(days=400)).isoformat()
    rows = (
        "email,module,date\n"
        f"pat.prac@example.nhs.uk,{people['module']},{UK_TODAY.isoformat()}\n"
        f"pat.prac@example.nhs.uk,{people['module']},{ahead}\n"
    )
    response = preview_import(client, "completions", rows)
    assert response.status_code == 400
    assert f"Row 3, column date: {MESSAGE}" in response.get_data(as_text=True)
    assert 'name="token"' not in response.get_data(as_text=True)  # nothing to apply
    assert stored(app) == 0
