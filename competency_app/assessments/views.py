"""Self-assessment pages (the practitioner) and supervision pages (the supervisor)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError

from competency_app import charts
from competency_app.accounts.models import Role
from competency_app.accounts.permissions import (
    access,
    assessment_by_id,
    assessment_rule,
    can_edit_assessment,
    can_validate,
    can_view_assessment,
    can_view_person,
    has_role,
    person_by_id,
    person_rule,
)
from competency_app.assessments import services
from competency_app.assessments.charts import self_vs_validated
from competency_app.assessments.models import Status
from competency_app.assessments.profile import (
    changes_since_previous_cycle,
    chart_key,
    chart_series,
    profile_of,
)
from competency_app.extensions import db
from competency_app.framework.services import element_by_key
from competency_app.routing import parse_id
from competency_app.ui.forms import require_form

blueprint = Blueprint("assessments", __name__)


def _me():
    return current_user._get_current_object()


# Every form carries the row version it was drawn from; one without it could overwrite a
# newer save unseen (last writer wins), so it is refused and nothing is stored.
STALE_FORM = "This form is missing its version: reload the page and try again. Nothing was saved."


def _seen_version() -> int | None:
    raw = request.form.get("row_version", "")
    return parse_id(raw)


def _commit_or_conflict(assessment) -> None:
    """Commit; a concurrent change detected at flush becomes the same 409 as a stale form."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        db.session.refresh(assessment)
        raise services.Conflict(assessment) from None


def _workflow_error(error: services.WorkflowError):
    db.session.rollback()
    abort(error.status, str(error))


def _not_editable(assessment):
    """GET: back to the overview with a note; POST: 409, nothing stored."""
    message = (
        f"This assessment is {assessment.status.label.lower()}: it cannot be changed unless "
        "your supervisor returns it."
    )
    if request.method == "POST":
        abort(409, message)
    flash(message, "info")
    return redirect(url_for("assessments.overview", assessment_id=assessment.id))


def _element_neighbours(assessment, key: str):
    elements = services.elements_of(assessment.framework_version)
    keys = [e.key for e in elements]
    index = keys.index(key)
    previous = elements[index - 1] if index > 0 else None
    following = elements[index + 1] if index + 1 < len(elements) else None
    return elements, index, previous, following


# ---- practitioner -------------------------------------------------------------------------


@blueprint.get("/assessments")
@access(has_role(Role.PRACTITIONER))
def my_assessments():
    me = _me()
    return render_template(
        "assessments/mine.html",
        title="Your self-assessments",
        assessments=services.assessments_of(me),
        open_assessment=services.open_assessment(me),
        form=FlaskForm(),
    )


@blueprint.post("/assessments/start")
@access(has_role(Role.PRACTITIONER))
def start():
    require_form()
    try:
        assessment = services.start_assessment(_me())
    except services.WorkflowError as error:
        _workflow_error(error)
    db.session.commit()
    return redirect(url_for("assessments.overview", assessment_id=assessment.id), code=303)


@blueprint.get("/assessments/<int:assessment_id>")
@access(assessment_rule(can_view_assessment))
def overview(assessment_id: int):
    assessment = assessment_by_id(assessment_id)
    selfs = services.self_ratings_by_skill(assessment)
    elements = services.elements_of(assessment.framework_version)
    rows = [(e, sum(1 for s in e.skills if s.id in selfs)) for e in elements]
    return render_template(
        "assessments/overview.html",
        title=f"Self-assessment {assessment.cycle}",
        assessment=assessment,
        rows=rows,
        state=services.progress(assessment),
        editable=assessment.status.editable and can_edit_assessment(_me(), assessment),
    )


