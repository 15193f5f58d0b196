"""HR workbooks and imports: figures match the page, no formulas ever, all-or-nothing imports."""

from __future__ import annotations

import datetime
import html
import io
import json
import re
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from competency_app.accounts import services as accounts
from competency_app.accounts.models import AuditEvent, Role, Team, User
from competency_app.assessments import services
from competency_app.assessments.models import Assessment
from competency_app.common.xlsx import (
    EXCEL_CELL_LIMIT,
    Percent,
    add_table,
    new_workbook,
    safe_value,
    to_bytes,
)
from competency_app.extensions import db
from tests.conftest import csrf_from, sign_in
from tests.factories import (
    PASSWORD,
    commit,
    latest_audit,
    make_team,
    make_user,
    reflect_on_values,
)


@pytest.fixture
def validated_team(app, framework):
    with app.app_context():
        north = make_team("north", "North keyworking team")
        supervisor = make_user("sue.super", Role.SUPERVISOR, team=north)
        make_user("max.manager", Role.MANAGER, team=north)
        make_user("hana.hr", Role.HR)
        for local, level in (("pat.prac", 2), ("kim.keyworker", 1)):
            person = make_user(local, Role.PRACTITIONER, team=north, supervisor=supervisor)
            assessment = services.start_assessment(person)
            for element in services.elements_of(assessment.framework_version):
                services.save_element(
                    assessment,
                    person,
                    element,
                    {s.id: (level, "evidence") for s in element.skills},
                    None,
                )
            reflect_on_values(assessment, person)
            services.submit(assessment, person, None)
            services.validate(assessment, supervisor, {}, None)
        commit()


def sheet_rows(content: bytes, title: str) -> list[tuple]:
    book = load_workbook(io.BytesIO(content))
    return list(book[title].iter_rows(values_only=True))


