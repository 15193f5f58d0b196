"""Every page of a list names its neighbours (issue 29 item 7): `links` in the answer and a
`Link` header (RFC 8288), keeping the request's other arguments; and a filter naming no team
or member stays a 404 documented for its operation (a 422 fails a conformance run)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from competency_app.extensions import db
from competency_app.recruitment.services import create_vacancy
from tests.api.conftest import bearer
from tests.factories import commit, make_team


def get(app, path: str, secret: str):
    return app.test_client().get(path, headers=bearer(secret))


def arguments(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def link_header(value: str) -> dict[str, str]:
    """RFC 8288's `<url>; rel="x", …` as {rel: url}."""
    found = re.findall(r'<([^>]*)>\s*;\s*rel="([a-z]+)"', value)
    assert ", ".join(f'<{u}>; rel="{r}"' for u, r in found) == value  # nothing else in it
    return {rel: url for url, rel in found}


@pytest.fixture
def three_teams(app, api_world):
    with app.app_context():
        make_team("west", "West keyworking team")
        make_team("east", "East outreach")  # not matched by the name filter
        commit()
    return api_world


def test_links_on_the_first_middle_and_last_page_keep_the_filters(app, three_teams):
    token = three_teams["tokens"]["hr"]
    seen = []
    url = "/api/v1/teams?name=keyworking&per_page=1"
    first_body = None
    while url:
        answer = get(app, url, token)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        first_body = first_body or body
        links = body["links"]
        for rel in ("self", "first", "last", "next", "prev"):
            assert rel in links
        for rel in ("self", "first", "last", "next", "prev"):
            if links[rel] is not None:
                assert links[rel].startswith("/api/v1/teams?")
                assert arguments(links[rel])["name"] == "keyworking", (rel, links[rel])
                assert arguments(links[rel])["per_page"] == "1"
        page = body["pagination"]["page"]
        assert arguments(links["self"])["page"] == str(page)
        assert arguments(links["first"])["page"] == "1"
        assert arguments(links["last"])["page"] == "3"
        assert (
            links["prev"] is None
            if page == 1
            else arguments(links["prev"])["page"] == str(page - 1)
        )
        seen.extend(t["slug"] for t in body["items"])
        url = links["next"]
        if page == 3:
            assert url is None  # the last page has no next
    assert seen == ["north", "south", "west"]  # by name; "East outreach" filtered out
    assert first_body["pagination"]["pages"] == 3


def test_the_link_header_says_the_same(app, three_teams):
    token = three_teams["tokens"]["hr"]
    middle = get(app, "/api/v1/teams?per_page=1&name=keyworking&page=2", token)
    links = middle.get_json()["links"]
    header = link_header(middle.headers["Link"])
    assert header == {rel: links[rel] for rel in ("next", "prev", "first", "last")}
    assert list(header) == ["next", "prev", "first", "last"]
    first = link_header(get(app, "/api/v1/teams?per_page=1&name=keyworking", token).headers["Link"])
    assert set(first) == {"next", "first", "last"}  # no prev on the first page
    last = link_header(
        get(app, "/api/v1/teams?per_page=1&name=keyworking&page=3", token).headers["Link"]
    )
    assert set(last) == {"prev", "first", "last"}
    beyond = get(app, "/api/v1/teams?per_page=1&name=keyworking&page=9", token).get_json()
    assert beyond["links"]["next"] is None
    assert arguments(beyond["links"]["prev"])["page"] == "3"  # back to the last real page


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        ("/api/v1/teams/north/members?per_page=1&element=1a", {"element": "1a"}),
        ("/api/v1/teams/north/gaps?per_page=1&as_at=2026-01-05", {"as_at": "2026-01-05"}),
        ("/api/v1/vacancies?per_page=1&status=open", {"status": "open"}),
    ],
)
def test_every_list_carries_links(app, api_world, path, kept):
    token = api_world["tokens"]["hr"]
    answer = get(app, path, token)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    links = body["links"]
    assert "Link" in answer.headers
    assert arguments(links["self"]) | kept == arguments(links["self"])
    assert arguments(links["first"])["page"] == "1"
    if body["pagination"]["pages"] > 1:
        assert arguments(links["next"]) == arguments(links["self"]) | kept | {"page": "2"}
    else:
        assert links["next"] is None
    assert links["prev"] is None


def test_vacancy_pages_keep_the_team_filter(app, api_world):
    with app.app_context():
        from competency_app.accounts.models import Team, User

        north = db.session.query(Team).filter_by(slug="north").one()
        manager = db.session.get(User, api_world["manager"])
        supervisor = db.session.query(User).filter_by(email="sue.super@example.nhs.uk").one()
        panel = [supervisor, manager]
        closing = date.today() + timedelta(days=40)
        create_vacancy(north, "Second keyworker", closing, panel, panel, manager, manager)
        commit()
    token = api_world["tokens"]["hr"]
    first = get(app, "/api/v1/vacancies?team=north&per_page=1", token).get_json()
    assert first["pagination"]["pages"] == 2
    second = get(app, first["links"]["next"], token).get_json()
    assert {v["team"]["slug"] for v in first["items"] + second["items"]} == {"north"}
    assert second["links"]["next"] is None
    assert arguments(second["links"]["prev"]) == {"team": "north", "per_page": "1", "page": "1"}


def test_the_document_types_links_once_and_the_link_header(app, api_world):
    document = get(app, "/api/v1/openapi.json", api_world["tokens"]["hr"]).get_json()
    schemas = document["components"]["schemas"]
    links = schemas["PageLinks"]
    assert set(links["required"]) == {"self", "first", "last", "next", "prev"}
    for name in ("TeamList", "MemberList", "GapList", "VacancyList"):
        assert schemas[name]["properties"]["links"] == {"$ref": "#/components/schemas/PageLinks"}
        assert "links" in schemas[name]["required"]
    lists = {
        "/api/v1/teams",
        "/api/v1/teams/{slug}/members",
        "/api/v1/teams/{slug}/gaps",
        "/api/v1/vacancies",
    }
    for path, item in document["paths"].items():
        headers = item["get"]["responses"]["200"].get("headers", {})
        assert ("Link" in headers) == (path in lists), path


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/vacancies", "team"),
        ("/api/v1/teams/{slug}/coverage", "without"),
    ],
)
def test_a_filter_naming_no_team_or_member_is_a_documented_404(app, api_world, path, field):
    """The filter is a free value in the document (listing every team would publish them),
    so a value naming nothing is a well-formed request: 404, documented, naming the filter."""
    document = get(app, "/api/v1/openapi.json", api_world["tokens"]["hr"]).get_json()
    operation = document["paths"][path]["get"]
    assert "404" in operation["responses"]
    parameter = next(p for p in operation["parameters"] if p["name"] == field)
    assert "enum" not in parameter["schema"]
    if field == "team":
        assert "404" in parameter["description"]
