"""The workbooks' Summary (what the workbook holds, each team's headline, the scale, the
notes; the team workbook's chart) and Teams (each team's headline figures as numbers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference

from competency_app.common.dates import london_day
from competency_app.common.xlsx import SheetWriter, add_table, safe_text
from competency_app.coverage.services import TeamCoverage, rule_sentence
from competency_app.coverage.words import headline
from competency_app.framework.models import FrameworkVersion


def teams_sheet(workbook: Workbook, book_title: str) -> SheetWriter:
    """Each team's headline figures, the elements and the core values counted apart."""
    return add_table(
        workbook,
        "Teams",
        [
            "Team",
            "Members",
            "Elements",
            "Elements met",
            "Element gaps",
            "Elements at risk",
            "Core values met (members)",
            "Core values",
            "Skills",
            "Skills held by too few",
            "Skills at risk",
            "Element gaps (which)",
            "Elements at risk (which)",
        ],
        (24, 10, 10, 10, 10, 10, 14, 10, 8, 12, 10, 60, 60),
        book_title=book_title,
    )


def teams_row(sheet: SheetWriter, cov: TeamCoverage) -> list:
    """The team's row of the Teams sheet; its headline, for the Summary, is returned."""
    counts = cov.counts
    sheet.row(
        [
            cov.team.name,
            counts["members"],
            counts["elements"],
            counts["elements_met"],
            len(cov.gaps),
            len(cov.at_risk),
            len(cov.values.met),
            {"met": "met", "at_risk": "at risk", "gap": "gap"}.get(
                cov.values.status, cov.values.status
            ),
            counts["skills"],
            counts["skill_gaps"],
            counts["skills_at_risk"],
            "; ".join(f"{e.element.display_name} ({e.why})" for e in cov.gaps) or None,
            "; ".join(f"{e.element.display_name} ({e.why})" for e in cov.at_risk) or None,
        ]
    )
    return [cov.team.name, headline(cov)]


def summary_sheet(
    workbook: Workbook,
    version: FrameworkVersion,
    headlines: list[list],
    members: int,
    scope: str,
    now: datetime,
    notes: list[str],
    chart_of: tuple[SheetWriter, TeamCoverage] | None,
    book_title: str,
) -> SheetWriter:
    """The Summary sheet, a table of items: `headlines` are each team's [name, headline]
    (`teams_row`); `chart_of`, the Elements sheet and the one team of a team workbook."""
    sheet = add_table(workbook, "Summary", ["Item", "Detail"], (28, 90), book_title=book_title)
    sheet.row(["Workbook", f"{version.short_title}: {scope}"])
    sheet.row(["Date", london_day(now)])
    sheet.row(["Framework", f"{version.title}, version {version.number} ({version.label})"])
    sheet.row(["Teams", len(headlines)])
    sheet.row(["Team members", members])
    if headlines:
        sheet.row(["Rule", rule_sentence(version)])
    for row in headlines:
        sheet.row(row)
    for level in version.settings.scale.levels:
        sheet.row([f"Level {level.value}", f"{level.label}: {level.descriptor}"])
    sheet.row(
        ["Level expired", "A validation older than the validity period: it no longer counts."]
    )
    sheet.row(
        [
            "Counting",
            "Only supervisor-validated, unexpired ratings at or above "
            f"{version.settings.scale.competent_level} count towards coverage; the Ratings "
            "sheet says which rows are validated, awaiting validation or drafts.",
        ]
    )
    sheet.row(
        [
            "Sheets",
            "Teams: each team's figures. Elements: each element against its rule. Coverage: "
            "each member's level of every skill (the Skills sheet gives each column's skill "
            "id and whole text). Gaps, Ratings, Values, then the training: Compliance, "
            "Required training, Assigned training, Completions, Suggested.",
        ]
    )
    for note in notes:
        sheet.row(["Note", note])
    if chart_of is not None:
        _holders_chart(sheet, *chart_of)
    return sheet


def _holders_chart(summary: SheetWriter, elements: SheetWriter, cov: TeamCoverage) -> None:
    """A native Excel bar chart of each element against its rule, from the Elements sheet:
    editable and readable in Excel, and no image to draw (PERFORMANCE: ~10 ms, where
    drawing the page's matplotlib chart cost ~250 ms)."""
    last = 1 + len(cov.elements)
    chart = BarChart()
    chart.type = "bar"
    chart.title = safe_text(f"{cov.team.name}: each element against its rule")
    chart.y_axis.title = "Skills or people"
    chart.height, chart.width = 9, 18
    data = Reference(elements.sheet, min_col=4, max_col=5, min_row=1, max_row=last)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(elements.sheet, min_col=2, min_row=2, max_row=last))
    target: Any = summary.sheet  # write-only sheets take charts (the stubs say otherwise)
    target.add_chart(chart, "D2")
