"""The privacy page (what is held, why, how long, who sees it, how to ask) and HR's review
of records past their retention period, where an erasure is confirmed and started as a job.
Routes on the `privacy` blueprint."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user

from competency_app.accounts import scope
from competency_app.accounts.models import Organisation
from competency_app.accounts.permissions import PUBLIC, access, is_admin, is_hr_or_admin
from competency_app.accounts.services import record
from competency_app.common.home import HomeSection
from competency_app.common.pagination import paginate_list
from competency_app.extensions import db
from competency_app.jobs.views import start_and_follow
from competency_app.privacy import retention
from competency_app.privacy.erasure import REASON_LIMIT
from competency_app.privacy.jobs import ERASE_BATCH, ERASURE
from competency_app.privacy.notice import notice_sections
from competency_app.privacy.views import blueprint

DEFAULT_REASON = "Retention period passed (see the privacy page)"
PER_PAGE = 50


@blueprint.get("/privacy")
@access(PUBLIC)
def notice():
    organisation = current_user.organisation if current_user.is_authenticated else None
    return render_template(
        "privacy/notice.html",
        title="How this service uses your information",
        organisation=organisation,
        sections=notice_sections(),
        rules=list(retention.rules().values()),
        whole=retention.whole_months(),
    )


def _review(typed: dict, errors: dict[str, str], status: int = 200):
    organisations = sorted(scope.organisation_ids(current_user))
    leavers = retention.due_leavers(organisations)
    vacancies = retention.due_vacancies(organisations)
    leaver_page = paginate_list(leavers, PER_PAGE)
    names = [db.session.get(Organisation, i).name for i in organisations]  # type: ignore[union-attr]
    return (
        render_template(
            "privacy/retention.html",
            title="Records past their retention period",
            organisations=names,
            leavers=leaver_page,
            vacancies=vacancies[:ERASE_BATCH],
            more_vacancies=max(0, len(vacancies) - ERASE_BATCH),
            undated=retention.undated_leavers(organisations),
            rules=retention.rules(),
            typed=typed,
            errors=errors,
            batch=ERASE_BATCH,
            may_edit=is_admin(current_user),
        ),
        status,
    )


@blueprint.get("/privacy/retention")
@access(is_hr_or_admin)
def review():
    return _review({"reason": DEFAULT_REASON, "people": set(), "vacancies": set()}, {})


def _ids(name: str) -> list[int] | None:
    values = request.form.getlist(name)
    if not all(v.isdigit() for v in values):
        return None
    return sorted({int(v) for v in values})


@blueprint.post("/privacy/retention")
@access(is_hr_or_admin)
def confirm():
    people, vacancies = _ids("people"), _ids("vacancies")
    reason = request.form.get("reason", "").strip()
    typed = {
        "reason": request.form.get("reason", ""),
        "people": set(people or []),
        "vacancies": set(vacancies or []),
        "confirm": request.form.get("confirm", ""),
    }
    errors: dict[str, str] = {}
    organisations = sorted(scope.organisation_ids(current_user))
    if people is None or vacancies is None:
        errors["records"] = "Choose records from the lists below"
    elif not people and not vacancies:
        errors["records"] = "Choose at least one leaver or vacancy to erase"
    elif len(people) + len(vacancies) > ERASE_BATCH:
        errors["records"] = (
            f"Choose at most {ERASE_BATCH} records at a time "
            f"(you chose {len(people) + len(vacancies)})"
        )
    else:
        due_people = {d.person.id for d in retention.due_leavers(organisations, only=people)}
        due_vacancies = {
            d.vacancy.id for d in retention.due_vacancies(organisations, only=vacancies)
        }
        if set(people) - due_people or set(vacancies) - due_vacancies:
            errors["records"] = (
                "Some of the records you chose are not past their retention period or not "
                "your organisation's: reload the page and choose again"
            )
    if not reason:
        errors["reason"] = "Enter the reason for the erasure"
    elif len(reason) > REASON_LIMIT:
        errors["reason"] = f"The reason must be {REASON_LIMIT} characters or fewer"
    if typed["confirm"] != "yes":
        errors["confirm"] = (
            "Confirm that none of the chosen records is needed for a complaint, claim, "
            "investigation or inquiry"
        )
    if errors:
        return _review(typed, errors, 400)
    actor = current_user._get_current_object()

    def audited(job) -> None:
        record(
            "erasure_requested",
            actor,
            target=f"{len(people or [])} leavers, {len(vacancies or [])} vacancies",
            people=people,
            vacancies=vacancies,
            reason=reason,
            job=job.id,
        )

    params = {"people": people, "vacancies": vacancies, "by": actor.id, "reason": reason}
    return start_and_follow(ERASURE.name, params, "records", audited)


def home_section(user) -> HomeSection | None:
    """HR and administrators: how many records wait for their review, with the link."""
    if not is_hr_or_admin(user):
        return None
    organisations = sorted(scope.organisation_ids(user))
    leavers = len(retention.due_leavers(organisations))
    vacancies = len(retention.due_vacancies(organisations))
    section = HomeSection("Personal data")
    if leavers or vacancies:
        section.lines.append(
            f"Past their retention period: {leavers} {'leaver' if leavers == 1 else 'leavers'}' "
            f"records, {vacancies} {'vacancy' if vacancies == 1 else 'vacancies'}' candidates."
        )
        section.links.append(
            ("Review records past their retention period", url_for("privacy.review"))
        )
    else:
        section.lines.append("No records are past their retention period.")
    section.links.append(("How long records are kept (privacy page)", url_for("privacy.notice")))
    return section
