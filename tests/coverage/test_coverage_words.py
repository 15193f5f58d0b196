"""The words and sums a manager reads on the coverage pages: skills named by their text,
never by id, and a headline whose figures are the cards on the page."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest

from competency_app.clock import utcnow
from tests.conftest import sign_in
from tests.coverage.conftest import DEMO_PASSWORD, MANAGER

SKILL_ID = re.compile(r"\b\d[a-c]?\.s\d+\b")
HEADLINE = re.compile(
    r"(\d+) of (\d+) elements met: (\d+) gaps?, (\d+) at risk; "
    r"core values: (\d+) of (\d+) members?"
)


def visible_text(page: str) -> str:
    """What a person reads: no scripts, styles, tags or attributes."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_demo_pages_name_skills_by_their_text(client, demo):
    sign_in(client, MANAGER, DEMO_PASSWORD)
    api = json.loads(_page(client, f"/api/v1/teams/{demo}/coverage"))
    day = utcnow().date()
    first = api["members"][0]["id"]
    paths = [
        f"/teams/{demo}/coverage",
        f"/teams/{demo}/coverage?without={first}",
        *(f"/teams/{demo}/coverage?as_at={day + timedelta(days=n)}" for n in (30, 90, 400)),
        f"/teams/{demo}/coverage?as_at={day + timedelta(days=90)}&without={first}",
        *(f"/teams/{demo}/coverage/{e['id']}" for e in api["elements"]),
    ]
    for path in paths:
        text = visible_text(_page(client, path))
        assert not SKILL_ID.findall(text), (path, SKILL_ID.findall(text)[:5])
    # the reasons still say which skill: its short form, with the full text on demand
    page = _page(client, f"/teams/{demo}/coverage")
    assert "“Previous record of influencing cultural or strategic change” is held by nobody" in (
        visible_text(page)
    )
    later = _page(client, f"/teams/{demo}/coverage?as_at={day + timedelta(days=400)}")
    assert "Full text</span> of “Ability to facilitate the provision of emotional and…”" in (
        later.replace('<span class="nhsuk-u-visually-hidden">', "</span>")
    )
    # the API keeps its ids
    assert "3a.s4 is held by nobody" in {s["why"] for s in api["skills"]}


@pytest.mark.parametrize("days", [0, 400])
def test_headline_counts_are_the_cards(client, demo, days):
    sign_in(client, MANAGER, DEMO_PASSWORD)
    path = f"/teams/{demo}/coverage"
    if days:
        path += f"?as_at={utcnow().date() + timedelta(days=days)}"
    page = _page(client, path)
    headline = HEADLINE.search(visible_text(page))
    assert headline, visible_text(page)[:2000]
    met, elements, gaps, at_risk, values_met, members = map(int, headline.groups())
    element_cards = re.findall(
        r'<div class="nhsuk-card app-gap" id="gap-[^"]+">(.*?)</h3>', page, re.S
    )
    gap_cards = [c for c in element_cards if "nhsuk-tag--red" in c]
    assert gaps == len(gap_cards)
    assert at_risk == len(element_cards) - len(gap_cards)
    assert met == elements - gaps
    everyone = re.search(r'id="everyone-values">(.*?)</p>', page, re.S)
    assert everyone is not None
    values_line = visible_text(everyone.group(1))
    not_met = values_line.split("(", 1)[1].count(",") + 1 if "(" in values_line else 0
    assert values_met == members - not_met
