"""Self-assessment pages (the practitioner) and supervision pages (the supervisor)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from flask import (
    Blueprint,
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

from competency_app.accounts.models import Role
from competency_app.accounts.permissions import (
    access,
    can_request_personal_data,
    can_view_person,
    has_role,
    person_by_id,
    person_rule,
)
from competency_app.assessments import forms, looked_at, services
from competency_app.assessments.charts import self_vs_validated
from competency_app.assessments.models import Status, ValueReviewOutcome
from competency_app.assessments.permissions import (
    assessment_by_id,
    assessment_rule,
    can_edit_assessment,
    can_validate,
    can_view_assessment,
)
from competency_app.assessments.profile import (
    changes_since_previous_cycle,
    chart_key,
    chart_series,
    profile_of,
)
from competency_app.assessments.reworded import reworded_in_assessment, reworded_skills
from competency_app.clock import utcnow
from competency_app.common import charts
from competency_app.common.downloads import send_download
from competency_app.database import unit_of_work
from competency_app.framework.services import element_by_key

blueprint = Blueprint("assessments", __name__)


def _me():
    return current_user._get_current_object()


@contextmanager
def _saving(assessment) -> Iterator[None]:
    """The request's one transaction (committed when the block ends). A refused move rolls
    back and answers its status; a concurrent change found at commit answers 409 like a
    stale form."""
    try:
        with unit_of_work():
            yield
    except services.RatingError:
        raise  # the form shows it, field by field
    except StaleDataError:
        abort(409, str(services.Conflict(assessment)))
    except services.WorkflowError as error:
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
    with _saving(None):
        assessment = services.start_assessment(_me())
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
        values=assessment.framework_version.values,
        reflections=services.reflections_by_value(assessment),
        reviews=services.value_reviews(assessment),
        can_review=assessment.status == Status.SUBMITTED and can_validate(_me(), assessment),
        looked_at=looked_at.when_looked_at(assessment)
        if assessment.status == Status.SUBMITTED and assessment.person_id == _me().id
        else None,
    )


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
    scale = assessment.framework_version.settings.scale
    form = forms.element_form(element)()
    errors: dict[str, str] = {}
    selfs = services.self_ratings_by_skill(assessment)
    typed = {}
    for skill in element.skills:
        rating = selfs.get(skill.id)
        typed[f"level-{skill.id}"] = str(rating.level) if rating else ""
        typed[f"evidence-{skill.id}"] = (rating.evidence or "") if rating else ""
    status = 200
    if request.method == "POST":
        typed = form.typed()
        if form.validate():
            ratings = {
                skill.id: (
                    int(typed[f"level-{skill.id}"]) if typed[f"level-{skill.id}"] else None,
                    typed[f"evidence-{skill.id}"],
                )
                for skill in element.skills
            }
            try:
                with _saving(assessment):
                    services.save_element(assessment, _me(), element, ratings, form.seen_version)
            except services.RatingError as error:
                errors = error.errors
            else:
                if typed["then"] == "overview":
                    target = url_for("assessments.overview", assessment_id=assessment.id)
                elif following is None:  # the last element: on to the values step
                    target = url_for("assessments.reflect_on_values", assessment_id=assessment.id)
                else:
                    target = url_for(
                        "assessments.rate_element",
                        assessment_id=assessment.id,
                        key=following.key,
                    )
                state = services.progress(assessment)
                flash(f"Saved. {state.rated} of {state.total} skills rated.", "success")
                return redirect(target, code=303)
        else:
            errors = form.error_dict()
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
            steps=len(elements) + 1,  # the core values are the last step
            previous=previous,
            following=following,
            state=services.progress(assessment),
            names=services.skill_names(element),
            reworded=reworded_in_assessment(assessment),
        ),
        status,
    )


@blueprint.get("/assessments/<int:assessment_id>/values")
@access(assessment_rule(can_view_assessment))
def reflect_on_values(assessment_id: int):
    """The core-values step: a form for the person while it is editable, else (and for
    their supervisor, manager, HR) the reflections to read, with the supervisor's review."""
    assessment = assessment_by_id(assessment_id)
    values = assessment.framework_version.values
    if assessment.status.editable and can_edit_assessment(_me(), assessment):
        form = forms.values_form(values)()
        typed = {f"value-{r.value_id}": r.text for r in assessment.reflections}
        return _values_page(assessment, form, typed, {})
    return render_template(
        "assessments/values_read.html",
        title=f"Core values: {assessment.person.name}'s reflections",
        assessment=assessment,
        values=values,
        reflections=services.reflections_by_value(assessment),
        reviews=services.value_reviews(assessment),
        can_review=assessment.status == Status.SUBMITTED and can_validate(_me(), assessment),
    )


