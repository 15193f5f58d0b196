"""Required training and refresh, compliance figures, and modules assigned from the plan.

The compliance figures are checked against a count made here by hand, the workbook's
Compliance and Required training sheets against the same count, and the refresh against a
moving clock.
"""

from __future__ import annotations

import io
import random
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import yaml
from openpyxl import load_workbook

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role, User
from competency_app.accounts.permissions import team_by_slug
from competency_app.accounts.services import RoleGrant
from competency_app.config import DEFAULT_FRAMEWORK_PATH
from competency_app.coverage.development import record_completion
from competency_app.extensions import db
from competency_app.framework.loader import parse_framework
from competency_app.framework.services import current_version, load_framework
from competency_app.training import required
from competency_app.training.models import ModuleCompletion
from tests.conftest import sign_in
from tests.factories import PASSWORD, commit, make_team, make_user

NOW = datetime(2026, 6, 15, 11, 0, tzinfo=UTC)
OLIVER = "module.oliver-mcgowan"
CORE = "module.cyp-keyworker"


@pytest.fixture
def yearly_framework(app, framework_bytes):
    """The real framework with the Oliver McGowan training refreshed every 12 months."""
    text = framework_bytes.decode()
    assert "refresh_months: 36" in text
    text = text.replace("refresh_months: 36", "refresh_months: 12")
    # one part only: this is about the refresh clock (items of two parts: test_two_part_*)
    text = text.replace("  parts:\n  - module.oliver-mcgowan-tier2-day\n", "")
    assert "parts:" not in text
    document = parse_framework(text.encode())
    with app.app_context():
        load_framework(document, "framework.yaml", loaded_by="test")
        db.session.commit()


def client_of(app, local: str):
    client = app.test_client()
    assert sign_in(client, f"{local}@example.nhs.uk", PASSWORD).status_code in (302, 303)
    return client


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def text_of(html: str) -> str:
    """The page's text, tags dropped, spaces collapsed (none before punctuation)."""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    return re.sub(r" ([:;,.)])", r"\1", text)


def hand_months(day: date, months: int) -> date:
    """Calendar months by hand, independently of the app: step the month, clamp the day."""
    year, month = day.year + (day.month - 1 + months) // 12, (day.month - 1 + months) % 12 + 1
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


# ---- the clock moves: 12-month refresh ------------------------------------------------


def test_a_yearly_refresh_is_expiring_at_11_months_and_overdue_at_12(app, yearly_framework):
    completed = date(2025, 3, 10)
    with app.app_context():
        team = make_team("north")
        make_user("max.manager", Role.MANAGER, team=team)
        pat = make_user("pat.prac", Role.PRACTITIONER, team=team)
        app.config["FROZEN_NOW"] = datetime(2025, 3, 10, 12, tzinfo=UTC)
        record_completion(pat, OLIVER, completed, "CERT-1", pat)
        commit()
        pat_id = pat.id
    seen = {}
    for months, expected in [(9, "in_date"), (11, "expiring"), (12, "overdue"), (13, "overdue")]:
        moment = datetime.combine(hand_months(completed, months), datetime.min.time(), UTC)
        app.config["FROZEN_NOW"] = moment.replace(hour=12)
        with app.app_context():
            version = current_version()
            pat = db.session.get_one(User, pat_id)
            standing = next(
                s for s in required.person_standings(pat, version) if s.module.key == OLIVER
            )
            assert standing.expires_on == date(2026, 3, 10)
            seen[months] = standing.status
            assert standing.status == expected, months
        home = text_of(page(client_of(app, "pat.prac"), "/"))
        if expected == "expiring":
            assert "Required training expiring: The Oliver McGowan" in home
            assert "repeat by 10 March 2026" in home
        if expected == "overdue":
            assert "Required training overdue: The Oliver McGowan" in home
        manager_home = text_of(page(client_of(app, "max.manager"), "/"))
        overdue = 1 if expected == "overdue" else 0
        expiring = 1 if expected == "expiring" else 0
        assert f"{overdue} overdue, 1 never done, {expiring} expiring" in manager_home
        compliance = text_of(page(client_of(app, "max.manager"), "/teams/north/training"))
        label = required.STATUS_LABELS[expected]
        assert re.search(rf"Pat Prac 10 March 2025 10 March 2026 {label}", compliance)
    assert seen == {9: "in_date", 11: "expiring", 12: "overdue", 13: "overdue"}
    # the completion carries its expiry on the development plan too
    plan = text_of(page(client_of(app, "pat.prac"), f"/people/{pat_id}/development"))
    assert "10 March 2025 10 March 2026 CERT-1" in plan
    # One day before the refresh date is still expiring; the refresh date itself is overdue.
    assert required.standing_status(date(2026, 3, 10), True, date(2026, 3, 9), 60) == "expiring"
    assert required.standing_status(date(2026, 3, 10), True, date(2026, 3, 10), 60) == "overdue"


