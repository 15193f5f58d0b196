"""The demo team's coverage, as a manager meets it: the framework's rule, one answer on
the page, the home page, the JSON and the workbook, each status with its reason."""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from tests.conftest import sign_in
from tests.coverage.conftest import DEMO_PASSWORD, MANAGER


def test_demo_facts_in_the_api_page_home_and_workbook(app, client, demo):
    sign_in(client, MANAGER, DEMO_PASSWORD)
    api = json.loads(client.get(f"/api/v1/teams/{demo}/coverage").get_data(as_text=True))
    assert api["rule"] == "each_skill"
    element = {e["id"]: e for e in api["elements"]}
    skill = {s["id"]: s for s in api["skills"]}

    # 4b: every one of its skills is held in the team, though nobody holds all of them
    assert element["4b"]["status"] == "met" and element["4b"]["holders"] == 0
    assert element["4b"]["skills_held"] == element["4b"]["skill_count"] == 12
    assert "every skill is held by 1 or more" in element["4b"]["why"]
    assert "4b" not in api["gaps"]
    # 3a.s4: held by nobody, a skill gap, and the reason 3a is not met
    assert "3a.s4" in api["skill_gaps"]
    assert skill["3a.s4"]["why"] == "3a.s4 is held by nobody"
    assert element["3a"]["status"] == "gap" and element["3a"]["why"] == "3a.s4 is held by nobody"
    # element 2, expected of everyone but for its enhanced skill: met by the six validated
    # keyworkers; the new starter and the one whose assessment was returned not yet
    assert element["2"]["status"] == "gap" and "2" in api["gaps"]
    assert element["2"]["why"] == "Effective communication: 2 of 8 have not yet met it"
    assert len(element["2"]["not_met_ids"]) == 2 and len(api["members"]) == 8

    page = client.get(f"/teams/{demo}/coverage").get_data(as_text=True)
    assert api["rule_text"] in page  # the rule in force, stated once
    assert page.count(api["rule_text"]) == 1
    card = page[page.index('id="gap-skill-3a-s4"') :]
    # the page names the skill by its text, the API by its id
    assert (
        "“Previous record of influencing cultural or strategic change” is held by nobody"
        in (card[:3000])
    )
    assert "Closest to holding it" in card[:3000] and "Training that develops it" in card[:3000]
    assert "Effective communication: 2 of 8 have not yet met it" in page
    assert "Not yet met by Grace Lewis, Harry Patel." in page
    assert 'id="gap-4b"' not in page
    assert " / " not in page[page.index("<table") : page.index("</table>")]  # no fractions
    assert "hold it, 1 needed" in page or "1 or more" in page

    home = client.get("/").get_data(as_text=True)
    assert (
        "North keyworking team: 8 keyworkers; 6 of 8 elements met: 2 gaps, 0 at risk; "
        "core values: 6 of 8 members; 1 skill held by too few."
    ) in home

    workbook = load_workbook(io.BytesIO(client.get(f"/teams/{demo}/export.xlsx").data))
    rows = list(workbook["Gaps"].iter_rows(values_only=True))[1:]
    by_key = {(row[1], row[2]): row for row in rows}
    assert by_key[("element", "2")][4:6] == (
        "gap",
        "Effective communication: 2 of 8 have not yet met it",
    )
    assert by_key[("skill", "3a.s4")][4:6] == (
        "gap",
        "“Previous record of influencing cultural or strategic change” (3a.s4) is held by nobody",
    )
    assert ("element", "4b") not in by_key
    listed = [row[2] for row in rows if row[1] in ("element", "values") and row[4] == "gap"]
    assert listed == api["gaps"]


def _headline_figures(text: str) -> tuple[int, int, int, int, int, int]:
    found = re.search(
        r"(\d+) of (\d+) elements met: (\d+) gaps?, (\d+) at risk; core values: (\d+) of "
        r"(\d+) members?",
        text,
    )
    assert found, text
    met, total, gaps, at_risk, values, members = (int(n) for n in found.groups())
    return met, total, gaps, at_risk, values, members


@pytest.mark.parametrize("days", [0, 400])
def test_headline_counts_equal_the_cards_on_the_page_and_home(app, client, demo, days):
    """The headline counts elements and the core values apart: its gaps and at-risk
    figures are the element cards shown, its elements met the rest; the home page gives
    the same sentence for today."""
    sign_in(client, MANAGER, DEMO_PASSWORD)
    query = "" if days == 0 else f"?as_at={(date.today() + timedelta(days=days)).isoformat()}"
    page = client.get(f"/teams/{demo}/coverage{query}").get_data(as_text=True)
    headline = page[page.index('id="coverage-headline"') :]
    headline = headline[: headline.index("</p>")]
    met, total, gaps, at_risk, values, members = _headline_figures(headline)
    cards = re.findall(r'<div class="nhsuk-card app-gap" id="gap-([\w-]+)">', page)
    gap_cards = [
        c for c in cards if f'id="gap-{c}">' in page and "nhsuk-tag--red" in _card(page, c)
    ]
    assert gaps == len(gap_cards) and at_risk == len(cards) - len(gap_cards)
    assert met == total - gaps and total == 8
    assert members == (8 if days == 0 else 8)
    assert values <= members
    if days == 0:
        home = client.get("/").get_data(as_text=True)
        assert headline.split(">", 1)[1].strip() in home
    else:  # 400 days on every validation has lapsed: every element a gap, the values not met
        assert (met, gaps, values) == (0, 8, 0)


def _card(page: str, key: str) -> str:
    start = page.index(f'id="gap-{key}"')
    return page[start : start + 600]


def test_before_anyone_started_the_team_had_no_members(app, client, demo):
    """Coverage as at 1 January 2020 counts nobody: every demo keyworker started later."""
    sign_in(client, MANAGER, DEMO_PASSWORD)
    api = json.loads(
        client.get(f"/api/v1/teams/{demo}/coverage?as_at=2020-01-01").get_data(as_text=True)
    )
    assert api["members"] == []
    page = client.get(f"/teams/{demo}/coverage?as_at=2020-01-01").get_data(as_text=True)
    assert "This team has no members at this date." in page
    # a year ago the new starter (started 14 days ago) was not yet a member
    year_ago = (date.today() - timedelta(days=365)).isoformat()
    api = json.loads(
        client.get(f"/api/v1/teams/{demo}/coverage?as_at={year_ago}").get_data(as_text=True)
    )
    assert "Harry Patel" not in [m["name"] for m in api["members"]]
    assert len(api["members"]) == 7
