"""The API follows HTTP's and OpenAPI's conventions (issue 29 item 7) and speaks one
vocabulary for gaps (issue 28 item 1): `Allow` on 405, typed `counts`, one form of `as_at`,
unknown filter values always 422 naming the value, plain messages, vacancy status from its
stage, and `/gaps` items whose fields keep one meaning and agree with `/coverage`."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from competency_app.extensions import db
from competency_app.recruitment.models import Vacancy
from tests.api.conftest import bearer
from tests.factories import commit


def get(app, path: str, secret: str):
    return app.test_client().get(path, headers=bearer(secret))


MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/api/v1/teams/north/coverage?without=999999", "without", "999999"),
        ("/api/v1/vacancies?team=nowhere", "team", "nowhere"),
    ],
)
def test_a_filter_naming_no_team_or_member_is_404_naming_it(app, api_world, path, field, value):
    """A reference to data, as a team in the path: 404 (a 422 would refuse a request the
    document calls valid, which a conformance run counts as a failure)."""
    answer = get(app, path, api_world["tokens"]["hr"])
    assert answer.status_code == 404
    body = answer.get_json()
    assert body["field"] == field and value in body["message"], body


def test_filters_naming_framework_items_list_them_in_the_document(app, api_world):
    document = get(app, "/api/v1/openapi.json", api_world["tokens"]["hr"]).get_json()
    members = document["paths"]["/api/v1/teams/{slug}/members"]["get"]["parameters"]
    element = next(p for p in members if p["name"] == "element")
    assert element["schema"]["enum"][:2] == ["1a", "1b"]
    training = document["paths"]["/api/v1/teams/{slug}/training"]["get"]["parameters"]
    module = next(p for p in training if p["name"] == "module")
    assert module["schema"]["enum"] and all(
        m.startswith("module.") for m in module["schema"]["enum"]
    )


def test_405_answers_say_which_methods_are_allowed(app, api_world):
    client = app.test_client()
    headers = bearer(api_world["tokens"]["admin"])
    for path in ("/api/v1/teams", "/api/v1/teams/north/coverage", "/api/v1/openapi.json"):
        answer = client.post(path, headers=headers)
        assert answer.status_code == 405
        assert answer.headers["Allow"] == "GET, HEAD, OPTIONS"
        assert answer.get_json()["error"] == "method_not_allowed"
    page = client.delete("/healthz/live")  # a page answers the same header
    assert page.status_code == 405 and "GET" in page.headers["Allow"]


def test_as_at_is_one_form_everywhere(app, api_world):
    token = api_world["tokens"]["manager"]
    for path in (
        "/api/v1/teams/north/coverage",
        "/api/v1/teams/north/coverage?as_at=2026-01-05",
        "/api/v1/teams/north/gaps",
        "/api/v1/teams/north/training",
    ):
        as_at = get(app, path, token).get_json()["as_at"]
        assert MOMENT.match(as_at), (path, as_at)  # to the second, no microseconds
        assert datetime.fromisoformat(as_at).tzinfo is not None


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/api/v1/teams/north/members?element=9z", "element", "9z"),
        ("/api/v1/teams/north/training?module=module.nothing", "module", "module.nothing"),
        ("/api/v1/vacancies?status=shut", "status", "shut"),
        ("/api/v1/vacancies?state=limbo", "state", "limbo"),
        ("/api/v1/teams/north/gaps?kind=task", "kind", "task"),
        ("/api/v1/teams/north/gaps?status=fine", "status", "fine"),
    ],
)
def test_an_unknown_filter_value_is_422_naming_it(app, api_world, path, field, value):
    answer = get(app, path, api_world["tokens"]["hr"])
    assert answer.status_code == 422, answer.get_json()
    body = answer.get_json()
    assert body["error"] == "invalid_argument" and body["field"] == field
    assert body["message"].startswith(f"{field} ") and f"'{value}'" in body["message"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("per_page=201", "per_page must be a whole number from 1 to 200"),
        ("per_page=0", "per_page must be a whole number from 1 to 200"),
        ("per_page=abc", "per_page must be a whole number from 1 to 200"),
        ("page=0", "page must be a whole number from 1 to 100000"),
        ("name=" + "x" * 101, "name must be at most 100 characters"),
        ("per-page=5", "per-page is not an argument of this endpoint"),
    ],
)
def test_422_messages_are_plain_words(app, api_world, query, message):
    body = get(app, f"/api/v1/teams?{query}", api_world["tokens"]["admin"]).get_json()
    assert body["message"] == message
    assert "Input should" not in body["message"]


def test_vacancy_status_follows_its_stage_not_its_closing_date(app, api_world):
    hr = api_world["tokens"]["hr"]
    items = {v["id"]: v for v in get(app, "/api/v1/vacancies", hr).get_json()["items"]}
    south = items[api_world["south_vacancy"]]  # its closing date has passed
    assert (south["state"], south["status"]) == ("open", "open")
    with app.app_context():
        db.session.get(Vacancy, api_world["north_vacancy"]).state = "interviewing"
        commit()
    items = {v["id"]: v for v in get(app, "/api/v1/vacancies", hr).get_json()["items"]}
    assert items[api_world["north_vacancy"]]["status"] == "open"
    by_state = get(app, "/api/v1/vacancies?state=interviewing", hr).get_json()["items"]
    assert [v["id"] for v in by_state] == [api_world["north_vacancy"]]


def test_counts_are_typed_and_count_elements_and_values_apart(app, api_world):
    answer = get(app, "/api/v1/teams/north/coverage", api_world["tokens"]["manager"]).get_json()
    counts = answer["counts"]
    assert counts["element_gaps"] == len([k for k in answer["gaps"] if k != "values"])
    assert counts["elements_at_risk"] == len([k for k in answer["at_risk"] if k != "values"])
    assert counts["gaps"] == counts["element_gaps"] + ("values" in answer["gaps"])
    assert counts["values_met"] == counts["members"] - len(answer["values_not_met"])
    assert counts["values_status"] == answer["values"]["status"]
    document = get(app, "/api/v1/openapi.json", api_world["tokens"]["hr"]).get_json()
    schemas = document["components"]["schemas"]
    coverage_counts = schemas["CoverageOut"]["properties"]["counts"]
    assert coverage_counts == {"$ref": "#/components/schemas/CoverageCounts"}
    assert set(schemas["CoverageCounts"]["properties"]) == set(counts)
    assert set(schemas["CoverageCounts"]["required"]) == set(counts)


def test_gap_items_keep_one_meaning_and_agree_with_coverage(app, api_world):
    token = api_world["tokens"]["manager"]
    coverage = get(app, "/api/v1/teams/north/coverage", token).get_json()
    gaps = get(app, "/api/v1/teams/north/gaps?per_page=200", token).get_json()["items"]
    elements = {e["id"]: e for e in coverage["elements"]}
    skills = {s["id"]: s for s in coverage["skills"]}
    kinds = {g["kind"] for g in gaps}
    assert {"element", "skill"} <= kinds
    for item in gaps:
        if item["kind"] == "element":
            element = elements[item["id"]]
            assert item["members_holding"] == element["holders"]
            assert item["members_needed"] == element["needed"]
            assert item["skills_held"] == element["skills_held"]
            assert item["skills_total"] == element["skill_count"]
            assert item["skills_short"] == element["skill_count"] - element["skills_held"]
        elif item["kind"] == "skill":
            skill = skills[item["id"]]
            assert (item["members_holding"], item["members_needed"]) == (
                skill["holders"],
                skill["needed"],
            )
            assert item["skills_held"] is item["skills_total"] is item["skills_short"] is None
        else:
            assert item["members_needed"] == len(coverage["members"])
            assert item["members_holding"] == len(coverage["members"]) - len(
                coverage["values_not_met"]
            )
        assert item["members_holding"] <= len(coverage["members"])  # always people


def test_the_old_gap_fields_are_kept_and_documented_as_deprecated(app, api_world):
    token = api_world["tokens"]["hr"]
    gaps = get(app, "/api/v1/teams/north/gaps", token).get_json()["items"]
    assert all("holders" in g and "needed" in g for g in gaps)
    document = get(app, "/api/v1/openapi.json", token).get_json()
    gap = document["components"]["schemas"]["GapOut"]["properties"]
    assert gap["holders"]["deprecated"] is True and gap["needed"]["deprecated"] is True
    for name in ("members_holding", "members_needed", "skills_held", "skills_short"):
        assert "deprecated" not in gap[name] and gap[name]["description"]


def test_the_document_needs_a_token_and_says_so(app, api_world):
    assert app.test_client().get("/api/v1/openapi.json").status_code == 401
    document = get(app, "/api/v1/openapi.json", api_world["tokens"]["hr"]).get_json()
    assert "openapi.json" in document["info"]["description"]
