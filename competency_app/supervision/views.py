"""Supervision pages: a person's sessions, scheduling, the overview, the supervision record."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role
from competency_app.accounts.permissions import (
    access,
    can_view_person,
    has_role,
    person_by_id,
    person_rule,
)
from competency_app.clock import utcnow
from competency_app.common.dates import LONDON, london_day
from competency_app.common.downloads import send_download
from competency_app.database import unit_of_work
from competency_app.framework.services import current_version
from competency_app.supervision import policy, services
from competency_app.supervision.forms import (
    ActionsForm,
    AssignForm,
    CancelForm,
    GroupForm,
    RescheduleForm,
    ScheduleForm,
)
from competency_app.supervision.models import SessionKind
from competency_app.supervision.pdf import pdf_from_html
from competency_app.supervision.permissions import (
    can_manage_session,
    can_schedule_for,
    can_view_session,
    session_by_id,
    session_rule,
)
from competency_app.training.services import AssignmentError

blueprint = Blueprint("supervision", __name__)


@blueprint.record_once
def _policy_helpers(state) -> None:
    """`service_policy` (the service's own periods, said as such) and `framework_settings()`
    (the current version's settings, or None) for every template, imported macros too."""
    state.app.jinja_env.globals.update(
        service_policy=policy.TEMPLATE_GLOBAL, framework_settings=_current_settings
    )


def _current_settings():
    version = current_version(structure=True)
    return version.settings if version is not None else None


def _me():
    return current_user._get_current_object()


def _version():
    version = current_version()
    if version is None:
        abort(404)
    return version


@blueprint.get("/supervision/sessions")
@access(has_role(Role.SUPERVISOR, Role.MANAGER))
def overview():
    """Everyone the person supervises or manages: overdue first, then waiting, then booked."""
    me, version, now = _me(), _version(), utcnow()
    people = {p.id: p for p in accounts.supervisees(me)}
    people.update({p.id: p for p in services.team_practitioners(me)})
    members = sorted(people.values(), key=lambda p: p.name)
    reviews = services.reviews_of(members, version, now)
    order = {
        services.ReviewState.OVERDUE: 0,
        services.ReviewState.NO_SESSION: 1,
        services.ReviewState.SUBMITTED: 2,
        services.ReviewState.DUE: 3,
        services.ReviewState.NOT_DUE: 4,
    }
    reviews.sort(key=lambda r: (order[r.state], r.due_on or london_day(now), r.person.name))
    return render_template(
        "supervision/overview.html",
        title="Supervision sessions and due dates",
        reviews=reviews,
        waiting=services.waiting_validations(members),
        upcoming=services.upcoming_for(members, now, limit=20),
        now=now,
        today=london_day(now),
        can_schedule={p.id: can_schedule_for(me, p) for p in members},
        is_supervisor=Role.SUPERVISOR in me.role_set,
        since={s.person.id: s for s in services.since_last_supervision(members, version, now)},
        settings=version.settings,
        can_book_group=len(_group_candidates(me)) >= 2
        and any(k != SessionKind.ONE_TO_ONE for k in version.settings.supervision.session_kinds),
    )


@blueprint.get("/people/<int:user_id>/supervision")
@access(person_rule(can_view_person))
def person_sessions(user_id: int):
    person, version, now = person_by_id(user_id), _version(), utcnow()
    return render_template(
        "supervision/person.html",
        title=f"{person.name}: supervision",
        person=person,
        sessions=services.sessions_of(person),
        review=services.review_of(person, version, now),
        supervisor=accounts.supervisor_of(person),
        now=now,
        can_schedule=can_schedule_for(_me(), person),
        since=services.since_last_supervision([person], version, now)[0],
        settings=version.settings,
    )


@blueprint.route("/people/<int:user_id>/supervision/new", methods=["GET", "POST"])
@access(person_rule(can_schedule_for))
def schedule(user_id: int):
    person = person_by_id(user_id)
    form = ScheduleForm()
    errors: dict[str, str] = {}
    if form.is_submitted():
        if form.validate():
            day, at = form.when
            every_weeks, count = form.repeat
            try:
                with unit_of_work():
                    booked = services.schedule_sessions(
                        person,
                        _me(),
                        day,
                        at,
                        place=form.place.data,
                        notes=form.notes.data,
                        every_weeks=every_weeks,
                        sessions=count,
                    )
            except services.SupervisionError as error:
                errors = {error.field: str(error)}
            else:
                flash(
                    f"Supervision booked for {person.name}: "
                    + (
                        f"{len(booked)} sessions, every {every_weeks} weeks."
                        if len(booked) > 1
                        else "1 session."
                    ),
                    "success",
                )
                return redirect(url_for("supervision.person_sessions", user_id=person.id), 303)
        else:
            errors = form.error_dict()
    return (
        render_template(
            "supervision/schedule.html",
            title=f"Schedule supervision for {person.name}",
            person=person,
            errors=errors,
            typed=form.typed(),
        ),
        400 if errors else 200,
    )


@blueprint.route("/supervision/sessions/<int:session_id>/reschedule", methods=["GET", "POST"])
@access(session_rule(can_manage_session))
def reschedule(session_id: int):
    session = session_by_id(session_id)
    form = RescheduleForm()
    errors: dict[str, str] = {}
    if form.is_submitted():
        if form.validate():
            day, at = form.when
            try:
                with unit_of_work():
                    services.reschedule(session, _me(), day, at, form.place.data)
            except services.SupervisionError as error:
                errors = {error.field: str(error)}
            else:
                flash("The session has been moved.", "success")
                return redirect(url_for("supervision.record", session_id=session.id), 303)
        else:
            errors = form.error_dict()
        typed = form.typed()
    else:
        local = session.starts_at.astimezone(LONDON)
        typed = {
            "day": f"{local:%d/%m/%Y}",
            "time": f"{local:%H:%M}",
            "place": session.place or "",
        }
    return (
        render_template(
            "supervision/reschedule.html",
            title="Move a supervision session",
            session=session,
            errors=errors,
            typed=typed,
        ),
        400 if errors else 200,
    )


@blueprint.route("/supervision/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@access(session_rule(can_manage_session))
def cancel(session_id: int):
    session = session_by_id(session_id)
    form = CancelForm()
    if form.is_submitted() and form.validate():
        try:
            with unit_of_work():
                count = services.cancel(
                    session, _me(), rest_of_schedule=bool(form.rest_of_schedule.data)
                )
        except services.SupervisionError as error:
            abort(409, str(error))
        flash(
            "The session has been cancelled."
            if count == 1
            else f"{count} sessions have been cancelled.",
            "success",
        )
        return redirect(url_for("supervision.person_sessions", user_id=session.supervisee_id), 303)
    if session.cancelled:
        abort(409, "This session has already been cancelled.")
    return render_template(
        "supervision/cancel.html", title="Cancel a supervision session", session=session
    )


def prompt_field(prompt_id: str) -> str:
    """The form field (and element id) of a discussion prompt's notes."""
    return f"prompt-{prompt_id}"


def _record_page(session, *, errors=None, typed=None, status=200):
    version = _version()
    me = _me()
    record = services.record_of(session, version)
    typed = {
        "agreed_actions": session.agreed_actions or "",
        "module": "",
        "due_on": "",
        "note": "",
        **{prompt_field(line.prompt_id): line.note or "" for line in record.discussion},
        **(typed or {}),
    }
    return (
        render_template(
            "supervision/record.html",
            title=f"Supervision record: {session.supervisee.name}",
            session=session,
            record=record,
            scale=version.settings.scale,
            modules={m.key: m for m in version.modules},
            can_manage=can_manage_session(me, session),
            errors=errors or {},
            typed=typed,
            prompt_field=prompt_field,
            module_items=[{"value": "", "text": "Choose a module"}]
            + [
                {"value": m.key, "text": m.title, "selected": m.key == typed["module"]}
                for m in version.modules
            ],
        ),
        status,
    )


@blueprint.get("/supervision/sessions/<int:session_id>")
@access(session_rule(can_view_session))
def record(session_id: int):
    return _record_page(session_by_id(session_id))


@blueprint.get("/supervision/sessions/<int:session_id>/record.pdf")
@access(session_rule(can_view_session))
def record_pdf(session_id: int):
    """The record as an A4 PDF (no forms, no links); audited as an export."""
    session = session_by_id(session_id)
    version = _version()
    html = render_template(
        "supervision/record_pdf.html",
        session=session,
        record=services.record_of(session, version),
        scale=version.settings.scale,
        modules={m.key: m for m in version.modules},
        can_manage=False,
        prompt_field=prompt_field,
        pdf=True,
        errors={},
        typed={},
    )
    content = pdf_from_html(html)
    day = london_day(session.starts_at)
    with unit_of_work():
        services.record_downloaded(session, _me())
    return send_download(
        content, "application/pdf", f"supervision-record-{session.supervisee_id}-{day}.pdf"
    )


@blueprint.post("/supervision/sessions/<int:session_id>/actions")
@access(session_rule(can_manage_session))
def actions(session_id: int):
    """The discussion (a note per prompt of the framework file) and the agreed actions,
    saved together; what was typed is kept when anything is refused."""
    session = session_by_id(session_id)
    form = ActionsForm()
    prompts = _version().settings.supervision.prompts
    notes = {
        prompt.id: request.form[prompt_field(prompt.id)]
        for prompt in prompts
        if prompt_field(prompt.id) in request.form
    }
    errors = {
        prompt_field(prompt.id): f"Keep the notes on “{prompt.title}” to "
        f"{services.MAX_TEXT} characters"
        for prompt in prompts
        if len(notes.get(prompt.id, "").strip()) > services.MAX_TEXT
    }
    if form.validate() and not errors:
        try:
            with unit_of_work():
                services.record_actions(
                    session, _me(), form.agreed_actions.data, notes=notes, prompts=prompts
                )
        except services.SupervisionError as error:
            abort(409, str(error))
        flash("Discussion and agreed actions saved.", "success")
        return redirect(url_for("supervision.record", session_id=session.id) + "#discussion", 303)
    errors.update(form.error_dict())
    typed = {**form.typed(), **{prompt_field(pid): text for pid, text in notes.items()}}
    return _record_page(session, errors=errors, typed=typed, status=400)


def _group_candidates(me) -> list:
    """Whom the person may book a peer or group session for: their supervisees and the
    practitioners of the teams they manage, by name."""
    people = {p.id: p for p in accounts.supervisees(me)}
    people.update({p.id: p for p in services.team_practitioners(me)})
    return sorted((p for p in people.values() if p.id != me.id), key=lambda p: p.name)


@blueprint.route("/supervision/group/new", methods=["GET", "POST"])
@access(has_role(Role.SUPERVISOR, Role.MANAGER))
def new_group():
    """Book one peer or group session for several people: one record each."""
    me, version = _me(), _version()
    kinds = [k for k in version.settings.supervision.session_kinds if k != SessionKind.ONE_TO_ONE]
    if not kinds:
        abort(404)
    candidates = _group_candidates(me)
    by_id = {str(p.id): p for p in candidates}
    form = GroupForm()
    errors: dict[str, str] = {}
    chosen = request.form.getlist("people") if form.is_submitted() else []
    if form.is_submitted():
        valid = form.validate()
        errors = form.error_dict()
        people = [by_id[i] for i in chosen if i in by_id]
        if len(people) != len(chosen):
            errors["people"] = "Choose people from the list"
        elif len(people) < 2:
            errors["people"] = "Choose at least two people for the session"
        leader = by_id.get(form.led_by.data) if form.led_by.data else None
        if form.led_by.data and leader is None:
            errors["led_by"] = "Choose who leads the session from the list"
        if valid and not errors:
            day, at = form.when
            try:
                with unit_of_work():
                    booked = services.schedule_group(
                        people,
                        me,
                        form.kind.data,
                        day,
                        at,
                        kinds_held=version.settings.supervision.session_kinds,
                        place=form.place.data,
                        notes=form.notes.data,
                        led_by=leader,
                    )
            except services.SupervisionError as error:
                errors = {error.field: str(error)}
            else:
                label = SessionKind.LABELS[form.kind.data]
                flash(
                    f"{label} booked for {len(booked)} people "
                    f"({', '.join(p.name for p in people)}): a record for each.",
                    "success",
                )
                return redirect(url_for("supervision.overview"), 303)
    return (
        render_template(
            "supervision/group.html",
            title="Book a peer or group supervision session",
            kind_items=[
                {
                    "value": k,
                    "text": SessionKind.LABELS[k],
                    "hint": {"text": SessionKind.HINTS[k]},
                    "checked": k == form.kind.data or len(kinds) == 1,
                }
                for k in kinds
            ],
            candidates=candidates,
            chosen=set(chosen),
            errors=errors,
            typed=form.typed(),
        ),
        400 if errors else 200,
    )


@blueprint.post("/supervision/sessions/<int:session_id>/assign")
@access(session_rule(can_manage_session))
def assign(session_id: int):
    session = session_by_id(session_id)
    form = AssignForm()
    errors: dict[str, str] = {}
    confirm_needed = False
    if form.validate():
        try:
            with unit_of_work():
                services.assign_in_session(
                    session,
                    _me(),
                    form.module.data,
                    form.due,
                    _version(),
                    form.note.data,
                    confirmed=form.confirm.data,
                )
        except AssignmentError as error:
            errors = {"due_on" if error.field == "due_on" else "module": str(error)}
            confirm_needed = error.confirmable
        except services.SupervisionError as error:
            abort(409, str(error))
        else:
            flash("Module assigned.", "success")
            return redirect(url_for("supervision.record", session_id=session.id) + "#modules", 303)
    else:
        errors = form.error_dict()
    typed = {k: v for k, v in form.typed().items() if k != "agreed_actions"}
    if confirm_needed:
        typed["confirm_needed"] = "1"
    return _record_page(session, errors=errors, typed=typed, status=400)
