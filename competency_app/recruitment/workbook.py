"""The HR workbook for one vacancy, through the project's safe Excel writer."""

from __future__ import annotations

from competency_app.common.dates import uk_date
from competency_app.common.xlsx import add_sheet, new_workbook, to_bytes
from competency_app.recruitment import services
from competency_app.recruitment.models import Vacancy


def vacancy_workbook(vacancy: Vacancy) -> tuple[bytes, int]:
    workbook = new_workbook()
    criteria = services.interview_criteria(vacancy)
    ranked = services.ranking(vacancy)
    summary = add_sheet(workbook, "Candidates", widths=(14, 28, 10, 10, 10, 16, 70, 40))
    summary.header(
        [
            "Reference",
            "Name",
            "Essential",
            "Desirable",
            "Task",
            "Appointable",
            "Reasons",
            "Team gaps it fills",
        ]
    )
    for r in ranked:
        summary.row(
            [
                r.candidate.reference,
                r.candidate.name,
                r.essential_total,
                r.desirable_total,
                r.task_total,
                "Not agreed yet" if not r.agreed else "Yes" if r.verdict.appointable else "No",
                "; ".join(str(reason) for reason in r.verdict.reasons),
                "; ".join(f"{e.key} {e.title}" for e in r.gap_fit),
            ]
        )
    scores = add_sheet(workbook, "Scores", widths=(14, 50, 12, 26, 8, 60, 8))
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
                        services.short_title(criterion),
                        criterion.requirement,
                        user.name,
                        score.score,
                        score.notes,
                        agreed.get(criterion.key),
                    ]
                )
    moderated = add_sheet(workbook, "Moderation", widths=(14, 50, 12, 14, 70, 14))
    moderated.header(["Reference", "Criterion", "Requirement", "Decision", "Reason", "Date"])
    for result in services.shortlist_results(vacancy):
        for criterion, decision in result.moderated:
            moderated.row(
                [
                    result.candidate.reference,
                    services.short_title(criterion),
                    criterion.requirement,
                    ("Met" if decision.met else "Not met")
                    if criterion.requirement == "essential"
                    else decision.score,
                    decision.reason,
                    uk_date(decision.moderated_at),
                ]
            )
    crit = add_sheet(workbook, "Criteria", widths=(50, 12, 24, 100, 14))
    crit.header(["Criterion", "Requirement", "Category", "Full text", "Key"])
    for criterion in services.criteria_of(vacancy):
        crit.row(
            [
                services.short_title(criterion),
                criterion.requirement,
                criterion.category,
                criterion.full_text,
                criterion.key,
            ]
        )
    return to_bytes(workbook), summary.rows + scores.rows + moderated.rows + crit.rows