@blueprint.post("/assessments/<int:assessment_id>/values")
@access(assessment_rule(can_edit_assessment))
def save_reflections(assessment_id: int):
    assessment = assessment_by_id(assessment_id)
    if not assessment.status.editable:
        return _not_editable(assessment)
    form = forms.values_form(assessment.framework_version.values)()
    typed = form.typed()
    if not form.validate():
        return _values_page(assessment, form, typed, form.error_dict())
    values = assessment.framework_version.values
    texts = {v.id: typed[f"value-{v.id}"] for v in values}
    try:
        with _saving(assessment):
            services.save_reflections(assessment, _me(), texts, form.seen_version)
    except services.RatingError as error:
        return _values_page(assessment, form, typed, error.errors)
    state = services.progress(assessment)
    missing = [v.title for v in values if not texts[v.id].strip()]
    message = (
        f"Your reflections on the core values are saved ({state.reflections} of {state.values})."
    )
    if missing:
        message += f" Still to write before you submit: {', '.join(missing)}."
    flash(message, "success")
    if typed.get("then") == "overview":
        target = url_for("assessments.overview", assessment_id=assessment.id)
    elif missing:  # back to the form, the empty ones in view
        target = url_for("assessments.reflect_on_values", assessment_id=assessment.id)
    else:
        target = url_for("assessments.summary", assessment_id=assessment.id)
    return redirect(target, code=303)


