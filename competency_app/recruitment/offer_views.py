"""The conditional offer page: the pre-employment checks of a candidate's offer, a form to
record each one's outcome, and the way to appointing once they are all cleared.

HR and the team's recruiters only (`can_manage_vacancy`). A refused recording answers 400
(409 when the offer is no longer open) with the page again, the errors in page order and
what was typed kept in its form.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from competency_app.accounts.models import User
from competency_app.accounts.permissions import access
from competency_app.common.dates import date_error, parse_day
from competency_app.database import unit_of_work
from competency_app.extensions import db
from competency_app.recruitment import checks
from competency_app.recruitment.base import RecruitmentError
from competency_app.recruitment.models import CHECK_OUTCOMES, Candidate, Vacancy
from competency_app.recruitment.permissions import can_manage_vacancy, vacancy_by_id, vacancy_rule

blueprint = Blueprint("offers", __name__, url_prefix="/recruitment")


def _me() -> User:
    return current_user._get_current_object()


def _candidate(vacancy: Vacancy, candidate_id: int) -> Candidate:
    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None or candidate.vacancy_id != vacancy.id:
        abort(404)
    return candidate


def _offer_page(
    vacancy: Vacancy,
    candidate: Candidate,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
    failed: str | None = None,
):
    statuses = checks.check_statuses(candidate)
    waiting = [s for s in statuses if not s.cleared]
    return (
        render_template(
            "recruitment/conditional_offer.html",
            title=f"Conditional offer to {candidate.reference}",
            vacancy=vacancy,
            candidate=candidate,
            statuses=statuses,
            waiting=waiting,
            waiting_sentence=checks.outstanding_sentence(waiting) if waiting else "",
            open_offer=candidate.offer == "offered" and vacancy.state == "offer_made",
            outcomes=CHECK_OUTCOMES,
            errors=errors or {},
            typed=typed or {},
            failed=failed,  # the check whose form was refused: shown open
        ),
        status,
    )


@blueprint.get("/<int:vacancy_id>/candidates/<int:candidate_id>/conditional-offer")
@access(vacancy_rule(can_manage_vacancy))
def conditional_offer(vacancy_id: int, candidate_id: int):
    vacancy = vacancy_by_id(vacancy_id)
    return _offer_page(vacancy, _candidate(vacancy, candidate_id))


@blueprint.post("/<int:vacancy_id>/candidates/<int:candidate_id>/checks/<check_key>")
@access(vacancy_rule(can_manage_vacancy))
def record_check(vacancy_id: int, candidate_id: int, check_key: str):
    vacancy = vacancy_by_id(vacancy_id)
    candidate = _candidate(vacancy, candidate_id)
    if check_key not in {c.id for c in checks.checks_for(vacancy)}:
        abort(404)
    typed = {
        f"{check_key}-{name}": (request.form.get(name) or "").strip()
        if name != "waiver_reason"
        else request.form.get(name) or ""
        for name in checks.CHECK_FIELDS
    }
    raw_date = typed[f"{check_key}-checked_on"]
    parsed: dict[str, str] = {}
    checked_on: date | None = None
    if raw_date:
        checked_on = parse_day(raw_date)
        if checked_on is None:
            parsed["checked_on"] = date_error("the date the check was settled")
    try:
        with unit_of_work():
            checks.record_check(
                candidate,
                check_key,
                typed[f"{check_key}-outcome"],
                checked_on,
                typed[f"{check_key}-waiver_reason"],
                _me(),
                earlier_errors=parsed,
            )
    except RecruitmentError as error:
        if error.status in (403, 404):
            abort(error.status, str(error))
        found = error.errors or {"": str(error)}
        errors = {(f"{check_key}-{k}" if k else ""): v for k, v in found.items()}
        return _offer_page(vacancy, candidate, errors, typed, error.status, check_key)
    label = next(c.label for c in checks.checks_for(vacancy) if c.id == check_key)
    flash(f"{label}: outcome recorded for {candidate.reference}.", "success")
    return redirect(
        url_for("offers.conditional_offer", vacancy_id=vacancy.id, candidate_id=candidate.id)
        + f"#check-{check_key}",
        code=303,
    )
