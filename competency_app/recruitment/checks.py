"""The pre-employment checks an offer is conditional upon.

The framework file's person specification lists them (`pre_employment_checks`: for the
keyworking file the enhanced DBS check with both barred lists, two references, the right to
work and occupational health). Between the offer and the appointment HR or one of the
team's recruiters records each one's outcome with the date it was settled: satisfactory, not
satisfactory, or waived with a reason. Appointing is refused until every check is
satisfactory or waived (`require_complete`). Each recording is audited; the outcome and any
waiver reason stay on the record, never in an email or the audit detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from competency_app.accounts.models import User
from competency_app.clock import today, utcnow
from competency_app.common.dates import date_error
from competency_app.common.text import control_character_problem, has_control_characters
from competency_app.extensions import db
from competency_app.framework.models import FrameworkVersion
from competency_app.framework.schema import PreEmploymentCheck
from competency_app.framework.services import current_version
from competency_app.recruitment.base import RecruitmentError, _record_candidate
from competency_app.recruitment.models import (
    CHECK_OUTCOMES,
    Candidate,
    PreEmploymentCheckRecord,
    Vacancy,
)
from competency_app.recruitment.permissions import can_manage_vacancy

CLEARED = frozenset({"satisfactory", "waived"})  # the outcomes that let an appointment go ahead
CHECK_FIELDS = ("outcome", "checked_on", "waiver_reason")
MAX_REASON = 2000


def checks_for(vacancy: Vacancy) -> tuple[PreEmploymentCheck, ...]:
    """The checks of the vacancy's person specification, in the file's order. A version
    stored before the file could list them takes the current version's (for the same person
    specification), so an offer made before then waits for them too."""
    for version in (db.session.get(FrameworkVersion, vacancy.framework_version_id), None):
        version = version or current_version()
        if version is None:
            continue
        for spec in version.settings.person_specifications:
            if spec.id == vacancy.spec_key and spec.pre_employment_checks is not None:
                return spec.pre_employment_checks
    return ()


@dataclass(frozen=True)
class CheckStatus:
    """One check of a conditional offer, with its recorded outcome (None: outstanding)."""

    check: PreEmploymentCheck
    record: PreEmploymentCheckRecord | None

    @property
    def cleared(self) -> bool:
        return self.record is not None and self.record.outcome in CLEARED

    @property
    def label(self) -> str:
        return "Outstanding" if self.record is None else self.record.outcome_label

    @property
    def tag_class(self) -> str:
        if self.record is None:
            return "nhsuk-tag--grey"
        return {
            "satisfactory": "nhsuk-tag--green",
            "waived": "nhsuk-tag--blue",
        }.get(self.record.outcome, "nhsuk-tag--red")


def check_statuses(candidate: Candidate) -> list[CheckStatus]:
    records = {
        r.check_key: r
        for r in db.session.scalars(
            select(PreEmploymentCheckRecord).where(
                PreEmploymentCheckRecord.candidate_id == candidate.id
            )
        )
    }
    return [CheckStatus(check, records.get(check.id)) for check in checks_for(candidate.vacancy)]


def outstanding(candidate: Candidate) -> list[CheckStatus]:
    """The checks not yet satisfactory or waived, in the file's order."""
    return [status for status in check_statuses(candidate) if not status.cleared]


def outstanding_sentence(waiting: list[CheckStatus]) -> str:
    labels = [status.check.label for status in waiting]
    named = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"
    verb = "is" if len(labels) == 1 else "are"
    return (
        f"The offer is conditional on its pre-employment checks: {named} {verb} not yet "
        "satisfactory or waived. Record each outcome before appointing."
    )


def waiting_sentence(candidate: Candidate) -> str:
    """Why the candidate cannot be appointed yet ("" when every check is cleared)."""
    waiting = outstanding(candidate)
    return outstanding_sentence(waiting) if waiting else ""


def require_complete(candidate: Candidate) -> None:
    """Refuse (409) an appointment while a check is outstanding, naming each one."""
    waiting = outstanding(candidate)
    if waiting:
        raise RecruitmentError(outstanding_sentence(waiting), status=409)


def record_check(
    candidate: Candidate,
    check_key: str,
    outcome: str,
    checked_on: date | None,
    waiver_reason: str,
    actor: User,
    earlier_errors: dict[str, str] | None = None,
) -> PreEmploymentCheckRecord:
    """Record (or correct) the outcome of one check of the candidate's open offer. Every
    problem is refused at once, by field, in page order (`earlier_errors`: the form's own,
    such as a date that does not parse); nothing is stored then."""
    vacancy = candidate.vacancy
    if not can_manage_vacancy(actor, vacancy):
        raise RecruitmentError(
            "Only HR and the team's recruiters record pre-employment checks.", status=403
        )
    check = next((c for c in checks_for(vacancy) if c.id == check_key), None)
    if check is None:
        raise RecruitmentError("This offer has no such pre-employment check.", status=404)
    if candidate.offer != "offered" or vacancy.state != "offer_made":
        raise RecruitmentError(
            "Pre-employment checks are recorded while the candidate's offer is open.", status=409
        )
    found = dict(earlier_errors or {})
    reason = (waiver_reason or "").strip()
    if outcome not in CHECK_OUTCOMES:
        found.setdefault("outcome", f"Choose the outcome of the check “{check.label}”")
    if checked_on is None:
        found.setdefault("checked_on", date_error("the date the check was settled"))
    elif checked_on > today():
        found.setdefault("checked_on", "The date of the check must be today or in the past")
    if outcome == "waived":
        if not reason:
            found.setdefault(
                "waiver_reason", f"Give the reason for waiving the check “{check.label}”"
            )
        elif len(reason) > MAX_REASON:
            found.setdefault("waiver_reason", f"Keep the reason to {MAX_REASON} characters")
        elif has_control_characters(reason):
            found.setdefault("waiver_reason", control_character_problem("Reason for waiving"))
    if found:
        raise RecruitmentError.of({k: found[k] for k in CHECK_FIELDS if k in found})
    assert checked_on is not None
    row = db.session.scalar(
        select(PreEmploymentCheckRecord).where(
            PreEmploymentCheckRecord.candidate_id == candidate.id,
            PreEmploymentCheckRecord.check_key == check.id,
        )
    )
    before = row.outcome if row is not None else None
    row = row or PreEmploymentCheckRecord(candidate_id=candidate.id, check_key=check.id)
    row.outcome, row.checked_on = outcome, checked_on
    row.waiver_reason = reason if outcome == "waived" else None
    row.recorded_by_id, row.recorded_at = actor.id, utcnow()
    db.session.add(row)
    db.session.flush()
    _record_candidate(
        "pre_employment_check_waived" if outcome == "waived" else "pre_employment_check_recorded",
        actor,
        candidate,
        check=check.id,
        outcome=outcome,
        previous=before,
        checked_on=checked_on.isoformat(),
    )
    return row