# ---- team compliance equals a brute-force count; the workbook agrees -------------------


def build_random_teams(seed: int):
    """Two teams of keyworkers (one person in both), random completions of every module,
    some several times; a leaver who must not count. Returns what the test counts from."""
    rng = random.Random(seed)
    north, south = make_team("north", "North team"), make_team("south", "South team")
    make_user("max.manager", Role.MANAGER, team=north)
    make_user("hana.hr", Role.HR)
    people = {"north": [], "south": []}
    for i in range(7):
        people["north"].append(make_user(f"north.person{i}", Role.PRACTITIONER, team=north))
    for i in range(5):
        people["south"].append(make_user(f"south.person{i}", Role.PRACTITIONER, team=south))
    both = people["north"][0]
    grants = [RoleGrant(Role.PRACTITIONER, north), RoleGrant(Role.PRACTITIONER, south)]
    accounts.set_roles(both, grants, actor=None)
    people["south"].append(both)
    version = current_version()
    keys = [m.key for m in version.modules]
    completions: list[tuple[int, str, date]] = []
    everyone = {p.id: p for group in people.values() for p in group}
    for person in everyone.values():
        for key in keys:
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                day = NOW.date() - timedelta(days=rng.randint(0, 365 * 4))
                if (person.id, key, day) in {(c[0], c[1], c[2]) for c in completions}:
                    continue
                db.session.add(
                    ModuleCompletion(
                        person_id=person.id,
                        module_key=key,
                        completed_on=day,
                        recorded_at=NOW,
                        recorded_by_id=person.id,
                    )
                )
                completions.append((person.id, key, day))
    leaver = make_user("lee.leaver", Role.PRACTITIONER, team=north)
    leaver.leaving_date = NOW.date() - timedelta(days=1)
    commit()
    return people, completions


def file_parts() -> dict[str, list[str]]:
    """Each required module's other parts, read from the framework file itself."""
    data = yaml.safe_load(DEFAULT_FRAMEWORK_PATH.read_bytes())
    return {m["id"]: m.get("parts", []) for m in data["elearning"] if m.get("required")}


def brute_force(people: list, completions, modules) -> dict:
    """Per required item: (compliant, people, {status: [names]}); counted by hand. An item
    of several parts takes its most urgent part (each refreshed on the item's cycle)."""
    window = 60  # rules.expiring_soon_days in competency_app/data/framework.yaml
    today = NOW.date()
    parts = file_parts()
    urgency = ["overdue", "due", "expiring", "in_date"]
    result = {}
    for module in modules:
        statuses: dict[str, list[str]] = {"due": [], "in_date": [], "expiring": [], "overdue": []}
        for person in people:
            found = []
            for key in [module.key, *parts[module.key]]:
                dates = [
                    c[2] for c in completions if c[0] == person.id and c[1] == key and c[2] <= today
                ]
                if not dates:
                    found.append("due")
                elif module.refresh_months is None:
                    found.append("in_date")
                else:
                    expiry = hand_months(max(dates), module.refresh_months)
                    if expiry <= today:
                        found.append("overdue")
                    elif (expiry - today).days <= window:
                        found.append("expiring")
                    else:
                        found.append("in_date")
            statuses[min(found, key=urgency.index)].append(person.name)
        compliant = len(statuses["in_date"]) + len(statuses["expiring"])
        result[module.key] = (compliant, len(people), statuses)
    return result


