"""Coverage pages, the team training plan, development plans, charts and the JSON API."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import and_, select

from competency_app.accounts.permissions import (
    SIGNED_IN,
    access,
    can_export_team,
    can_view_person,
    can_view_team,
    person_by_id,
    person_rule,
    team_by_slug,
    team_rule,
)
from competency_app.assessments import charts
from competency_app.assessments.models import CurrentRating
from competency_app.clock import today, utcnow
from competency_app.coverage import services
from competency_app.coverage.charts import coverage_by_element, coverage_over_time
from competency_app.coverage.development import development_plan, record_completion
from competency_app.extensions import db
from competency_app.framework.models import Skill
from competency_app.framework.services import current_version, element_by_key
from competency_app.ui.forms import require_form

blueprint = Blueprint("coverage", __name__)


def _coverage(slug: str):
    version = current_version(structure=True)
    if version is None:
        abort(404)
    return services.coverage_for_team(team_by_slug(slug), version)


@blueprint.get("/teams/<slug>/coverage")
@access(team_rule(can_view_team))
def team_coverage(slug: str):
    cov = _coverage(slug)
    return render_template(
        "coverage/team.html",
        title=f"{cov.team.name}: coverage",
        cov=cov,
        rows=services.matrix_rows(cov),
        actions=services.gap_actions(cov),
        can_export=can_export_team(current_user, cov.team),
    )


@blueprint.get("/teams/<slug>/coverage/<key>")
@access(team_rule(can_view_team))
def element_detail(slug: str, key: str):
    cov = _coverage(slug)
    element = element_by_key(cov.version, key)
    if element is None:
        abort(404)
    ids = [m.id for m in cov.members]
    rows = db.session.execute(
        select(CurrentRating.person_id, Skill.id, CurrentRating.level, CurrentRating.expires_at)
        .join(Skill, and_(Skill.key == CurrentRating.skill_key, Skill.version_id == cov.version.id))
        .where(Skill.element_id == element.id, CurrentRating.person_id.in_(ids or [-1]))
    ).all()
    levels = {(person, skill): (level, expires) for person, skill, level, expires in rows}
    element_cov = next(e for e in cov.elements if e.element.id == element.id)
    return render_template(
        "coverage/element.html",
        title=f"{element.title}: coverage",
        cov=cov,
        element=element,
        element_cov=element_cov,
        levels=levels,
        skill_holders={s.skill.id: s.holders for s in cov.skills},  # by skill row id
        labels={lvl["value"]: lvl["label"] for lvl in cov.version.rating_scale["levels"]},
    )


@blueprint.get("/teams/<slug>/training-plan")
@access(team_rule(can_view_team))
def training_plan(slug: str):
    cov = _coverage(slug)
    return render_template(
        "coverage/training_plan.html",
        title=f"{cov.team.name}: training plan",
        cov=cov,
        steps=services.training_plan(cov),
    )


@blueprint.get("/teams/<slug>/coverage-chart.<fmt>")
@access(team_rule(can_view_team))
def coverage_chart(slug: str, fmt: str):
    if fmt not in charts.MEDIA_TYPES:
        abort(404)
    kind = request.args.get("kind", "elements")
    if kind not in ("elements", "history"):
        abort(404)
    cov = _coverage(slug)
    drawer = coverage_by_element if kind == "elements" else coverage_over_time
    key = (kind, cov.team.id, *coverage_data_version(cov))
    body = charts.cached_chart(key, fmt, lambda chart_format: drawer(cov, chart_format))
    response = Response(body, mimetype=charts.MEDIA_TYPES[fmt])
    if request.args.get("download"):
        name = f"{cov.team.slug}-coverage-{kind}.{fmt}"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def coverage_data_version(cov: services.TeamCoverage) -> tuple:
    """Changes when a member's validated ratings change, the members change, or the day
    changes (expiries)."""
    ids = tuple(m.id for m in cov.members)
    return (cov.version.id, cov.team.coverage_epoch, ids, cov.now.date().isoformat())


@blueprint.get("/api/v1/teams/<slug>/coverage")
@access(team_rule(can_view_team))
def coverage_api(slug: str):
    return jsonify(services.coverage_summary(_coverage(slug)))


# ---- personal development plans --------------------------------------------------------


@blueprint.get("/training")
@access(SIGNED_IN)
def my_plan():
    return redirect(url_for("coverage.development", user_id=current_user.id))


@blueprint.route("/people/<int:user_id>/development", methods=["GET", "POST"])
@access(person_rule(can_view_person))
def development(user_id: int):
    person = person_by_id(user_id)
    version = current_version()
    if version is None:
        abort(404)
    form = FlaskForm()
    errors: dict[str, str] = {}
    typed = {"module": "", "completed_on": "", "certificate_ref": ""}
    own = person.id == current_user.id
    if request.method == "POST":
        if not own:
            abort(403)
        require_form()
        typed = {name: request.form.get(name, "").strip() for name in typed}
        modules = {m.key: m for m in version.modules}
        if typed["module"] not in modules:
            errors["module"] = "Choose the module you completed"
        try:
            completed = date.fromisoformat(typed["completed_on"])
        except ValueError:
            errors["completed_on"] = (
                "Enter the date you completed it as YYYY-MM-DD, for example 2026-11-02"
            )
        else:
            if completed > today():
                errors["completed_on"] = "The completion date cannot be in the future"
        if len(typed["certificate_ref"]) > 120:
            errors["certificate_ref"] = "The certificate reference must be 120 characters or fewer"
        if not errors:
            record_completion(person, typed["module"], completed, typed["certificate_ref"], person)
            db.session.commit()
            flash(
                "Completion recorded. Ask your supervisor to reassess the skills it covers at "
                "your next supervision: a course alone does not count as competence.",
                "success",
            )
            return redirect(url_for("coverage.development", user_id=person.id), code=303)
    plan = development_plan(person, version, utcnow())
    return (
        render_template(
            "coverage/development.html",
            title=f"{person.name}: development plan",
            person=person,
            plan=plan,
            own=own,
            errors=errors,
            typed=typed,
            form=form,
            module_items=[{"value": "", "text": "Choose a module"}]
            + [
                {"value": m.key, "text": m.title, "selected": m.key == typed["module"]}
                for m in version.modules
            ],
        ),
        400 if errors else 200,
    )
