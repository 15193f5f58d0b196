"""Training pages: required-training compliance (a team's, the organisation's), assigning
modules from a team's training plan, and cancelling an assignment."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from competency_app.accounts import scope
from competency_app.accounts.permissions import (
    access,
    can_view_team,
    is_hr_or_admin,
    team_by_slug,
    team_rule,
)
from competency_app.common.dates import uk_date
from competency_app.database import unit_of_work
from competency_app.framework import local_courses
from competency_app.framework.services import current_version, current_words, element_by_key
from competency_app.training import required, services
from competency_app.training.forms import AssignForm, LocalCourseForm
from competency_app.training.permissions import can_assign_training

blueprint = Blueprint("training", __name__)


def _version():
    version = current_version(structure=True)
    if version is None:
        abort(404)
    return version


@blueprint.get("/teams/<slug>/training")
@access(team_rule(can_view_team))
def team_compliance(slug: str):
    team = team_by_slug(slug)
    version = _version()
    compliance = required.team_compliance(team, version)
    return render_template(
        "training/team_compliance.html",
        title=f"{team.name}: required training",
        team=team,
        compliance=compliance,
        window_days=version.settings.expiring_soon_days,
        labels=required.STATUS_LABELS,
        can_assign=can_assign_training(current_user, team),
    )


@blueprint.get("/training/compliance")
@access(is_hr_or_admin)
def organisation_compliance():
    version = _version()
    return render_template(
        "training/organisation_compliance.html",
        title="Required training across the organisation",
        org=required.organisation_compliance(
            version, organisation_id=scope.employer_id(current_user)
        ),
        labels=required.STATUS_LABELS,
    )


@blueprint.route("/teams/<slug>/training/assign", methods=["GET", "POST"])
@access(team_rule(can_assign_training))
def assign(slug: str):
    team = team_by_slug(slug)
    version = _version()
    members = required.team_keyworkers(team)
    form = AssignForm()
    errors: dict[str, str] = {}
    confirm_needed = False
    if request.method == "GET":
        # Arriving from a training plan step: the module, the gap and a suggested person.
        form.module.data = request.args.get("module", "")[:80]
        form.element.data = request.args.get("element", "")[:40]
        form.person.data = request.args.get("person", "")[:12]
    elif form.validate():
        try:
            with unit_of_work():
                assignment = services.assign_in_team(
                    team,
                    members,
                    form.person_id,
                    form.module.data,
                    form.due,
                    current_user,
                    version,
                    element_key=form.element.data or None,
                    note=form.note.data,
                    confirmed=form.confirm.data,
                )
                name = assignment.person.name
        except services.AssignmentError as error:
            errors = {error.field: str(error)}
            confirm_needed = error.confirmable
        else:
            flash(f"Module assigned to {name}, due {uk_date(form.due)}.", "success")
            return redirect(url_for("coverage.training_plan", slug=team.slug), code=303)
    else:
        errors = form.error_dict()
    typed = form.typed()
    element = element_by_key(version, typed["element"]) if typed["element"] else None
    order = list(AssignForm.FIELDS)
    errors = dict(sorted(errors.items(), key=lambda item: order.index(item[0])))
    return (
        render_template(
            "training/assign.html",
            title=f"{team.name}: assign training",
            team=team,
            errors=errors,
            typed=typed,
            element=element,
            confirm_needed=confirm_needed,
            person_items=[{"value": "", "text": f"Choose a {current_words().practitioner}"}]
            + [
                {"value": str(m.id), "text": m.name, "selected": str(m.id) == typed["person"]}
                for m in members
            ],
            module_items=[{"value": "", "text": "Choose a module"}]
            + [
                {"value": m.key, "text": m.title, "selected": m.key == typed["module"]}
                for m in version.modules
            ],
        ),
        400 if errors else 200,
    )


@blueprint.route(
    "/teams/<slug>/training/assignments/<int:assignment_id>/cancel", methods=["GET", "POST"]
)
@access(team_rule(can_assign_training))
def cancel_assignment(slug: str, assignment_id: int):
    team = team_by_slug(slug)
    version = _version()
    assignment = services.assignment_in(required.team_keyworkers(team), assignment_id)
    if assignment is None:
        abort(404)
    progress = services.progress_of([assignment])[0]
    error = None
    if request.method == "POST":
        try:
            with unit_of_work():
                services.cancel_assignment(assignment, current_user)
        except services.AssignmentError as refusal:
            error = str(refusal)
        else:
            flash("Assignment cancelled.", "success")
            return redirect(url_for("coverage.training_plan", slug=team.slug), code=303)
    modules = {m.key: m for m in version.modules}
    return (
        render_template(
            "training/cancel.html",
            title="Cancel an assignment",
            team=team,
            progress=progress,
            assignment=assignment,
            module=modules.get(assignment.module_key),
            error=error,
        ),
        409 if error else 200,
    )


@blueprint.route("/training/local-courses", methods=["GET", "POST"])
@access(is_hr_or_admin)
def local_course_list():
    """The organisation's local courses (and those shared with it), and the form that adds
    one to its catalogue."""
    version = _version()
    organisation = current_user.organisation
    form = LocalCourseForm()
    errors: dict[str, str] = {}
    if request.method == "POST":
        if form.validate():
            try:
                with unit_of_work():
                    course = local_courses.add_local_course(
                        organisation, form.given(), current_user, version
                    )
                    title = course.title
            except local_courses.LocalCourseError as error:
                errors = {error.field: str(error)}
            else:
                flash(f"{title} is in {organisation.name}'s catalogue.", "success")
                return redirect(url_for("training.local_course_list"), code=303)
        else:
            errors = {
                name: str(field.errors[0]) for name, field in form._fields.items() if field.errors
            }
    given = form.given() if request.method == "POST" else None
    visible = local_courses.visible_courses(organisation.id)
    elements = [e for c in version.competencies for e in c.elements]
    return (
        render_template(
            "training/local_courses.html",
            title="Local courses",
            organisation=organisation,
            own=[c for c in visible if c.organisation_id == organisation.id],
            shared=[c for c in visible if c.organisation_id != organisation.id],
            elements=elements,
            element_titles_by_key={e.key: e for e in elements},
            errors=errors,
            given=given,
            version=version,
            form=form,
        ),
        400 if errors else 200,
    )
