"""The workbooks' coverage tables: each member's level of every skill (columns headed by the
skill's words), the skills, each element of each team, the gaps and risks, the core values.

Every figure is read from the judged `TeamCoverage` (the one computation the page and the
API read) through `coverage.vocabulary`, so each column means what the API's field of the
same name means.
"""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter

from competency_app.common.dates import london_day
from competency_app.common.xlsx import SheetWriter, add_table
from competency_app.coverage.reasons import in_words
from competency_app.coverage.services import TeamCoverage
from competency_app.coverage.vocabulary import gap_items, skill_headings
from competency_app.framework.models import FrameworkVersion, Skill

# Fills by where a level stands against the scale's competent level (as on the pages), so
# that any scale reads the same: below, one below, competent, above.
FILLS = {"below": "F0F4F5", "developing": "FFF9C4", "competent": "CCE5D8", "above": "A2D5B7"}
STATUS_WORDS = {"gap": "gap", "at_risk": "at risk", "met": "met"}
GAPS_HEADER = [
    "Team",
    "Kind",
    "Id",
    "Title",
    "Status",
    "Why",
    "Members holding",
    "Members needed",
    "Skills held",
    "Skills in element",
    "E-learning",
]


def level_fills(version: FrameworkVersion) -> dict[int, str]:
    competent = version.settings.scale.competent_level
    fills = {}
    for level in version.settings.scale.levels:
        value = level.value
        band = (
            "above"
            if value > competent
            else "competent"
            if value == competent
            else "developing"
            if value == competent - 1
            else "below"
        )
        fills[value] = FILLS[band]
    return fills


def all_skills(version: FrameworkVersion) -> list[Skill]:
    return [s for c in version.competencies for e in c.elements for s in e.skills]


def coverage_sheet(
    workbook: Workbook, skills: list[Skill], skill_heading: str, book_title: str
) -> tuple[SheetWriter, int]:
    """The Coverage sheet (its header; `coverage_rows` adds each team), headed by each
    skill's first words, and the Skills sheet beside it: each skill's id (for a lookup),
    element, Coverage heading and whole text."""
    headings = skill_headings(skills)
    sheet = add_table(
        workbook,
        "Coverage",
        ["Team", "Team member", "Email", *[headings[s.key] for s in skills]],
        (24, 24, 30, *([18] * len(skills))),
        book_title=book_title,
        freeze="D2",
        wrap_header=True,
    )
    skill_sheet = add_table(
        workbook,
        "Skills",
        ["Skill id", "Element", "Coverage column", skill_heading],
        (10, 44, 50, 100),
        book_title=book_title,
    )
    for skill in skills:
        skill_sheet.row([skill.key, skill.element.display_name, headings[skill.key], skill.text])
    return sheet, skill_sheet.rows


def coverage_rows(sheet: SheetWriter, cov: TeamCoverage, levels: dict[int, list]) -> None:
    """One team's members with their current level of every skill (`_levels`)."""
    for member in cov.members:
        sheet.row([cov.team.name, member.name, member.email, *levels[member.id]])


def finish_coverage_sheet(
    sheet: SheetWriter, version: FrameworkVersion, skills: list[Skill]
) -> None:
    """The level fills, once every team's rows are written."""
    last_row = max(2, sheet.rows)
    data = f"D2:{get_column_letter(3 + len(skills))}{last_row}"
    target: Any = sheet.sheet  # write-only sheets have conditional formats (stubs miss it)
    formatting = target.conditional_formatting
    for value, colour in level_fills(version).items():
        formatting.add(
            data,
            CellIsRule(
                operator="equal",
                formula=[str(value)],
                fill=PatternFill("solid", fgColor=colour, bgColor=colour),
            ),
        )


def elements_sheet(workbook: Workbook, book_title: str) -> SheetWriter:
    """Each team's every element: its status and figures (and the team workbook's chart)."""
    return add_table(
        workbook,
        "Elements",
        [
            "Team",
            "Element",
            "Status",
            "Met so far",
            "Needed",
            "Counted in",
            "Members holding",
            "Members needed",
            "Skills held",
            "Skills in element",
            "Why",
        ],
        (24, 44, 9, 11, 9, 11, 11, 11, 11, 11, 70),
        book_title=book_title,
    )


def elements_rows(sheet: SheetWriter, cov: TeamCoverage) -> None:
    """`Met so far` and `Needed` are the figures the rule judges (`Counted in` says
    whether skills or people); the other figures mean what the API's do."""
    for e in cov.elements:
        so_far, needed = e.against_rule
        counted = (
            "skills"
            if cov.rule == "each_skill" and not e.element.expected_of_everyone
            else "people"
        )
        sheet.row(
            [
                cov.team.name,
                e.element.display_name,
                STATUS_WORDS[e.status],
                so_far,
                needed,
                counted,
                len(e.holder_expiry),
                e.needed,
                e.skills_held,
                e.skill_count,
                in_words(e.why),
            ]
        )


def gaps_sheet(workbook: Workbook, book_title: str) -> SheetWriter:
    return add_table(
        workbook,
        "Gaps",
        GAPS_HEADER,
        (24, 9, 9, 50, 9, 70, 11, 11, 11, 11, 80),
        book_title=book_title,
    )


def gaps_rows(sheet: SheetWriter, cov: TeamCoverage) -> None:
    """Every element, skill and the core values of the team below its rule or at risk,
    with the reason: the same items as the API's `/gaps` (one computation). An element's
    gaps come first, then its risks, as the page lists them."""
    items = gap_items(cov)
    ordered = (
        [i for i in items if i.kind == "element" and i.status == "gap"]
        + [i for i in items if i.kind == "element" and i.status != "gap"]
        + [i for i in items if i.kind == "values"]
        + [i for i in items if i.kind == "skill" and i.status == "gap"]
        + [i for i in items if i.kind == "skill" and i.status != "gap"]
    )
    for item in ordered:
        if item.kind == "element":
            modules = [m.title for m in cov.version.modules if item.id in m.element_keys]
        elif item.kind == "skill":
            wanted = {item.id, item.element}
            modules = [m.title for m in cov.version.modules if wanted & set(m.develops)]
        else:
            modules = []
        sheet.row(
            [
                cov.team.name,
                item.kind,
                item.id,
                item.title,
                STATUS_WORDS[item.status],
                in_words(item.why),
                item.members_holding,
                item.members_needed,
                item.skills_held,
                item.skills_total,
                "; ".join(modules) or None,
            ]
        )


def values_sheet(workbook: Workbook, book_title: str) -> SheetWriter:
    return add_table(
        workbook,
        "Values",
        [
            "Team",
            "Team member",
            "Core values reflection signed off in supervision",
            "Counts until",
        ],
        (24, 24, 40, 14),
        book_title=book_title,
    )


def values_rows(sheet: SheetWriter, cov: TeamCoverage) -> None:
    for member in cov.members:
        until = cov.values.met.get(member.id)
        sheet.row(
            [
                cov.team.name,
                member.name,
                "Yes, within the validity period" if until is not None else "Not yet",
                london_day(until) if until is not None else None,
            ]
        )
