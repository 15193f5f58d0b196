"""The required-training endpoint: the same figures as the team's required training page
(and as a count made by hand), the standings a manager sees there, and its refusals."""

from __future__ import annotations

from datetime import datetime

import pytest

from competency_app.accounts.models import User
from competency_app.api.tokens import create_token
from competency_app.framework.services import current_version
from tests.api.conftest import bearer
from tests.factories import commit
from tests.training.test_training import (
    NOW,
    brute_force,
    build_random_teams,
    client_of,
    page,
    text_of,
)


@pytest.mark.parametrize("seed", [5, 23])
def test_training_figures_equal_the_team_page_and_a_hand_count(app, framework, seed):
    app.config["FROZEN_NOW"] = NOW
    with app.app_context():
        people, completions = build_random_teams(seed)
        modules = [m for m in current_version().modules if m.required]
        keys = [m.key for m in modules]
        expected = brute_force(people["north"], completions, modules)
        manager = User.query.filter_by(email="max.manager@example.nhs.uk").one()
        secret = create_token(manager, "reporting", 90).secret
        commit()
    response = app.test_client().get("/api/v1/teams/north/training", headers=bearer(secret))
    assert response.status_code == 200
    answer = response.get_json()
    # the moment judged, to the second, as every answer's as_at
    assert datetime.fromisoformat(answer["as_at"]) == NOW.replace(microsecond=0)
    assert answer["people"] == 7
    assert [m["id"] for m in answer["modules"]] == keys
    total_compliant = total = 0
    for module in answer["modules"]:
        compliant, count, statuses = expected[module["id"]]
        assert (module["compliant"], module["people"]) == (compliant, count)
        assert module["percent"] == compliant * 100 // count
        assert module["counts"] == {status: len(names) for status, names in statuses.items()}
        for status, names in statuses.items():
            listed = [s["name"] for s in module["standings"] if s["status"] == status]
            assert sorted(listed) == sorted(names)
        assert all(
            s["compliant"] == (s["status"] in ("in_date", "expiring")) for s in module["standings"]
        )
        total_compliant, total = total_compliant + compliant, total + count
    assert (answer["compliant"], answer["required"]) == (total_compliant, total)
    assert answer["percent"] == total_compliant * 100 // total
    assert sum(answer["counts"].values()) == total
    # the team's page, as its manager sees it, shows the same figures
    html = text_of(page(client_of(app, "max.manager"), "/teams/north/training"))
    assert (
        f"{answer['percent']}% compliant: {answer['compliant']} of {answer['required']} "
        f"required modules in date across {answer['people']} "
        f"{'person' if answer['people'] == 1 else 'people'}; "
        f"{answer['fully_compliant']} of {answer['people']} in date on all of them"
    ) in html
    assert f"{answer['counts']['overdue']} overdue" in html
    assert f"{answer['counts']['due']} never done" in html
    for module in answer["modules"]:
        assert (
            f"{module['percent']}% compliant ({module['compliant']} of {module['people']})" in html
        )
        for standing in module["standings"]:
            assert standing["name"] in html
    assert "Lee Leaver" not in response.get_data(as_text=True)
    # one module alone
    one = keys[0]
    only = app.test_client().get(
        f"/api/v1/teams/north/training?module={one}", headers=bearer(secret)
    )
    assert [m["id"] for m in only.get_json()["modules"]] == [one]
    assert only.get_json()["required"] == expected[one][1]
    unknown = app.test_client().get(
        "/api/v1/teams/north/training?module=module.nothing", headers=bearer(secret)
    )
    assert unknown.status_code == 422 and unknown.get_json()["field"] == "module"
    assert "'module.nothing'" in unknown.get_json()["message"]


def test_training_of_another_team_is_refused_and_an_empty_team_answers(app, api_world):
    manager = api_world["tokens"]["manager"]
    refused = app.test_client().get("/api/v1/teams/south/training", headers=bearer(manager))
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    answer = app.test_client().get("/api/v1/teams/north/training", headers=bearer(manager))
    body = answer.get_json()
    assert body["people"] == 2 and body["compliant"] == 0
    assert all(m["counts"]["due"] == 2 for m in body["modules"])
    no_team = app.test_client().get("/api/v1/teams/nowhere/training", headers=bearer(manager))
    assert no_team.status_code == 404
    bad = app.test_client().get("/api/v1/teams/north/training?module=", headers=bearer(manager))
    assert bad.status_code == 422 and bad.get_json()["field"] == "module"
