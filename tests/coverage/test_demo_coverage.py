"""The demo team's coverage, as a manager meets it: the framework's rule, one answer on
the page, the home page, the JSON and the workbook, each status with its reason."""

from __future__ import annotations

import io
import json

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
    # element 2, expected of everyone: not met, 7 of the 8 have not yet met it
    assert element["2"]["status"] == "gap" and "2" in api["gaps"]
    assert element["2"]["why"] == "Effective communication: 7 of 8 have not yet met it"
    assert len(element["2"]["not_met_ids"]) == 7 and len(api["members"]) == 8

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
    assert "Effective communication: 7 of 8 have not yet met it" in page
    assert 'id="gap-4b"' not in page
    assert " / " not in page[page.index("<table") : page.index("</table>")]  # no fractions
    assert "hold it, 1 needed" in page or "1 or more" in page

    counts = api["counts"]
    home = client.get("/").get_data(as_text=True)
    assert (
        f"{counts['gaps']} gaps, {counts['at_risk']} at risk "
        f"({counts['skill_gaps']} skill{'' if counts['skill_gaps'] == 1 else 's'} held by too few)"
    ) in home

    workbook = load_workbook(io.BytesIO(client.get(f"/teams/{demo}/export.xlsx").data))
    rows = list(workbook["Gaps"].iter_rows(values_only=True))[1:]
    by_key = {(row[1], row[2]): row for row in rows}
    assert by_key[("element", "2")][4:6] == (
        "gap",
        "Effective communication: 7 of 8 have not yet met it",
    )
    assert by_key[("skill", "3a.s4")][4:6] == ("gap", "3a.s4 is held by nobody")
    assert ("element", "4b") not in by_key
    listed = [row[2] for row in rows if row[1] in ("element", "values") and row[4] == "gap"]
    assert listed == api["gaps"]
