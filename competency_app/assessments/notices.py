"""Notifications of the assessment workflow, written in the same transaction as the event:
submitted (to the supervisors), returned and validated (to the keyworker)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from competency_app.accounts.models import SupervisionLink, User
from competency_app.assessments.models import Assessment
from competency_app.clock import utcnow
from competency_app.common.dates import LONDON
from competency_app.extensions import db
from competency_app.notifications import catalogue
from competency_app.notifications.services import notify, notify_many


def today() -> date:
    """The event's day in London (the due date of its notice)."""
    return utcnow().astimezone(LONDON).date()


def _subject(assessment: Assessment) -> str:
    # the row version changes with every transition: a resubmission is a new notice
    return f"assessment:{assessment.id}:v{assessment.row_version}"


def submitted(assessment: Assessment) -> None:
    person = db.session.get_one(User, assessment.person_id)
    supervisors = db.session.scalars(
        select(SupervisionLink.supervisor_id).where(
            SupervisionLink.supervisee_id == assessment.person_id
        )
    )
    notify_many(
        supervisors,
        catalogue.ASSESSMENT_SUBMITTED,
        _subject(assessment),
        today(),
        f"/supervision/{assessment.id}",
        person=person.name,
        cycle=assessment.cycle,
    )


def returned(assessment: Assessment) -> None:
    notify(
        assessment.person_id,
        catalogue.ASSESSMENT_RETURNED,
        _subject(assessment),
        today(),
        f"/assessments/{assessment.id}",
        cycle=assessment.cycle,
    )


def validated(assessment: Assessment, emails_off: set[str] | None = None) -> None:
    """(`emails_off`: as for `notify`, read by the sign-off.)"""
    notify(
        assessment.person_id,
        catalogue.ASSESSMENT_VALIDATED,
        _subject(assessment),
        today(),
        f"/people/{assessment.person_id}/profile",
        emails_off,
        cycle=assessment.cycle,
    )