def _parse_element_form(element, scale_values: set[int]):
    """(ratings, errors, typed) from the posted element page; nothing is stored here."""
    ratings: dict[int, tuple[int | None, str]] = {}
    errors: dict[str, str] = {}
    typed: dict[str, str] = {}
    for number, skill in enumerate(element.skills, start=1):
        raw = request.form.get(f"level-{skill.id}", "")
        evidence = request.form.get(f"evidence-{skill.id}", "")
        typed[f"level-{skill.id}"], typed[f"evidence-{skill.id}"] = raw, evidence
        level = int(raw) if raw.isdigit() and int(raw) in scale_values else None
        if raw and level is None:
            errors[f"level-{skill.id}"] = f"Skill {number}: choose a level from the scale"
        if len(evidence) > services.MAX_NOTE:
            errors[f"evidence-{skill.id}"] = (
                f"Skill {number}: evidence must be {services.MAX_NOTE:,} characters or fewer"
            )
        if level is None and evidence.strip() and f"level-{skill.id}" not in errors:
            errors[f"level-{skill.id}"] = f"Skill {number}: choose a level for your evidence"
        ratings[skill.id] = (level, evidence)
    return ratings, errors, typed


@blueprint.route("/assessments/<int:assessment_id>/elements/<key>", methods=["GET", "POST"])
@access(assessment_rule(can_edit_assessment))
def rate_element(assessment_id: int, key: str):
    assessment = assessment_by_id(assessment_id)
    element = element_by_key(assessment.framework_version, key)
    if element is None:
        abort(404)
    if not assessment.status.editable:
        return _not_editable(assessment)
    elements, index, previous, following = _element_neighbours(assessment, key)
    scale = assessment.framework_version.rating_scale
    form = FlaskForm()
    errors: dict[str, str] = {}
    selfs = services.self_ratings_by_skill(assessment)
    typed = {}
    for skill in element.skills:
        rating = selfs.get(skill.id)
        typed[f"level-{skill.id}"] = str(rating.level) if rating else ""
        typed[f"evidence-{skill.id}"] = (rating.evidence or "") if rating else ""
    status = 200
    if request.method == "POST":
        require_form()
        ratings, errors, typed = _parse_element_form(
            element, {level["value"] for level in scale["levels"]}
        )
        if _seen_version() is None:
            errors["row_version"] = STALE_FORM
        if not errors:
            try:
                services.save_element(assessment, _me(), element, ratings, _seen_version())
                _commit_or_conflict(assessment)
            except services.WorkflowError as error:
                _workflow_error(error)
            if request.form.get("then") == "overview" or following is None:
                target = url_for("assessments.overview", assessment_id=assessment.id)
            else:
                target = url_for(
                    "assessments.rate_element", assessment_id=assessment.id, key=following.key
                )
            state = services.progress(assessment)
            flash(f"Saved. {state.rated} of {state.total} skills rated.", "success")
            return redirect(target, code=303)
        status = 409 if "row_version" in errors else 400
    return (
        render_template(
            "assessments/element.html",
            title=element.title,
            assessment=assessment,
            element=element,
            scale=scale,
            typed=typed,
            errors=errors,
            form=form,
            step=index + 1,
            steps=len(elements),
            previous=previous,
            following=following,
            state=services.progress(assessment),
        ),
        status,
    )


@blueprint.route("/assessments/<int:assessment_id>/values", methods=["GET", "POST"])
@access(assessment_rule(can_edit_assessment))
def reflect_on_values(assessment_id: int):
    assessment = assessment_by_id(assessment_id)
    if not assessment.status.editable:
        return _not_editable(assessment)
    values = assessment.framework_version.values
    form = FlaskForm()
    typed = {f"value-{r.value_id}": r.text for r in assessment.reflections}
    errors: dict[str, str] = {}
    if request.method == "POST":
        require_form()
        typed = {f"value-{v.id}": request.form.get(f"value-{v.id}", "") for v in values}
        for v in values:
            if len(typed[f"value-{v.id}"]) > services.MAX_NOTE:
                errors[f"value-{v.id}"] = (
                    f"{v.title}: a reflection must be {services.MAX_NOTE:,} characters or fewer"
                )
        if _seen_version() is None:
            errors["row_version"] = STALE_FORM
        if not errors:
            texts = {v.id: typed[f"value-{v.id}"] for v in values}
            try:
                services.save_reflections(assessment, _me(), texts, _seen_version())
                _commit_or_conflict(assessment)
            except services.WorkflowError as error:
                _workflow_error(error)
            flash("Your reflections on the core values are saved.", "success")
            return redirect(url_for("assessments.overview", assessment_id=assessment.id), code=303)
    return (
        render_template(
            "assessments/values.html",
            title="Core values",
            assessment=assessment,
            values=values,
            typed=typed,
            errors=errors,
            form=form,
        ),
        (409 if "row_version" in errors else 400) if errors else 200,
    )


