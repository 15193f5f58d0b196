"""Candidates' personal data is deleted once its retention period after the vacancy's
closing date has passed: HR confirms the vacancies on the retention review page
(`privacy.retention`), or an operator runs `flask purge-candidates`. Every table about a
candidate goes (`CANDIDATE_TABLES`; `tests/privacy/test_retention.py` checks it against
the personal-data registry), then the candidates; the vacancy stays, marked purged."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask import current_app
from sqlalchemy import delete, func, select

from competency_app.accounts.models import Team, User
from competency_app.accounts.services import record
from competency_app.clock import today, utcnow
from competency_app.common.dates import add_months
from competency_app.extensions import db
from competency_app.recruitment.models import (
    AgreedScore,
    AssessmentScore,
    Candidate,
    InterviewScore,
    InterviewSlot,
    InterviewSubmission,
    PreEmploymentCheckRecord,
    ShortlistMark,
    ShortlistModeration,
    Vacancy,
)

# Every table whose rows are about a candidate (by `candidate_id`).
CANDIDATE_TABLES = (
    ShortlistMark,
    ShortlistModeration,
    InterviewScore,
    InterviewSubmission,
    AgreedScore,
    AssessmentScore,
    InterviewSlot,
    PreEmploymentCheckRecord,
)


def candidate_months() -> int:
    """How long candidates' data is kept after the closing date: RETENTION_MONTHS's
    `candidate`, else the older CANDIDATE_RETENTION_MONTHS (12)."""
    config = current_app.config
    own = dict(config.get("RETENTION_MONTHS") or {})
    return int(own.get("candidate", config.get("CANDIDATE_RETENTION_MONTHS", 12)))


def purge_due(vacancy: Vacancy, retention_months: int) -> date:
    """The day the vacancy's candidates' data is due for deletion."""
    return add_months(vacancy.closing_date, retention_months)


def vacancies_past(retention_months: int):
    """SQL: vacancies whose candidates' data has passed its retention period, not yet purged."""
    cutoff = add_months(today(), -retention_months)
    return select(Vacancy).where(Vacancy.closing_date < cutoff, Vacancy.purged_at.is_(None))


def purge_vacancies(
    vacancies: Sequence[Vacancy], actor: User | None, actor_label: str, **detail
) -> int:
    """Delete the candidates of `vacancies` and everything about them; one audit event in
    each hosting organisation's log. Returns the number of candidates deleted."""
    ids = [v.id for v in vacancies]
    if not ids:
        return 0
    counts: dict[int, int] = {
        organisation_id: count
        for organisation_id, count in db.session.execute(
            select(Team.organisation_id, func.count())
            .select_from(Candidate)
            .join(Vacancy, Vacancy.id == Candidate.vacancy_id)
            .join(Team, Team.id == Vacancy.team_id)
            .where(Candidate.vacancy_id.in_(ids))
            .group_by(Team.organisation_id)
        )
    }
    candidate_ids = select(Candidate.id).where(Candidate.vacancy_id.in_(ids))
    for model in CANDIDATE_TABLES:
        db.session.execute(delete(model).where(model.candidate_id.in_(candidate_ids)))
    db.session.execute(delete(Candidate).where(Candidate.vacancy_id.in_(ids)))
    now = utcnow()
    for vacancy in vacancies:
        vacancy.purged_at = now
    by_organisation: dict[int, list[int]] = {}
    for vacancy in vacancies:
        by_organisation.setdefault(vacancy.team.organisation_id, []).append(vacancy.id)
    for organisation_id, vacancy_ids in sorted(by_organisation.items()):
        record(
            "candidates_purged",
            actor,
            target=f"{len(vacancy_ids)} vacancies",
            organisation_id=organisation_id,
            candidates=counts.get(organisation_id, 0),
            vacancies=vacancy_ids,
            **detail,
            **({} if actor is not None else {"actor_label": actor_label}),
        )
    db.session.flush()
    return sum(counts.values())


def purge_candidates(retention_months: int, actor_label: str = "system") -> tuple[int, int]:
    """Delete candidate personal data (and their marks and scores) for vacancies that closed
    more than `retention_months` ago. Returns (vacancies, candidates)."""
    vacancies = list(db.session.scalars(vacancies_past(retention_months)))
    cutoff = add_months(today(), -retention_months)
    candidates = purge_vacancies(vacancies, None, actor_label, cutoff=cutoff.isoformat())
    return len(vacancies), candidates
