"""The words about the practitioner role, its team and its posts come from the framework
file: the second framework's pages and workbook, seen by every role, say nothing of
keyworkers and use the file's own words instead."""

from __future__ import annotations

import io
from html.parser import HTMLParser

from openpyxl import load_workbook

from competency_app.accounts.models import Role
from competency_app.accounts.models import Team as TeamModel
from competency_app.extensions import db
from tests.conftest import sign_in
from tests.factories import PASSWORD, commit, make_user
from tests.fixtures.second_framework import PRACTITIONER, SKILL_HEADING
from tests.framework.test_second_framework import east  # noqa: F401  (the fixture)

LEAKED = ("keyworker", "Keyworker")


class _Text(HTMLParser):
    """The text a person reads: outside tags, scripts and styles, with titles and labels."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        for name, value in attrs:  # what a browser shows or reads out from attributes
            if name in ("value", "placeholder", "title", "aria-label", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def leaks(text: str) -> list[str]:
    return [word for word in LEAKED if word in text]


def test_no_keyworking_words_on_the_second_frameworks_pages(app, east):  # noqa: F811
    with app.app_context():
        team = db.session.query(TeamModel).filter_by(slug="east").one()
        make_user("rita.recruiter", Role.RECRUITER, team=team)
        make_user("hana.hr", Role.HR)
        make_user("adam.admin", Role.ADMIN)
        commit()
    pages = {
        "member.0": ["/"],
        "sue.super": ["/", "/supervision"],
        "max.manager": [
            "/",
            "/teams/east/coverage",
            "/teams/east/coverage/system-el10",
            "/teams/east/training",
            "/teams/east/training/assign",
            "/teams/east/training-plan",
        ],
        "rita.recruiter": ["/", "/recruitment", "/recruitment/new"],
        "hana.hr": ["/"],
        "adam.admin": ["/", "/admin/people", "/admin/teams"],
    }
    seen: dict[str, str] = {}
    for local, paths in pages.items():
        client = app.test_client()
        sign_in(client, f"{local}@example.nhs.uk", PASSWORD)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (local, path)
            text = visible_text(response.get_data(as_text=True))
            assert leaks(text) == [], (local, path)
            seen[f"{local} {path}"] = text
    # the file's own words stand in their place
    assert f"Your roles: {PRACTITIONER.capitalize()} (practitioner)" in seen["member.0 /"]
    assert f"5 {PRACTITIONER}s" in seen["max.manager /"]
    assert f"Choose a {PRACTITIONER}" in seen["max.manager /teams/east/training/assign"]
    assert PRACTITIONER.capitalize() in seen["rita.recruiter /recruitment/new"]


def test_the_workbooks_headings_are_the_files(client, east):  # noqa: F811
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    response = client.get("/teams/east/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    headings = [str(c.value) for sheet in book.worksheets for c in sheet[1] if c.value]
    assert SKILL_HEADING in headings
    assert "Skill to be demonstrated" not in headings
    assert leaks("\n".join(headings)) == []
