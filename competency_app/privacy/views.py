"""Asking for a copy of a person's data: your own, or (HR and administrators of their
employer) anyone's the organisation employs."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from competency_app.accounts.models import User
from competency_app.accounts.permissions import (
    SIGNED_IN,
    access,
    can_erase_person,
    can_request_personal_data,
    person_by_id,
    person_rule,
)
from competency_app.accounts.services import record
from competency_app.jobs import services as jobs
from competency_app.jobs.views import start_and_follow
from competency_app.privacy import erasure
from competency_app.privacy.jobs import ERASURE, PERSONAL_DATA
from competency_app.privacy.registry import staff_holdings

blueprint = Blueprint("privacy", __name__)


def _sections() -> dict[str, list[str]]:
    """What the copy holds, section by section, in the registry's words."""
    sections: dict[str, list[str]] = {}
    for holding in staff_holdings():
        purposes = sections.setdefault(holding.section, [])
        if holding.purpose not in purposes:
            purposes.append(holding.purpose)
    return sections


def _requests(person: User) -> list:
    return [
        job
        for job in jobs.jobs_of(current_user, limit=50)
        if job.kind == PERSONAL_DATA.name and job.params.get("person") == person.id
    ][:5]


def _page(person: User):
    own = person.id == current_user.id
    return render_template(
        "privacy/request.html",
        title="Your data" if own else f"A copy of {person.name}'s data",
        person=person,
        own=own,
        sections=_sections(),
        recent=_requests(person),
        may_erase=can_erase_person(current_user, person),
    )


def _start(person: User):
    def audited(job) -> None:
        record(
            "personal_data_requested",
            current_user._get_current_object(),
            target=person.email,
            organisation_id=person.organisation_id,
            job=job.id,
        )

    return start_and_follow(PERSONAL_DATA.name, {"person": person.id}, "records", audited)


@blueprint.get("/my-data")
@access(SIGNED_IN)
def mine():
    return _page(current_user._get_current_object())


@blueprint.post("/my-data")
@access(SIGNED_IN)
def request_mine():
    return _start(current_user._get_current_object())


@blueprint.get("/people/<int:user_id>/data")
@access(person_rule(can_request_personal_data))
def person(user_id: int):
    return _page(person_by_id(user_id))


@blueprint.post("/people/<int:user_id>/data")
@access(person_rule(can_request_personal_data))
def request_person(user_id: int):
    return _start(person_by_id(user_id))


def _start_erasure(person: User, actor: User, reason: str):
    """The erasure on request runs as a job (it searches every table for the name)."""

    def audited(job) -> None:
        record(
            "erasure_requested",
            actor,
            target=person.email,
            organisation_id=person.organisation_id,
            people=[person.id],
            reason=reason,
            on_request=True,
            job=job.id,
        )

    params = {"people": [person.id], "by": actor.id, "reason": reason, "request": True}
    return start_and_follow(ERASURE.name, params, "records", audited)


@blueprint.route("/people/<int:user_id>/erase", methods=["GET", "POST"])
@access(person_rule(can_erase_person))
def erase(user_id: int):
    """Erase a leaver's record (confirmed, with the reason): the account stays under a
    pseudonym so the team's past figures stay true; everything identifying goes."""
    person = person_by_id(user_id)
    reason = request.form.get("reason", "")
    typed = {"reason": reason, "confirm": request.form.get("confirm", "")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        actor = current_user._get_current_object()
        problem = erasure.refusal(person, actor, reason)
        if problem:
            errors["reason"] = problem
        elif typed["confirm"] != "yes":
            errors["confirm"] = "Confirm that the erasure cannot be undone"
        if not errors:
            return _start_erasure(person, actor, reason.strip())
    return (
        render_template(
            "privacy/erase.html",
            title=f"Erase {person.name}'s record",
            person=person,
            typed=typed,
            errors=errors,
            blocked=None
            if request.method == "POST"
            else erasure.refusal(person, current_user, "a reason"),
        ),
        400 if errors else 200,
    )
