"""A second framework of another shape, loaded as a new version: every page, the JSON API
and the workbook speak its words (names, numbering, scale, who must hold what)."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from competency_app.accounts.models import Role
from competency_app.assessments import services
from competency_app.extensions import db
from tests.conftest import sign_in
from tests.factories import PASSWORD, commit, make_team, make_user, reflect_on_values
from tests.fixtures.second_framework import (
    COMPETENCIES,
    COMPETENT_LABEL,
    EVERYONE_TITLE,
    SHORT_TITLE,
    SPEC_TITLE,
    TITLE,
    elements,
    write_second_framework,
)

PRODUCT = "Keyworking competency tracker"  # the product's own name may stay in the header


def display_name(element: dict) -> str:
    return f"{element['short_label'] or element['id']} {element['title']}"


def id_pattern_name(element: dict) -> str:
    """How elements were named from keyworking-style ids: competency number + label."""
    number = next(n for c, n, _t, _e in COMPETENCIES if c == element["competency"])
    return f"{number}{element['label'].rstrip(')')} {element['title']}"


def domain_words(text: str) -> list[str]:
    """Keyworking words left in `text` once the product name is set aside."""
    return re.findall(r"(?i)key ?work\w*", text.replace(PRODUCT, ""))


@pytest.fixture
def east(app, runner, framework, tmp_path):
    """The keyworking framework is version 1; the second framework is loaded over it as
    version 2 through the command line, and a new team of five is rated against it."""
    path = write_second_framework(tmp_path)
    result = runner.invoke(args=["load-framework", str(path)])
    assert result.exit_code == 0, result.output
    assert "299 skills" in result.output
    with app.app_context():
        team = make_team("east", "East rehabilitation team")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=team)
        make_user("max.manager", Role.MANAGER, team=team)
        for p in range(5):
            person = make_user(f"member.{p}", Role.PRACTITIONER, team=team, supervisor=supervisor)
            assessment = services.start_assessment(person)
            assert assessment.framework_version.title == TITLE
            for element in services.elements_of(assessment.framework_version):
                levels = {s.id: (((i + p) % 5) + 1, "") for i, s in enumerate(element.skills)}
                services.save_element(assessment, person, element, levels, None)
            reflect_on_values(assessment, person)
            services.submit(assessment, person, None)
            services.validate(assessment, supervisor, {}, None)
        commit()
        db.session.remove()
    return "east"


def test_coverage_pages_name_elements_from_the_file(client, east):
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    page = client.get("/teams/east/coverage")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for element in elements():
        assert display_name(element) in html, element["id"]
        assert id_pattern_name(element) not in html, element["id"]
    assert "system-el10 Community networks" in html  # no short label: the id, as written
    assert not domain_words(html)

    for element in elements():
        detail = client.get(f"/teams/east/coverage/{element['id']}")
        assert detail.status_code == 200
        text = detail.get_data(as_text=True)
        assert f"<h1>{display_name(element)}</h1>" in text
        assert f"3 {COMPETENT_LABEL}" in text  # the 1-5 scale's own labels
        assert not domain_words(text)

    plan = client.get("/teams/east/training-plan")
    assert plan.status_code == 200
    assert not domain_words(plan.get_data(as_text=True))


def test_json_api_answers_for_the_second_framework(client, east):
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    response = client.get("/api/v1/teams/east/coverage")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert response.is_json
    for element in elements():
        assert f'"{element["id"]}"' in body
    assert not domain_words(body)


def test_framework_pages_take_their_words_from_the_file(client, east):
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    overview = client.get("/framework").get_data(as_text=True)
    assert f"<h1>{TITLE}</h1>" in overview
    lede = re.search(r'nhsuk-lede-text">(.*?)</p>', overview, re.S).group(1)
    # one element, and not the core values, is expected of everyone in this file
    assert lede.endswith(f"{EVERYONE_TITLE} is expected of every individual.")
    assert "core values" not in lede
    assert SPEC_TITLE in overview
    spec = client.get("/framework/person-specification").get_data(as_text=True)
    assert f"<h1>{SPEC_TITLE}</h1>" in spec
    element = elements()[0]
    page = client.get(f"/framework/elements/{element['id']}").get_data(as_text=True)
    assert f"<h1>{display_name(element)}</h1>" in page
    for path in (
        "/framework",
        "/framework/values",
        "/framework/elearning",
        "/framework/person-specification",
    ):
        text = client.get(path).get_data(as_text=True)
        assert not domain_words(text), path


def test_team_workbook_builds_in_the_files_words(client, east):
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    response = client.get("/teams/east/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    cells = [
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    text = "\n".join(cells)
    assert book.worksheets[0]["B2"].value.startswith(SHORT_TITLE)  # Summary: Workbook
    assert TITLE in text
    for element in elements():
        assert id_pattern_name(element) not in text
    assert display_name(elements()[0]) in text
    assert not domain_words(text)
    # levels are coloured against this scale's competent level (3), not keyworking's (2)
    fills = {
        rule.formula[0]: rule.dxf.fill.bgColor.rgb[-6:]
        for cf in book["Coverage"].conditional_formatting
        for rule in cf.rules
    }
    assert fills == {"1": "F0F4F5", "2": "FFF9C4", "3": "CCE5D8", "4": "A2D5B7", "5": "A2D5B7"}
