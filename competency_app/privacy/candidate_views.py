"""Asking for a copy of a candidate's data (their subject access request): HR of the
organisation hosting the vacancy, from the candidate's row on the vacancy's page. Once the
vacancy's candidate data is purged there is nothing to copy: the page says so (410) and no
job starts."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from competency_app.accounts.permissions import access
from competency_app.extensions import db
from competency_app.jobs import services as jobs
from competency_app.jobs.views import start_and_follow
from competency_app.privacy import candidates
from competency_app.privacy.candidate_jobs import CANDIDATE_DATA, audit, params_of
from competency_app.recruitment.models import Candidate, Vacancy
from competency_app.recruitment.permissions import (
    can_request_candidate_data,
    vacancy_by_id,
    vacancy_rule,
)

blueprint = Blueprint("candidate_data", __name__, url_prefix="/recruitment")

PATH = "/<int:vacancy_id>/candidates/<int:candidate_id>/data"


def _sections() -> dict[str, list[str]]:
    """What the copy holds, section by section, in the registry's words."""
    sections: dict[str, list[str]] = {}
    for holding in candidates.candidate_holdings():
        purposes = sections.setdefault(holding.section, [])
        if holding.purpose not in purposes:
            purposes.append(holding.purpose)
    sections.setdefault(candidates.AUDIT_SECTION, []).append(candidates.AUDIT_PURPOSE)
    return sections


def _requests(candidate: Candidate) -> list:
    return [
        job
        for job in jobs.jobs_of(current_user, limit=50)
        if job.kind == CANDIDATE_DATA.name and job.params.get("candidate") == candidate.id
    ][:5]


def _refused(vacancy: Vacancy, message: str):
    return (
        render_template(
            "privacy/candidate_request.html",
            title="A copy of a candidate's data",
            vacancy=vacancy,
            candidate=None,
            refused=message,
        ),
        410,
    )


def _candidate(vacancy: Vacancy, candidate_id: int) -> Candidate:
    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None or candidate.vacancy_id != vacancy.id:
        abort(404)
    return candidate


@blueprint.get(PATH)
@access(vacancy_rule(can_request_candidate_data))
def page(vacancy_id: int, candidate_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    problem = candidates.refusal(vacancy)
    if problem:
        return _refused(vacancy, problem)
    candidate = _candidate(vacancy, candidate_id)
    return render_template(
        "privacy/candidate_request.html",
        title=f"A copy of {candidate.name}'s data",
        vacancy=vacancy,
        candidate=candidate,
        refused=None,
        sections=_sections(),
        recent=_requests(candidate),
    )


@blueprint.post(PATH)
@access(vacancy_rule(can_request_candidate_data))
def start(vacancy_id: int, candidate_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    problem = candidates.refusal(vacancy)
    if problem:
        return _refused(vacancy, problem)
    params = params_of(_candidate(vacancy, candidate_id))

    def audited(job) -> None:
        audit("candidate_data_requested", current_user._get_current_object(), params, job=job.id)

    return start_and_follow(CANDIDATE_DATA.name, params, "records", audited)
