"""The HR workbook for one vacancy, through the project's safe Excel writer."""

from __future__ import annotations

from competency_app.common.xlsx import add_sheet, new_workbook, to_bytes
from competency_app.recruitment import services
from competency_app.recruitment.models import Vacancy


def vacancy_workbook(vacancy: Vacancy) -> tuple[bytes, int]:
    workbook = new_workbook()
    criteria = services.interview_criteria(vacancy)
    ranked = services.ranking(vacancy)
    summary = add_sheet(workbook, "Candidates", widths=(14, 28, 10, 14, 60, 30))
    summary.header(["Reference", "Name", "Total", "Appointable", "Reason", "Team gaps it fills"])
    for r in ranked:
        summary.row(
            [
                r.candidate.reference,
                r.candidate.name,
                r.total,
                "Yes" if r.verdict.appointable else "No",
                "; ".join(r.verdict.reasons),
                ", ".join(r.gap_fit),
            ]
        )
    scores = add_sheet(workbook, "Scores", widths=(14, 14, 12, 26, 8, 60, 8))
    scores.header(
        ["Reference", "Criterion", "Requirement", "Panel member", "Score", "Notes", "Agreed"]
    )
    for r in ranked:
        agreed = services.agreed_scores(r.candidate)
        panel = services.visible_scores(r.candidate, None, everyone=True)
        for criterion in criteria:
            for user, score in panel.get(criterion.key, []):
                scores.row(
                    [
                        r.candidate.reference,
                        criterion.key,
                        criterion.requirement,
                        user.name,
                        score.score,
                        score.notes,
                        agreed.get(criterion.key),
                    ]
                )
    crit = add_sheet(workbook, "Criteria", widths=(14, 12, 24, 100))
    crit.header(["Criterion", "Requirement", "Category", "Text"])
    for criterion in services.criteria_of(vacancy):
        crit.row([criterion.key, criterion.requirement, criterion.category, criterion.text])
    return to_bytes(workbook), summary.rows + scores.rows + crit.rows
