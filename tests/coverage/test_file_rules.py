"""The framework file's `rules.expected_of_everyone`, obeyed by the one computation: the core
values asked of everyone only when it names them, an element's enhanced skills left out,
skills named one by one, and a rule that cannot be obeyed refused with its line. Start
dates on people: the admin page and the roster import set them, and coverage as at an
earlier day does not count someone who had not started. The forecast says what changes,
why and when."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook
from sqlalchemy import select

from competency_app.accounts.models import AuditEvent, Role, Team, User
from competency_app.coverage.forecast import forecast
from competency_app.coverage.services import coverage_for_team
from competency_app.extensions import db
from competency_app.framework.loader import FrameworkFileError, parse_framework
from competency_app.framework.services import current_version
from tests.conftest import post_form, sign_in
from tests.coverage.test_coverage import NOW
from tests.coverage.test_forecast import forecast_team  # noqa: F401  (the fixture)
from tests.factories import PASSWORD, commit, make_team, make_user
from tests.fixtures.second_framework import write_second_framework

KEYWORKING = Path(__file__).parents[2] / "competency_app" / "data" / "framework.yaml"


def _with_everyone(expected: list[str]) -> bytes:
    """The keyworking file with `rules.expected_of_everyone` replaced, as text (the rest
    of the file, and so every line number before the rules, unchanged)."""
    text = KEYWORKING.read_text("utf-8")
    start = text.index("  expected_of_everyone:\n")
    end = text.index("\n", text.index("- '2'", start)) + 1
    listed = "".join(f"  - {yaml.safe_dump(item).splitlines()[0]}\n" for item in expected)
    return (text[:start] + "  expected_of_everyone:\n" + listed + text[end:]).encode("utf-8")


def _line_of(raw: bytes, entry: int) -> int:
    lines = raw.decode("utf-8").splitlines()
    first = lines.index("  expected_of_everyone:") + 1  # 1-based number of the heading
    return first + 1 + entry


@pytest.mark.parametrize(
    ("expected", "entry", "message"),
    [
        (["values", "2.s99"], 1, "unknown element or skill '2.s99'"),
        (["values", "2", "2.s3"], 2, "skill '2.s3' is already expected of everyone through"),
        (["values", "4b", "values"], 2, "'values' is listed twice"),
    ],
)
def test_a_rule_that_cannot_be_obeyed_is_refused_with_its_line(expected, entry, message):
    raw = _with_everyone(expected)
    with pytest.raises(FrameworkFileError) as caught:
        parse_framework(raw, "framework.yaml")
    problem = str(caught.value)
    line = _line_of(raw, entry)
    assert f"framework.yaml:{line}:5: rules.expected_of_everyone.{entry}: {message}" in problem


def test_an_element_whose_skills_are_all_enhanced_asks_nothing_and_is_refused():
    text = _with_everyone(["values", "4c"]).decode("utf-8")
    # mark every skill of 4c enhanced
    start = text.index("  - id: 4c\n")
    end = text.index("tasks:", start)
    marked = text[start:end].replace("    - id: 4c.s", "    - enhanced: true\n      id: 4c.s")
    raw = (text[:start] + marked + text[end:]).encode("utf-8")
    with pytest.raises(FrameworkFileError) as caught:
        parse_framework(raw, "framework.yaml")
    assert "rules.expected_of_everyone.1: element '4c' asks nothing of everyone" in str(
        caught.value
    )
    # an enhanced skill named on its own with its element is allowed (the element leaves
    # it out), and so are skills of other elements
    document = parse_framework(_with_everyone(["values", "2", "2.s12", "1a.s2"]), "f.yaml")
    assert document.rules.expected_of_everyone == ["values", "2", "2.s12", "1a.s2"]


def test_the_keyworking_file_leaves_the_enhanced_skill_out(app, framework):
    with app.app_context():
        version = current_version()
        asked = version.settings.everyone_skills
        assert "2.s12" not in asked and {f"2.s{n}" for n in (1, 11, 13)} <= asked
        assert all(key.startswith("2.") for key in asked) and len(asked) == 12
        assert version.settings.values_expected_of_everyone


def test_values_not_expected_in_the_second_framework_are_met(app, runner, framework, tmp_path):
    """The same members with no values signed off: a gap under the keyworking file, which
    asks the values of everyone; met under the second framework, which does not."""
    with app.app_context():
        team = make_team("east", "East team")
        for n in range(3):
            make_user(f"member.{n}", Role.PRACTITIONER, team=team)
        commit()
        keyworking = coverage_for_team(team, current_version(structure=True), NOW)
        assert keyworking.values.status == "gap" and "values" in keyworking.gap_keys
        assert "core values: 0 of 3 members;" in keyworking.headline
        team_id = team.id
        db.session.remove()
    result = runner.invoke(args=["load-framework", str(write_second_framework(tmp_path))])
    assert result.exit_code == 0, result.output
    with app.app_context():
        team = db.session.get(Team, team_id)
        second = coverage_for_team(team, current_version(structure=True), NOW)
        assert second.values.status == "met" and not second.values.required
        assert "values" not in second.gap_keys and "values" not in second.at_risk_keys
        assert "core values: not expected of everyone (0 of 3 members signed off)" in (
            second.headline
        )


def test_start_date_from_the_admin_page_and_the_roster(app, client, runner, tmp_path):
    with app.app_context():
        team = make_team("north")
        make_user("ada.admin", Role.ADMIN)
        pat = make_user("pat.prac", Role.PRACTITIONER, team=team)
        commit()
        pat_id, team_id = pat.id, team.id
    sign_in(client, "ada.admin@example.nhs.uk", PASSWORD)
    path = f"/admin/people/{pat_id}"
    form = {"team": str(team_id), "roles": ["practitioner"], "active": "y"}
    bad = post_form(client, path, data={**form, "start_date": "last autumn"})
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "Enter the start date as a date, for example 17/03/2027" in html
    assert 'value="last autumn"' in html
    after = post_form(
        client, path, data={**form, "start_date": "01/04/2027", "leaving_date": "31/03/2027"}
    )
    assert after.status_code == 400
    assert "The start date must be before the leaving date" in after.get_data(as_text=True)
    with app.app_context():
        person = db.session.get(User, pat_id)
        assert person.start_date is None and person.leaving_date is None
    ok = post_form(client, path, data={**form, "start_date": "01/09/2025"})
    assert ok.status_code == 303
    assert "1 September 2025" in client.get(path).get_data(as_text=True)
    with app.app_context():
        assert str(db.session.get(User, pat_id).start_date) == "2025-09-01"
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "start_date_changed")
        )
        assert event.detail == {"set": True}

    new = {"name": "Nia New", "email": "nia.new@example.nhs.uk", "roles": ["practitioner"]}
    new["team"] = str(team_id)
    prefilled = client.get("/admin/people/new").get_data(as_text=True)
    assert f'value="{date.today():%d/%m/%Y}"' in prefilled  # today, to change or clear
    bad = post_form(client, "/admin/people/new", data={**new, "start_date": "soon"})
    assert bad.status_code == 400
    assert "Enter the start date as a date" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == new["email"])) is None
    added = post_form(client, "/admin/people/new", data={**new, "start_date": "05/01/2027"})
    assert added.status_code == 200 and "Person added" in added.get_data(as_text=True)
    with app.app_context():
        nia = db.session.scalar(select(User).where(User.email == new["email"]))
        assert str(nia.start_date) == "2027-01-05"

    def roster(rows):
        book = Workbook()
        book.active.append(["name", "email", "role", "team", "start_date"])
        for row in rows:
            book.active.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        file = tmp_path / "roster.xlsx"
        file.write_bytes(buffer.getvalue())
        return str(file)

    bad_rows = [["Pat Prac", "pat.prac@example.nhs.uk", "practitioner", "north", "32/13/2024"]]
    result = runner.invoke(args=["import-staff", roster(bad_rows)])
    assert result.exit_code == 2 and "row 2, column start_date" in result.output
    rows = [
        ["Pat Prac", "pat.prac@example.nhs.uk", "practitioner", "north", "2024-02-01"],
        ["Nia Jones", "nia@example.nhs.uk", "practitioner", "north", "15/01/2026"],
    ]
    result = runner.invoke(args=["import-staff", roster(rows)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        people = {u.email: u.start_date for u in db.session.scalars(select(User))}
        assert str(people["pat.prac@example.nhs.uk"]) == "2024-02-01"
        assert str(people["nia@example.nhs.uk"]) == "2026-01-15"


def test_as_at_before_a_start_date_leaves_the_person_out(app, client, framework):
    app.config["FROZEN_NOW"] = NOW
    with app.app_context():
        team = make_team("north")
        make_user("max.manager", Role.MANAGER, team=team)
        early = make_user("early.one", Role.PRACTITIONER, team=team)
        late = make_user("late.one", Role.PRACTITIONER, team=team)
        early.start_date = date(2021, 5, 1)
        late.start_date = date(2025, 6, 1)
        commit()
        ids = (early.id, late.id)
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)

    def members(day: str) -> list[int]:
        body = client.get(f"/api/v1/teams/north/coverage?as_at={day}").get_data(as_text=True)
        return [m["id"] for m in json.loads(body)["members"]]

    assert members("2020-01-01") == []
    assert members("2022-01-01") == [ids[0]]
    assert members("2025-06-01") == list(ids)
    page = client.get("/teams/north/coverage?as_at=2020-01-01").get_data(as_text=True)
    assert "This team has no members at this date." in page


def test_the_forecast_says_what_changes_why_and_when(app, client, forecast_team):  # noqa: F811
    """kw1 leaves in 20 days (4c, which they alone hold, becomes a gap); kw0's validations
    lapse in 45 (4a a gap; 3b, held with kw2, at risk)."""
    with app.app_context():
        team = db.session.scalar(select(Team))
        version = current_version(structure=True)
        changes = forecast(team, version, NOW + timedelta(days=60))
        said = {(c.kind, c.key): c.sentence for c in changes}
    assert said[("element", "4c")] == (
        "In 20 days (12 December 2026): 4c Building strong relationships and collaborating "
        "becomes a gap — Kw1 leaves on 12 December 2026"
    )
    assert said[("element", "4a")] == (
        "In 45 days (6 January 2027): 4a Coordinating becomes a gap — Kw0's validations "
        "lapse on 6 January 2027"
    )
    assert said[("element", "3b")].startswith("In 45 days (6 January 2027): 3b ")
    assert said[("element", "3b")].endswith(
        "becomes at risk — Kw0's validations lapse on 6 January 2027"
    )
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    page = client.get(f"/teams/north/coverage?as_at={(NOW + timedelta(days=60)).date()}")
    html = page.get_data(as_text=True)
    assert "4a Coordinating becomes a gap — Kw0&#39;s validations lapse on 6 January 2027" in html