@blueprint.get("/assessments/<int:assessment_id>/summary")
@access(assessment_rule(can_view_assessment))
def summary(assessment_id: int):
    return _summary_page(assessment_by_id(assessment_id), {})


def _summary_page(assessment, errors: dict):
    page = render_template(
        "assessments/summary.html",
        title="Check your self-assessment",
        assessment=assessment,
        elements=services.elements_of(assessment.framework_version),
        selfs=services.self_ratings_by_skill(assessment),
        validated=services.validated_by_skill(assessment),
        labels=_labels(assessment),
        state=services.progress(assessment),
        form=FlaskForm(),
        editable=assessment.status.editable and can_edit_assessment(_me(), assessment),
        errors=errors,
    )
    return page, 409 if errors else 200


@blueprint.post("/assessments/<int:assessment_id>/submit")
@access(assessment_rule(can_edit_assessment))
def submit(assessment_id: int):
    assessment = assessment_by_id(assessment_id)
    require_form()
    if _seen_version() is None:
        return _summary_page(assessment, {"row_version": STALE_FORM})
    try:
        services.submit(assessment, _me(), _seen_version())
        _commit_or_conflict(assessment)
    except services.WorkflowError as error:
        _workflow_error(error)
    flash("Submitted. Your supervisor will validate it in supervision.", "success")
    return redirect(url_for("assessments.overview", assessment_id=assessment.id), code=303)


@blueprint.get("/assessments/<int:assessment_id>/history")
@access(assessment_rule(can_view_assessment))
def assessment_history(assessment_id: int):
    assessment = assessment_by_id(assessment_id)
    return render_template(
        "assessments/history.html",
        title="History",
        assessment=assessment,
        events=services.history(assessment),
    )


def _labels(assessment) -> dict[int, str]:
    return {
        level["value"]: f"{level['value']} {level['label']}"
        for level in assessment.framework_version.rating_scale["levels"]
    }


# ---- supervisor ---------------------------------------------------------------------------


@blueprint.get("/supervision")
@access(has_role(Role.SUPERVISOR))
def queue():
    return render_template(
        "assessments/queue.html",
        title="Assessments awaiting validation",
        assessments=services.submitted_for(_me()),
    )


def _parse_decisions(assessment, elements, scale_values):
    decisions: dict[int, services.Decision] = {}
    errors: dict[str, str] = {}
    typed: dict[str, str] = {}
    selfs = services.self_ratings_by_skill(assessment)
    for element in elements:
        for number, skill in enumerate(element.skills, start=1):
            raw = request.form.get(f"level-{skill.id}", "agree")
            comment = request.form.get(f"comment-{skill.id}", "")
            typed[f"level-{skill.id}"], typed[f"comment-{skill.id}"] = raw, comment
            label = f"{element.title}, skill {number}"
            if raw == "agree":
                level = selfs[skill.id].level
            elif raw.isdigit() and int(raw) in scale_values:
                level = int(raw)
            else:
                errors[f"level-{skill.id}"] = f"{label}: choose a level from the scale"
                continue
            if level != selfs[skill.id].level and not comment.strip():
                errors[f"comment-{skill.id}"] = (
                    f"{label}: add a comment to explain the different level"
                )
            if len(comment) > services.MAX_NOTE:
                errors[f"comment-{skill.id}"] = f"{label}: the comment is too long"
            decisions[skill.id] = services.Decision(level, comment)
    return decisions, errors, typed


