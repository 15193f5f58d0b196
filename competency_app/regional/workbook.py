"""The regional workbook: the collaborative's figures in five sheets, numbers only.

Summary (what it holds and the collaborative's totals), Teams (each team's coverage,
training and vacancies), Skills (every skill: distinct holders across the collaborative,
the number needed, then each team's holders), Forecast (element gaps and at risk per team
today and in 30, 60 and 90 days) and Vacancies (per team, by stage). Written through
`common.xlsx` (no cell is ever a formula), each sheet one table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from competency_app.common.dates import london_day
from competency_app.common.xlsx import add_table, new_workbook, percent, to_bytes
from competency_app.regional.services import (
    OPEN_STATES,
    Forecast,
    Regional,
    rule_sentence,
    stage_label,
)

SHEETS = ("Summary", "Teams", "Skills", "Forecast", "Vacancies")
STATUS_WORDS = {"met": "met", "at_risk": "at risk", "gap": "gap"}


@dataclass
class RegionalExport:
    content: bytes
    rows: int
    filename: str


def build_regional_workbook(
    regional: Regional, forecast: Forecast, progress: Callable[[int], None] | None = None
) -> RegionalExport:
    collaborative, version = regional.collaborative, regional.version
    title = f"{version.short_title}: {collaborative.name}"
    workbook = new_workbook()
    teams = regional.teams
    step = progress or (lambda _n: None)

    summary = add_table(workbook, "Summary", ["Item", "Detail"], (30, 90), book_title=title)
    summary.row(["Workbook", f"Regional figures: {collaborative.name}"])
    summary.row(["Date", london_day(regional.now)])
    summary.row(["Framework", f"{version.title}, version {version.number} ({version.label})"])
    summary.row(["Organisations", len(regional.organisations)])
    summary.row(["Teams", len(teams)])
    summary.row(["Keyworkers (each once)", regional.practitioners])
    summary.row(["Element gaps (all teams)", regional.total("gaps")])
    summary.row(["Elements at risk (all teams)", regional.total("at_risk")])
    summary.row(["Skills held by too few", len(regional.too_few)])
    summary.row(["Skills rule", rule_sentence(regional)])
    summary.row(
        [
            "Required training",
            percent(regional.training.compliant, regional.training.required),
        ]
    )
    summary.row(["Open vacancies", sum(row.open_vacancies for row in teams)])
    summary.row(
        [
            "Figures only",
            "Counts of people, never a person's name, rating or reflection. A team's coverage "
            "is judged by the framework's rule as on its coverage page.",
        ]
    )
    step(1)

    sheet = add_table(
        workbook,
        "Teams",
        [
            "Organisation",
            "Team",
            "Keyworkers",
            "Elements",
            "Elements met",
            "Elements at risk",
            "Element gaps",
            "Core values",
            "Skills held by too few in the team",
            "Required training compliant",
            "Fully compliant (people)",
            "Open vacancies",
        ],
        (24, 24, 12, 10, 10, 10, 10, 10, 14, 14, 14, 12),
        book_title=title,
        freeze="C2",
    )
    for row in teams:
        sheet.row(
            [
                row.organisation.name,
                row.team.name,
                row.members,
                row.elements,
                row.met,
                row.at_risk,
                row.gaps,
                STATUS_WORDS.get(row.values, row.values),
                row.skill_gaps,
                percent(row.training.compliant, row.training.required),
                row.training.fully_compliant,
                row.open_vacancies,
            ]
        )
    rows = summary.rows + sheet.rows
    step(1)

    skills = add_table(
        workbook,
        "Skills",
        [
            "Skill id",
            "Skill",
            "Holders across the collaborative",
            "Needed",
            "Held by too few",
            *(row.team.name for row in teams),
        ],
        (10, 60, 14, 10, 10, *(12 for _ in teams)),
        book_title=title,
        freeze="C2",
        wrap_header=True,
    )
    for spread in regional.skills:
        held = {h.team.id: h.holders for h in spread.teams}
        skills.row(
            [
                spread.skill.key,
                spread.skill.text,
                spread.holders,
                spread.needed,
                "yes" if spread.too_few else "no",
                *(held.get(row.team.id, 0) for row in teams),
            ]
        )
    rows += skills.rows
    step(1)

    days = [f"in {d} days" for d in forecast.days]
    ahead = add_table(
        workbook,
        "Forecast",
        [
            "Organisation",
            "Team",
            "Element gaps today",
            *(f"Element gaps {d}" for d in days),
            "At risk today",
            *(f"At risk {d}" for d in days),
        ],
        (24, 24, *(12 for _ in range(2 * len(days) + 2))),
        book_title=title,
        freeze="C2",
        wrap_header=True,
    )
    for frow in forecast.rows:
        ahead.row([frow.organisation.name, frow.team.name, *frow.gaps, *frow.at_risk])
    rows += ahead.rows
    step(1)

    vacancies = add_table(
        workbook,
        "Vacancies",
        ["Organisation", "Team", *(stage_label(s) for s in OPEN_STATES), "Open in all"],
        (24, 24, *(12 for _ in OPEN_STATES), 12),
        book_title=title,
        freeze="C2",
        wrap_header=True,
    )
    for row in teams:
        vacancies.row(
            [
                row.organisation.name,
                row.team.name,
                *(row.vacancies.get(s, 0) for s in OPEN_STATES),
                row.open_vacancies,
            ]
        )
    rows += vacancies.rows
    content = to_bytes(workbook)
    step(1)
    filename = f"{collaborative.slug}-regional-{london_day(regional.now):%Y-%m-%d}.xlsx"
    return RegionalExport(content, rows, filename)
