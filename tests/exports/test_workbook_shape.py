"""Workbooks HR can use at once (issue 29 item 5), read back with openpyxl: every sheet one
table with a frozen header and an auto-filter, set up to print landscape one page wide with
its header repeated; dates as dates, percentages as numbers formatted as percentages; the
Coverage columns headed by the skills' words; drafts and self-ratings labelled."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

from openpyxl import load_workbook

from competency_app.accounts import services as accounts
from competency_app.assessments import services
from competency_app.clock import today
from competency_app.coverage.development import record_completion
from competency_app.framework.services import current_version
from competency_app.training.services import assign_module
from tests.conftest import sign_in
from tests.exports.test_workbooks import validated_team  # noqa: F401 - a fixture
from tests.factories import PASSWORD, commit

SKILL_ID = re.compile(r"\b\d[a-c]?\.s\d+\b")


def _with_training_and_a_draft(app):
    with app.app_context():
        version = current_version()
        pat = accounts.user_by_email("pat.prac@example.nhs.uk")
        manager = accounts.user_by_email("max.manager@example.nhs.uk")
        required = next(m for m in version.modules if m.required)
        other = next(m for m in version.modules if not m.required)
        record_completion(pat, required.key, today() - timedelta(days=20), "CERT-1", manager)
        assign_module(pat, other.key, today() + timedelta(days=30), manager, version)
        kim = accounts.user_by_email("kim.keyworker@example.nhs.uk")
        draft = services.start_assessment(kim)
        element = services.elements_of(draft.framework_version)[0]
        services.save_element(draft, kim, element, {s.id: (3, "") for s in element.skills}, None)
        commit()


def _book(client, path: str):
    response = client.get(path)
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.data))


def test_every_sheet_is_a_table_set_up_to_print(app, client, validated_team):  # noqa: F811
    _with_training_and_a_draft(app)
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    book = _book(client, "/teams/north/export.xlsx?history=y")
    expected = [
        "Summary",
        "Teams",
        "Elements",
        "Coverage",
        "Skills",
        "Gaps",
        "Ratings",
        "Values",
        "Compliance",
        "Required training",
        "Assigned training",
        "Completions",
        "Suggested",
    ]
    assert book.sheetnames == expected
    for sheet in book.worksheets:
        header = [cell.value for cell in sheet[1]]
        assert all(isinstance(h, str) and h for h in header), sheet.title
        assert sheet.freeze_panes in ("A2", "D2"), sheet.title
        last = sheet.cell(1, len(header)).column_letter
        assert sheet.auto_filter.ref == f"A1:{last}{max(2, sheet.max_row)}", sheet.title
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
        assert sheet.sheet_properties.pageSetUpPr.fitToPage is True, sheet.title
        assert sheet.print_title_rows == "$1:$1", sheet.title
        assert sheet.title in sheet.oddHeader.center.text
        # a person reads the headings: no skill id among them
        assert not [h for h in header if SKILL_ID.search(h)], sheet.title
        # one type a column (blanks aside): never a number or a date stored as text
        for column in sheet.iter_cols(min_row=2, values_only=True):
            kinds = {type(v) for v in column if v is not None}
            if sheet.title != "Summary":  # an item-and-detail list
                assert len(kinds - {int, float}) <= 1 or kinds <= {int, float, str}, (
                    sheet.title,
                    kinds,
                )
            for value in column:
                if isinstance(value, str):
                    assert not re.fullmatch(r"\d+%|\d{1,2}/\d{2}/\d{4}|\d{4}-\d{2}-\d{2}", value)
    assert book["Coverage"].freeze_panes == "D2"


def test_dates_are_dates_and_percentages_are_numbers(app, client, validated_team):  # noqa: F811
    _with_training_and_a_draft(app)
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    book = _book(client, "/teams/north/export.xlsx")
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert isinstance(summary["Date"], datetime)  # openpyxl reads a date cell as datetime
    assert book["Summary"]["B3"].number_format == "dd/mm/yyyy"
    compliance = book["Compliance"]
    header = [c.value for c in compliance[1]]
    share = header.index("Compliant %") + 1
    for row in range(2, compliance.max_row + 1):
        cell = compliance.cell(row, share)
        assert isinstance(cell.value, int | float) and 0 <= cell.value <= 1
        assert cell.number_format == "0%"
    assert compliance.cell(compliance.max_row, 2).value == "All required training"
    assigned = book["Assigned training"]
    titles = [c.value for c in assigned[1]]
    first = {titles[i]: c for i, c in enumerate(assigned[2])}
    assert first["Assigned by"].value == "Max Manager"
    for column in ("Assigned on", "Due by"):
        assert first[column].is_date and first[column].number_format == "dd/mm/yyyy", column
    completions = book["Completions"]
    done = {c.value: i for i, c in enumerate(completions[1])}
    row = list(completions.iter_rows(min_row=2))[0]
    repeat = row[done["Repeat by"]]
    assert row[done["Completed on"]].is_date and (repeat.value is None or repeat.is_date)
    assert row[done["Certificate"]].value == "CERT-1"
    values = book["Values"]
    assert all(row[3].value is None or row[3].is_date for row in values.iter_rows(min_row=2))


def test_the_coverage_columns_are_headed_by_the_skills_words(app, client, validated_team):  # noqa: F811
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    book = _book(client, "/teams/north/export.xlsx")
    headings = [c.value for c in book["Coverage"][1]][3:]
    skills = list(book["Skills"].iter_rows(min_row=2, values_only=True))
    assert headings == [row[2] for row in skills]  # the Skills sheet: heading -> id, text
    assert len(set(headings)) == len(headings)
    for key, _element, heading, text in skills:
        assert SKILL_ID.fullmatch(key)
        assert text.startswith(heading.rstrip("…"))


def test_the_ratings_say_which_are_drafts_and_unvalidated(app, client, validated_team):  # noqa: F811
    _with_training_and_a_draft(app)
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    book = _book(client, "/teams/north/export.xlsx?history=y")
    ratings = list(book["Ratings"].iter_rows(values_only=True))
    column = {title: i for i, title in enumerate(ratings[0])}
    kinds = {
        (row[column["Assessment"]], row[column["Rating"]], row[column["Validated level"]] is None)
        for row in ratings[1:]
    }
    assert ("Validated", "Validated in supervision", False) in kinds
    assert ("Draft", "Draft self-rating, not submitted", True) in kinds
    assert {kind for kind in kinds if kind[1] == "Validated in supervision"} == {
        ("Validated", "Validated in supervision", False)
    }


def test_the_organisation_workbook_alike(app, client, validated_team):  # noqa: F811
    sign_in(client, "hana.hr@example.nhs.uk", PASSWORD)
    book = _book(client, "/exports/organisation.xlsx")
    compliance = list(book["Compliance"].iter_rows(min_row=2, values_only=True))
    assert compliance[0][0].startswith("Organisation (each keyworker once)")
    assert all(isinstance(row[4], int | float) for row in compliance)
    for sheet in book.worksheets:
        assert sheet.freeze_panes and sheet.auto_filter.ref and sheet.print_title_rows


def test_reasons_name_skills_by_their_words(app, client, validated_team):  # noqa: F811
    """A gap's or an element's reason names each skill by its short text in quotes, with its
    id in brackets to look up in the Skills sheet: never a bare id."""
    sign_in(client, "max.manager@example.nhs.uk", PASSWORD)
    book = _book(client, "/teams/north/export.xlsx")
    named = 0
    for sheet in ("Gaps", "Elements"):
        for row in book[sheet].iter_rows(min_row=2, values_only=True):
            for value in row:
                if not isinstance(value, str) or value == row[0]:
                    continue
                quoted = re.findall(r"” \((\d[a-c]?\.s\d+)\)", value)
                named += len(quoted)
                bare = SKILL_ID.findall(re.sub(r"” \(\d[a-c]?\.s\d+\)", "”", value))
                # an id column holds the id alone
                assert not bare or SKILL_ID.fullmatch(value), (sheet, value)
    assert named, "no reason named a skill: the team has no skill gap to test with"