def _values_page(assessment, form, typed: dict, errors: dict):
    steps = len(services.elements_of(assessment.framework_version)) + 1
    return (
        render_template(
            "assessments/values.html",
            title="Core values",
            assessment=assessment,
            values=assessment.framework_version.values,
            typed=typed,
            errors=errors,
            form=form,
            step=steps,
            steps=steps,
            state=services.progress(assessment),
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
        values=assessment.framework_version.values,
        reflections=services.reflections_by_value(assessment),
        reviews=services.value_reviews(assessment),
    )
    return page, 409 if errors else 200


@blueprint.post("/assessments/<int:assessment_id>/submit")
@access(assessment_rule(can_edit_assessment))
def submit(assessment_id: int):
    assessment = assessment_by_id(assessment_id)
    form = forms.SubmitForm()
    if not form.validate():
        return _summary_page(assessment, form.error_dict())
    with _saving(assessment):
        services.submit(assessment, _me(), form.seen_version)
    when = looked_at.when_looked_at(assessment)
    flash(
        f"Submitted. {when or 'Your supervisor will look at it with you in supervision.'}",
        "success",
    )
    return redirect(url_for("assessments.overview", assessment_id=assessment.id), code=303)


@blueprint.get("/assessments/<int:assessment_id>/history")
@access(assessment_rule(can_view_assessment))
def assessment_history(assessment_id: int):
    assessment = assessment_by_id(assessment_id)
    version = assessment.framework_version
    # Adjusted levels are stored by skill key: show the skill's text, its element and the
    # supervisor's comment instead.
    skills = {
        skill.key: (element, skill)
        for element in services.elements_of(version)
        for skill in element.skills
    }
    comments = {
        rating.skill_key: rating.comment
        for rating in services.validated_by_skill(assessment).values()
    }
    events = services.history(assessment)
    return render_template(
        "assessments/history.html",
        title="History",
        assessment=assessment,
        events=events,
        expiries={
            event.id: date.fromisoformat(event.detail["expires"])
            for event in events
            if (event.detail or {}).get("expires")
        },
        skills=skills,
        comments=comments,
        labels=_labels(assessment),
    )


def _labels(assessment) -> dict[int, str]:
    return dict(assessment.framework_version.settings.scale.names)


# ---- supervisor ---------------------------------------------------------------------------


@blueprint.get("/supervision")
@access(has_role(Role.SUPERVISOR))
def queue():
    return render_template(
        "assessments/queue.html",
        title="Assessments awaiting validation",
        assessments=services.submitted_for(_me()),
        now=utcnow(),
    )


def _validating(assessment):
    """GET on an assessment that is not waiting for validation: back to its overview."""
    flash(f"This assessment is {assessment.status.label.lower()}.", "info")
    return redirect(url_for("assessments.overview", assessment_id=assessment.id))


def _may_validate_now(assessment) -> None:
    try:  # the pages are only for an assessment this person may validate now
        services.require_validator(assessment, _me())
    except services.WorkflowError as error:
        abort(error.status, str(error))


@blueprint.get("/supervision/<int:assessment_id>")
@access(assessment_rule(can_validate))
def validate(assessment_id: int):
    """The validation's overview: each element (a step with its own save), the values
    review, then the sign-off, or the return to the practitioner."""
    assessment = assessment_by_id(assessment_id)
    if assessment.status != Status.SUBMITTED:
        return _validating(assessment)
    return _validate_page(assessment, {}, "")


@blueprint.post("/supervision/<int:assessment_id>")
@access(assessment_rule(can_validate))
def sign_off(assessment_id: int):
    assessment = assessment_by_id(assessment_id)
    _may_validate_now(assessment)
    form = forms.SubmitForm()
    if not form.validate():
        return _validate_page(assessment, form.error_dict(), "")
    try:
        with _saving(assessment):
            services.sign_off(assessment, _me(), form.seen_version)
    except services.RatingError as error:
        return _validate_page(assessment, error.errors, "")
    flash(f"{assessment.person.name}'s assessment is validated.", "success")
    return redirect(url_for("assessments.queue"), code=303)


def _validate_page(assessment, errors: dict, return_comment: str):
    version = assessment.framework_version
    return (
        render_template(
            "assessments/validate.html",
            title=f"Validate {assessment.person.name}'s assessment",
            assessment=assessment,
            elements=services.elements_of(version),
            progress=services.validation_progress(assessment),
            values=version.values,
            reflections=services.reflections_by_value(assessment),
            reviews=services.value_reviews(assessment),
            errors=errors,
            form=FlaskForm(),
            return_comment=return_comment,
            reworded=reworded_skills(assessment),
        ),
        (409 if "row_version" in errors else 400) if errors else 200,
    )


@blueprint.route("/supervision/<int:assessment_id>/elements/<key>", methods=["GET", "POST"])
@access(assessment_rule(can_validate))
def validate_element(assessment_id: int, key: str):
    """One element's skills: agree with each self-rating or judge another level (with a
    comment); saved on its own, validated only at the sign-off."""
    assessment = assessment_by_id(assessment_id)
    element = element_by_key(assessment.framework_version, key)
    if element is None:
        abort(404)
    if assessment.status != Status.SUBMITTED and request.method == "GET":
        return _validating(assessment)
    elements, index, previous, following = _element_neighbours(assessment, key)
    form = forms.decisions_form([element])()
    errors: dict[str, str] = {}
    drafts = services.validation_drafts(assessment)
    typed: dict[str, str] = {}
    for skill in element.skills:
        draft = drafts.get(skill.id)
        level = draft.level if draft is not None else None
        typed[f"level-{skill.id}"] = "agree" if level is None else str(level)
        typed[f"comment-{skill.id}"] = (draft.comment or "") if draft is not None else ""
    status = 200
    if request.method == "POST":
        _may_validate_now(assessment)
        typed = form.typed()
        if form.validate():
            decisions = {
                skill.id: services.Decision(
                    None
                    if typed[f"level-{skill.id}"] in ("agree", "")
                    else int(typed[f"level-{skill.id}"]),
                    typed[f"comment-{skill.id}"],
                )
                for skill in element.skills
            }
            try:
                with _saving(assessment):
                    services.save_element_decisions(
                        assessment, _me(), element, decisions, form.seen_version
                    )
            except services.RatingError as error:
                errors = error.errors
            else:
                done = services.validation_progress(assessment)
                flash(
                    f"{element.display_name} saved. {done.elements_done} of {done.elements} "
                    "elements checked.",
                    "success",
                )
                if typed["then"] == "overview":
                    target = url_for("assessments.validate", assessment_id=assessment.id)
                elif following is None:
                    target = url_for("assessments.review_values", assessment_id=assessment.id)
                else:
                    target = url_for(
                        "assessments.validate_element",
                        assessment_id=assessment.id,
                        key=following.key,
                    )
                return redirect(target, code=303)
        else:
            errors = form.error_dict()
        status = 409 if "row_version" in errors else 400
    version = assessment.framework_version
    return (
        render_template(
            "assessments/validate_element.html",
            title=f"Validate {element.display_name}",
            assessment=assessment,
            element=element,
            scale=version.settings.scale,
            labels=_labels(assessment),
            selfs=services.self_ratings_by_skill(assessment),
            previous_ratings=services.current_ratings(assessment.person),
            reworded=reworded_in_assessment(assessment),
            names=services.skill_names(element),
            typed=typed,
            errors=errors,
            form=form,
            step=index + 1,
            steps=len(elements) + 2,  # then the values, then the sign-off
            previous=previous,
            following=following,
            progress=services.validation_progress(assessment),
            values=version.values,
            reflections=services.reflections_by_value(assessment),
        ),
        status,
    )


@blueprint.route("/supervision/<int:assessment_id>/values", methods=["GET", "POST"])
@access(assessment_rule(can_validate))
def review_values(assessment_id: int):
    """The reflections on the core values, each marked evidenced or discuss further."""
    assessment = assessment_by_id(assessment_id)
    if assessment.status != Status.SUBMITTED and request.method == "GET":
        return _validating(assessment)
    values = assessment.framework_version.values
    form = forms.value_review_form(values)()
    errors: dict[str, str] = {}
    reviews = services.value_reviews(assessment)
    typed: dict[str, str] = {}
    for value in values:
        review = reviews.get(value.id)
        typed[f"outcome-{value.id}"] = review.outcome.value if review else ""
        typed[f"note-{value.id}"] = (review.comment or "") if review else ""
    if request.method == "POST":
        _may_validate_now(assessment)
        typed = form.typed()
        if form.validate():
            posted = {v.id: (typed[f"outcome-{v.id}"], typed[f"note-{v.id}"]) for v in values}
            try:
                with _saving(assessment):
                    services.review_values(assessment, _me(), posted, form.seen_version)
            except services.RatingError as error:
                errors = error.errors
            else:
                flash("Your review of the core values is saved.", "success")
                return redirect(
                    url_for("assessments.validate", assessment_id=assessment.id), code=303
                )
        else:
            errors = form.error_dict()
    steps = len(services.elements_of(assessment.framework_version)) + 2
    return (
        render_template(
            "assessments/review_values.html",
            title=f"Review {assessment.person.name}'s core-value reflections",
            assessment=assessment,
            values=values,
            reflections=services.reflections_by_value(assessment),
            outcomes=list(ValueReviewOutcome),
            typed=typed,
            errors=errors,
            form=form,
            step=steps - 1,
            steps=steps,
        ),
        (409 if "row_version" in errors else 400) if errors else 200,
    )


@blueprint.post("/supervision/<int:assessment_id>/return")
@access(assessment_rule(can_validate))
def return_to_practitioner(assessment_id: int):
    assessment = assessment_by_id(assessment_id)
    form = forms.ReturnForm()
    comment = form.return_comment.data or ""
    if not form.validate():
        return _validate_page(assessment, form.error_dict(), comment)
    try:
        with _saving(assessment):
            services.return_assessment(assessment, _me(), comment, form.seen_version)
    except services.RatingError as error:
        return _validate_page(assessment, error.errors, comment)
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
        labels=dict(data.version.settings.scale.names),
        print_view=request.args.get("print") == "1",
        may_copy_data=person.id != current_user.id
        and can_request_personal_data(current_user, person),
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
        top = data.version.settings.scale.top
        return self_vs_validated(
            labels, selfs, validated, top, f"{person.name}: self against validated", chart_format
        )

    body = charts.cached_chart(chart_key(person), fmt, draw)
    name = f"profile-{person.id}.{fmt}" if request.args.get("download") else None
    return send_download(body, charts.MEDIA_TYPES[fmt], name)