@blueprint.route("/supervision/<int:assessment_id>", methods=["GET", "POST"])
@access(assessment_rule(can_validate))
def validate(assessment_id: int):
    assessment = assessment_by_id(assessment_id)
    if assessment.status != Status.SUBMITTED:
        if request.method == "POST":
            abort(
                409,
                f"This assessment is {assessment.status.label.lower()}; it cannot be "
                "validated now.",
            )
        flash(f"This assessment is {assessment.status.label.lower()}.", "info")
        return redirect(url_for("assessments.overview", assessment_id=assessment.id))
    elements = services.elements_of(assessment.framework_version)
    scale = assessment.framework_version.rating_scale
    errors: dict[str, str] = {}
    typed: dict[str, str] = {}
    if request.method == "POST":
        require_form()
        decisions, errors, typed = _parse_decisions(
            assessment, elements, {level["value"] for level in scale["levels"]}
        )
        if _seen_version() is None:
            errors["row_version"] = STALE_FORM
        if not errors:
            try:
                services.validate(assessment, _me(), decisions, _seen_version())
                _commit_or_conflict(assessment)
            except services.WorkflowError as error:
                _workflow_error(error)
            flash(f"{assessment.person.name}'s assessment is validated.", "success")
            return redirect(url_for("assessments.queue"), code=303)
    return _validate_page(assessment, errors, typed, "")


def _validate_page(assessment, errors: dict, typed: dict, return_comment: str):
    version = assessment.framework_version
    return (
        render_template(
            "assessments/validate.html",
            title=f"Validate {assessment.person.name}'s assessment",
            assessment=assessment,
            elements=services.elements_of(version),
            scale=version.rating_scale,
            labels=_labels(assessment),
            selfs=services.self_ratings_by_skill(assessment),
            previous=services.current_ratings(assessment.person),
            typed=typed,
            errors=errors,
            form=FlaskForm(),
            return_comment=return_comment,
        ),
        (409 if "row_version" in errors else 400) if errors else 200,
    )


@blueprint.post("/supervision/<int:assessment_id>/return")
@access(assessment_rule(can_validate))
def return_to_practitioner(assessment_id: int):
    assessment = assessment_by_id(assessment_id)
    require_form()
    comment = request.form.get("return_comment", "")
    if assessment.status == Status.SUBMITTED and not comment.strip():
        error = {"return_comment": "Say what the practitioner should change before returning it"}
        return _validate_page(assessment, error, {}, comment)
    if _seen_version() is None:
        return _validate_page(assessment, {"row_version": STALE_FORM}, {}, comment)
    try:
        services.return_assessment(assessment, _me(), comment, _seen_version())
        _commit_or_conflict(assessment)
    except services.WorkflowError as error:
        _workflow_error(error)
    flash(f"Returned to {assessment.person.name} with your comments.", "success")
    return redirect(url_for("assessments.queue"), code=303)


# ---- profile ------------------------------------------------------------------------------


@blueprint.get("/people/<int:user_id>/profile")
@access(person_rule(can_view_person))
def profile(user_id: int):
    person = person_by_id(user_id)
    data = profile_of(person)
    if data is None:
        abort(404)
    changes, previous = changes_since_previous_cycle(person)
    return render_template(
        "assessments/profile.html",
        title=f"{person.name}: profile",
        person=person,
        profile=data,
        changes=changes,
        previous=previous,
        labels={
            lvl["value"]: f"{lvl['value']} {lvl['label']}"
            for lvl in data.version.rating_scale["levels"]
        },
        print_view=request.args.get("print") == "1",
    )


@blueprint.get("/people/<int:user_id>/profile-chart.<fmt>")
@access(person_rule(can_view_person))
def profile_chart(user_id: int, fmt: str):
    if fmt not in charts.MEDIA_TYPES:
        abort(404)
    person = person_by_id(user_id)
    data = profile_of(person)
    if data is None:
        abort(404)

    def draw(chart_format: str) -> bytes:
        labels, selfs, validated = chart_series(data)
        top = max(level["value"] for level in data.version.rating_scale["levels"])
        return self_vs_validated(
            labels, selfs, validated, top, f"{person.name}: self against validated", chart_format
        )

    body = charts.cached_chart(chart_key(person), fmt, draw)
    response = Response(body, mimetype=charts.MEDIA_TYPES[fmt])
    if request.args.get("download"):
        response.headers["Content-Disposition"] = (
            f'attachment; filename="profile-{person.id}.{fmt}"'
        )
    return response