@pytest.mark.parametrize("seed", [3, 17])
def test_team_compliance_equals_a_brute_force_count_and_the_workbook_agrees(app, framework, seed):
    app.config["FROZEN_NOW"] = NOW
    with app.app_context():
        people, completions = build_random_teams(seed)
        version = current_version()
        modules = [m for m in version.modules if m.required]
        assert len(modules) == 2 and any(m.refresh_months for m in modules)
        north = [p for p in people["north"]]
        expected = brute_force(north, completions, modules)
        names = {p.id: p.name for p in north}
        assert "Lee Leaver" not in names.values()
        with app.test_request_context():
            compliance = required.team_compliance(team_by_slug("north"), version)
        assert sorted(p.id for p in compliance.people) == sorted(names)
        total_compliant = total = 0
        for mc in compliance.modules:
            compliant, count, statuses = expected[mc.module.key]
            assert (mc.compliant, mc.people) == (compliant, count)
            assert mc.percent == compliant * 100 // count
            for status, listed in statuses.items():
                assert sorted(s.person.name for s in mc.with_status(status)) == sorted(listed)
            total_compliant, total = total_compliant + compliant, total + count
        assert (compliance.compliant, compliance.required) == (total_compliant, total)
        titles = {m.key: m.title for m in modules}
        everyone = {p.id: p for group in people.values() for p in group}
        assert len(everyone) == 12  # the person in both teams counts once
        org_expected = brute_force(list(everyone.values()), completions, modules)
        south_expected = brute_force(people["south"], completions, modules)
    # the page shows the same figures, with names and UK dates
    html = text_of(page(client_of(app, "max.manager"), "/teams/north/training"))
    assert f"{total_compliant * 100 // total}% compliant: {total_compliant} of {total}" in html
    for compliant, count, statuses in expected.values():
        assert f"{compliant * 100 // count}% compliant ({compliant} of {count})" in html
        for name in statuses["overdue"]:
            assert name in html
    assert "Lee Leaver" not in html
    # the team workbook's training tables carry the same standings and figures
    hr = client_of(app, "hana.hr")
    response = hr.get("/teams/north/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    rows = list(book["Required training"].iter_rows(values_only=True))
    assert rows[0] == ("Team", "Team member", "Module", "Completed on", "Repeat by", "Status")
    standings = {(r[1], r[2]): r[5] for r in rows[1:]}
    wanted = {
        (name, titles[key]): required.STATUS_LABELS[status]
        for key, (_c, _n, statuses) in expected.items()
        for status, listed in statuses.items()
        for name in listed
    }
    assert standings == wanted
    # (module, required, compliant, compliant as a number formatted as a percentage)
    figures = {r[1]: r[2:5] for r in book["Compliance"].iter_rows(min_row=2, values_only=True)}
    for key, (compliant, count, _statuses) in expected.items():
        assert figures[titles[key]] == (count, compliant, (compliant * 100 // count) / 100)
    assert figures["All required training"] == (
        total,
        total_compliant,
        (total_compliant * 100 // total) / 100,
    )
    # the organisation page and workbook count every keyworker once
    org_html = text_of(page(hr, "/training/compliance"))
    # HR's home carries the organisation's figure and links to the page
    org_compliant = sum(c for c, _n, _s in org_expected.values())
    org_total = sum(n for _c, n, _s in org_expected.values())
    hr_home = text_of(page(hr, "/"))
    assert "Required training across the organisation" in hr_home
    assert (
        f"{org_compliant * 100 // org_total}% compliant ({org_compliant} of {org_total})" in hr_home
    )
    for team, count, figures_by_module in (
        ("North team", 7, expected),
        ("South team", 6, south_expected),
    ):
        team_compliant = sum(c for c, _n, _s in figures_by_module.values())
        team_total = sum(n for _c, n, _s in figures_by_module.values())
        percent = team_compliant * 100 // team_total
        assert f"{team} {count} {percent}% ({team_compliant} of {team_total})" in org_html
    org = hr.get("/exports/organisation.xlsx")
    assert org.status_code == 200
    org_rows = load_workbook(io.BytesIO(org.data))["Compliance"].iter_rows(values_only=True)
    org_figures = {r[1]: r[2:5] for r in org_rows if str(r[0]).startswith("Organisation")}
    for key, (compliant, count, _statuses) in org_expected.items():
        figure = f"{compliant * 100 // count}% ({compliant} of {count})"
        assert figure in org_html
        assert org_figures[titles[key]] == (count, compliant, (compliant * 100 // count) / 100)