def formulas_in(content: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return [
            name
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
            and b"<f>" in archive.read(name)
            or name.startswith("xl/worksheets/")
            and b"<f " in archive.read(name)
        ]


def test_team_workbook_matches_the_coverage_page(app, client, validated_team):
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    api = json.loads(client.get("/api/v1/teams/north/coverage").get_data(as_text=True))
    response = client.get("/teams/north/export.xlsx")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    content = response.data
    summary = dict((r[0], r[1]) for r in sheet_rows(content, "Summary") if r and r[0])
    counts = api["counts"]
    # the coverage page's headline, word for word: elements and core values apart
    page = client.get("/teams/north/coverage").get_data(as_text=True)
    on_page = re.search(r'id="coverage-headline">([^<]*)<', page)[1]
    assert summary["North keyworking team"] + "." == html.unescape(on_page)
    assert summary["North keyworking team"].startswith(
        f"{counts['elements_met']} of {counts['elements']} elements met: "
        f"{counts['element_gaps']} gap{'' if counts['element_gaps'] == 1 else 's'}, "
        f"{counts['elements_at_risk']} at risk; core values: {counts['values_met']} of "
    )
    teams = sheet_rows(content, "Teams")
    assert teams[1][:7] == (
        "North keyworking team",
        counts["members"],
        counts["elements"],
        counts["elements_met"],
        counts["element_gaps"],
        counts["elements_at_risk"],
        counts["values_met"],
    )
    rows = sheet_rows(content, "Gaps")[1:]
    gaps = [(r[2], r[4]) for r in rows if r[1] in ("element", "values")]
    assert [k for k, status in gaps if status == "gap"] == api["gaps"]
    assert [k for k, status in gaps if status == "at risk"] == api["at_risk"]
    skills = [(r[2], r[4]) for r in rows if r[1] == "skill"]
    assert [k for k, status in skills if status == "gap"] == api["skill_gaps"]
    coverage = sheet_rows(content, "Coverage")
    header = coverage[0]
    assert header[:3] == ("Team", "Team member", "Email")
    by_name = {row[1]: row for row in coverage[1:]}
    assert set(by_name["Pat Prac"][3:]) == {2} and set(by_name["Kim Keyworker"][3:]) == {1}
    skills_api = {s["id"]: s["holders"] for s in api["skills"]}
    # columns headed by the skill's words; the Skills sheet gives each heading's id
    key_of = {row[2]: row[0] for row in sheet_rows(content, "Skills")[1:]}
    assert not any(re.search(r"\b\d[a-c]?\.s\d+\b", heading) for heading in header)
    for column, heading in enumerate(header[3:], start=3):
        key = key_of[heading]
        holders = sum(
            1 for row in coverage[1:] if isinstance(row[column], int) and row[column] >= 2
        )
        assert holders == skills_api[key]
    ratings = sheet_rows(content, "Ratings")
    assert len(ratings) - 1 == 2 * len(header[3:])
    assert formulas_in(content) == []
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
        assert event.target == "team:north" and event.detail["rows"] > 0


def test_organisation_workbook_is_for_hr_and_admin_only(app, client, validated_team):
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    assert client.get("/exports/organisation.xlsx").status_code == 403
    hr = app.test_client()
    sign_in(hr, "hana.hr@example.nhs.uk", PASSWORD)
    response = hr.get("/exports/organisation.xlsx")
    assert response.status_code == 200
    assert sheet_rows(response.data, "Summary")[1][1].endswith(": Organisation")


def test_team_workbook_holds_the_current_cycle_unless_history_is_asked_for(
    app, client, runner, validated_team, tmp_path
):
    with app.app_context():  # Pat starts a second cycle: rated, not yet validated
        pat = accounts.user_by_email("pat.prac@example.nhs.uk")
        second = services.start_assessment(pat)
        element = services.elements_of(second.framework_version)[0]
        services.save_element(second, pat, element, {s.id: (3, "") for s in element.skills}, None)
        commit()
        skills = sum(len(e.skills) for e in services.elements_of(second.framework_version))
        in_progress = len(element.skills)
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    expected = {"current cycle": 2 * skills, "every cycle": 2 * skills + in_progress}
    for query, ratings in (("", "current cycle"), ("?history=y", "every cycle")):
        content = client.get(f"/teams/north/export.xlsx{query}").data
        rows = sheet_rows(content, "Ratings")[1:]
        assert len(rows) == expected[ratings]
        assert (("Pat Prac", 2) in {(r[0], r[2]) for r in rows}) is bool(query)
        notes = [r[1] for r in sheet_rows(content, "Summary") if r and r[0] == "Note"]
        assert any("current cycle" in n for n in notes) is not bool(query)
        with app.app_context():
            event = latest_audit("export")
            assert event.target == "team:north" and event.detail["ratings"] == ratings
    out = tmp_path / "north.xlsx"
    result = runner.invoke(args=["export-xlsx", "--team", "north", "--history", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(sheet_rows(out.read_bytes(), "Ratings")) - 1 == expected["every cycle"]
    refused = runner.invoke(args=["export-xlsx", "--all", "--history", "-o", str(out)])
    assert refused.exit_code == 2 and "--history is for --team" in refused.output


def test_export_command(app, runner, validated_team, tmp_path):
    out = tmp_path / "north.xlsx"
    result = runner.invoke(args=["export-xlsx", "--team", "north", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert load_workbook(out).sheetnames[0] == "Summary"
    assert (
        runner.invoke(args=["export-xlsx", "--all", "-o", str(tmp_path / "all.xlsx")]).exit_code
        == 0
    )
    assert runner.invoke(args=["export-xlsx", "--team", "nope", "-o", str(out)]).exit_code == 2
    assert runner.invoke(args=["export-xlsx", "-o", str(out)]).exit_code == 2
    bad = runner.invoke(args=["export-xlsx", "--all", "-o", str(tmp_path / "no" / "dir.xlsx")])
    assert bad.exit_code == 2


HOSTILE = st.one_of(
    st.sampled_from(
        [
            "=1+1",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1)",
            "\t=x",
            "\r=x",
            '=HYPERLINK("http://x","y")',
            "\x00\x01\x1f bad",
            "a" * 40_000,
        ]
    ),
    st.text(min_size=1, max_size=60),
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=HOSTILE, comment=HOSTILE, team_name=HOSTILE)
def test_hostile_text_never_becomes_a_formula(app, validated_team, name, comment, team_name):
    # NUL cannot be stored in PostgreSQL text (requests carrying it are refused with 400);
    # the other control characters reach the workbook writer.
    name = name.replace("\x00", "").strip() or "x"
    team_name = team_name.replace("\x00", "").strip() or "x"
    comment = comment.replace("\x00", "").strip() or "x"  # a changed level needs a comment
    with app.app_context():
        user = accounts.user_by_email("pat.prac@example.nhs.uk")
        user.name = name[:200]
        db.session.scalar(select(Team)).name = team_name[:200]
        # a supervisor's comment lands in the Ratings sheet
        person = accounts.user_by_email("kim.keyworker@example.nhs.uk")
        assessment = services.start_assessment(person)
        for element in services.elements_of(assessment.framework_version):
            services.save_element(
                assessment, person, element, {s.id: (2, "") for s in element.skills}, None
            )
        reflect_on_values(assessment, person)
        services.submit(assessment, person, None)
        first = assessment.self_ratings[0]
        services.validate(
            assessment,
            accounts.user_by_email("sue.super@example.nhs.uk"),
            {first.skill_id: services.Decision(0 if first.level else 1, comment[:4000] or "x")},
            None,
        )
        from competency_app.exports.services import export_team

        export = export_team(db.session.scalar(select(Team)), None)
        db.session.rollback()
    assert formulas_in(export.content) == []
    load_workbook(io.BytesIO(export.content))  # opens cleanly


def test_safe_value_rules():
    assert safe_value("=1+1") == "'=1+1"
    assert safe_value("@x") == "'@x"
    assert safe_value("plain") == "plain"
    assert safe_value(-3) == -3
    assert "\x00" not in safe_value("a\x00b")
    assert len(safe_value("x" * 50_000)) == EXCEL_CELL_LIMIT
    # characters XML cannot carry stopped the whole export: replaced, as control ones are
    assert safe_value("a\ufffeb\uffffc\ud800d") == "a\ufffdb\ufffdc\ufffdd"


def test_a_row_keeps_every_kind_of_value():
    """A row written whole (`common/xlsx_rows.py`) reads back as it was given."""
    book = new_workbook()
    sheet = add_table(book, "Values", [f"Column {n}" for n in range(12)])
    given = [
        "#N/A",
        3,
        2.5,
        True,
        None,
        float("nan"),
        datetime.date(2026, 12, 7),
        datetime.datetime(2026, 12, 7, 9, 30),
        Percent(0.75),
        "  spaced ",
        "a\uffffb & <c>",
        "line\rbreak",
    ]
    sheet.row(given)
    row = load_workbook(io.BytesIO(to_bytes(book)))["Values"][2]
    assert [cell.value for cell in row] == [
        "#N/A",
        3,
        2.5,
        True,
        None,
        None,
        datetime.datetime(2026, 12, 7),
        datetime.datetime(2026, 12, 7, 9, 30),
        0.75,
        "  spaced ",
        "a\ufffdb & <c>",
        "line\rbreak",
    ]
    assert row[0].data_type == "s"  # text, never Excel's error value
    assert [row[n].number_format for n in (6, 7, 8)] == ["dd/mm/yyyy", "dd/mm/yyyy hh:mm", "0%"]


def _roster_file(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["name", "email", "role", "team", "supervisor"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_roster_round_trip(app, client, runner, validated_team, tmp_path):
    sign_in(client, "hana.hr@example.nhs.uk", PASSWORD)
    exported = client.get("/admin/imports/roster.xlsx").data
    book = load_workbook(io.BytesIO(exported))
    sheet = book.active
    for row in sheet.iter_rows(min_row=2):
        if row[1].value == "pat.prac@example.nhs.uk":
            row[0].value = "Patricia Prac"
    sheet.append(
        [
            "Nia Jones",
            "nia.jones@example.nhs.uk",
            "practitioner",
            "north",
            "sue.super@example.nhs.uk",
        ]
    )
    path = tmp_path / "roster.xlsx"
    book.save(path)
    result = runner.invoke(args=["import-staff", str(path)])
    assert result.exit_code == 0, result.output
    assert "new: nia.jones@example.nhs.uk" in result.output
    with app.app_context():
        assert accounts.user_by_email("pat.prac@example.nhs.uk").name == "Patricia Prac"
        nia = accounts.user_by_email("nia.jones@example.nhs.uk")
        # no password until set through the link printed above
        assert nia.password_hash == accounts.NO_PASSWORD
        assert accounts.supervisor_of(nia).name == "Sue Super"
        assert "set-your-password link: /set-password/" in result.output
        pat = accounts.user_by_email("pat.prac@example.nhs.uk")
        assert pat.role_set == {Role.PRACTITIONER}


def test_import_with_one_bad_row_changes_nothing(app, runner, validated_team, tmp_path):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(
        _roster_file(
            [
                ["Ana One", "ana@example.nhs.uk", "practitioner", "north", ""],
                ["Bad Role", "bad@example.nhs.uk", "wizard", "north", ""],
                ["Cy Three", "cy@example.nhs.uk", "practitioner", "north", ""],
            ]
        )
    )
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(User))
    result = runner.invoke(args=["import-staff", str(path)])
    assert result.exit_code == 2
    assert "row 3, column role" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == before
    csv_path = tmp_path / "roster.csv"
    csv_path.write_text("name,email,role\nX,not-an-email,hr\n", encoding="utf-8")
    result = runner.invoke(args=["import-staff", str(csv_path)])
    assert result.exit_code == 2 and "row 2, column email" in result.output
    (tmp_path / "junk.xlsx").write_bytes(b"not a zip")
    assert (
        "not a readable .xlsx"
        in runner.invoke(args=["import-staff", str(tmp_path / "junk.xlsx")]).output
    )


def test_web_import_preview_then_apply(app, client, validated_team):
    sign_in(client, "hana.hr@example.nhs.uk", PASSWORD)
    token = csrf_from(client.get("/admin/imports").get_data(as_text=True))
    bad = _roster_file([["Ana", "ana@example.nhs.uk", "practitioner", "nowhere", ""]])
    response = client.post(
        "/admin/imports/preview",
        data={
            "csrf_token": token,
            "kind": "roster",
            "file": (io.BytesIO(bad), "staff.xlsx"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Row 2, column team: there is no team" in response.get_data(as_text=True)
    good = _roster_file([["Ana Able", "ana@example.nhs.uk", "practitioner", "north", ""]])
    response = client.post(
        "/admin/imports/preview",
        data={
            "csrf_token": token,
            "kind": "roster",
            "file": (io.BytesIO(good), "staff.xlsx"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    pending = re.search(r'name="token" value="([^"]+)"', response.get_data(as_text=True)).group(1)
    with app.app_context():
        assert accounts.user_by_email("ana@example.nhs.uk") is None  # nothing until applied
    done = client.post("/admin/imports/apply", data={"csrf_token": token, "token": pending})
    assert done.status_code == 200
    assert "ana@example.nhs.uk" in done.get_data(as_text=True)
    again = client.post("/admin/imports/apply", data={"csrf_token": token, "token": pending})
    assert again.status_code == 409
    # completions
    completions = "email,module,date\npat.prac@example.nhs.uk,module.mecc,2026-10-01\n"
    response = client.post(
        "/admin/imports/preview",
        data={
            "csrf_token": token,
            "kind": "completions",
            "file": (io.BytesIO(completions.encode()), "done.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    pending = re.search(r'name="token" value="([^"]+)"', response.get_data(as_text=True)).group(1)
    assert (
        client.post(
            "/admin/imports/apply", data={"csrf_token": token, "token": pending}
        ).status_code
        == 200
    )
    with app.app_context():
        from competency_app.training.models import ModuleCompletion

        assert db.session.scalar(select(func.count()).select_from(ModuleCompletion)) == 1
        assert db.session.scalar(select(func.count()).select_from(Assessment)) == 2
