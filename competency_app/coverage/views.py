"""Coverage pages, the team training plan, development plans and charts (the JSON API is
`api/views.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

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
from markupsafe import Markup
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
from competency_app.assessments.models import CurrentRating
from competency_app.clock import today, utcnow
from competency_app.common import charts
from competency_app.common.dates import london_day
from competency_app.common.downloads import send_download
from competency_app.coverage import actions, fragments, services
from competency_app.coverage.charts import coverage_by_element, coverage_over_time
from competency_app.coverage.development import (
    CompletionError,
    development_plan,
    record_completion,
)
from competency_app.coverage.figures import chart_key
from competency_app.coverage.forecast import at_day, forecast
from competency_app.coverage.forms import CompletionForm, WhatIfForm
from competency_app.database import unit_of_work
from competency_app.extensions import db
from competency_app.framework.local_courses import catalogue_for
from competency_app.framework.models import Skill
from competency_app.framework.services import current_version, element_by_key
from competency_app.training.permissions import can_assign_training
from competency_app.training.services import Progress, team_assignments
from competency_app.training.team_line import TrainingLine, team_training_line

blueprint = Blueprint("coverage", __name__)


def _coverage(slug: str):
    version = current_version(structure=True)
    if version is None:
        abort(404)
    return services.coverage_for_team(team_by_slug(slug), version)


FORECAST_DAYS = (30, 60, 90)


@dataclass
class AsAt:
    """The coverage page's and API's `as_at` and `without` arguments, checked."""

    day: date | None = None
    without: tuple[int, ...] = ()
    errors: dict[str, str] = field(default_factory=dict)
    typed: dict[str, str] = field(default_factory=dict)

    @property
    def moment(self):
        return at_day(self.day) if self.day else None

    @property
    def is_forecast(self) -> bool:
        """Today or later, with someone left out or a later day: what would change."""
        if self.day is not None and self.day < today():
            return False  # the past is read from the history, not forecast
        return bool(self.without) or (self.day is not None and self.day > today())


def _as_at(team) -> AsAt:
    form = WhatIfForm(request.args, lambda: {m.id for m in services.team_practitioners(team)})
    form.validate()
    return AsAt(form.day, form.left_out, form.error_dict(), form.typed())


@blueprint.get("/teams/<slug>/coverage")
@access(team_rule(can_view_team))
def team_coverage(slug: str):
    version = current_version(structure=True)
    if version is None:
        abort(404)
    team = team_by_slug(slug)
    can_export = can_export_team(current_user, team)
    permission_class = (can_export, can_assign_training(current_user, team))
    if not request.args:
        # Today's page, kept per process for each permission class (coverage/fragments.py).
        def shell(cov: services.TeamCoverage, matrix: Markup) -> str:
            line = team_training_line(team, cov.members, version, london_day(cov.now))
            return _page(cov, _as_at(team), matrix, line, can_export)

        return fragments.today_page(team, version, permission_class, shell)
    args = _as_at(team)
    cov = services.coverage_for_team(team, version, args.moment, without=args.without)
    if args.day is None and not args.without:  # today, with an argument it refused
        matrix = fragments.matrix_and_gaps(cov, permission_class)
        training = team_training_line(team, cov.members, version, london_day(cov.now))
    else:
        matrix, training = fragments.render(cov), None
    return _page(cov, args, matrix, training, can_export), 400 if args.errors else 200


def _page(cov, args: AsAt, matrix: Markup, training: TrainingLine | None, can_export) -> str:
    """The coverage page: today's (with the `training` line), as at a day, or without
    someone."""
    now = utcnow()
    changes = []
    if args.is_forecast and not args.errors:
        changes = forecast(cov.team, cov.version, cov.now, args.without)
    return render_template(
        "coverage/team.html",
        title=f"{cov.team.name}: coverage",
        cov=cov,
        matrix_and_gaps=matrix,
        can_export=can_export,
        args=args,
        changes=changes,
        forecast_links=[(n, (now + timedelta(days=n)).date()) for n in FORECAST_DAYS],
        member_options=fragments.member_options(cov.members + cov.without, args.typed["without"]),
        is_today=training is not None,
        training=training,
        forecast_now=now,
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
        skill_cov={s.skill.id: s for s in cov.skills},  # by skill row id
        status_labels=services.STATUS_LABELS,
        labels=cov.version.settings.scale.labels,
    )


@blueprint.get("/teams/<slug>/training-plan")
@access(team_rule(can_view_team))
def training_plan(slug: str):
    cov = _coverage(slug)
    assignments = team_assignments(cov.members)
    by_module: dict[str, list] = {}
    for item in assignments:
        by_module.setdefault(item.assignment.module_key, []).append(item)
    return render_template(
        "coverage/training_plan.html",
        title=f"{cov.team.name}: training plan",
        cov=cov,
        steps=actions.training_plan(cov),
        assignments=assignments,
        progress=Progress.of(assignments),
        step_progress={key: Progress.of(items) for key, items in by_module.items()},
        modules={m.key: m for m in cov.version.modules},
        can_assign=can_assign_training(current_user, cov.team),
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
    key = chart_key(kind, cov.team, cov.version, [m.id for m in cov.members], cov.now)
    body = charts.cached_chart(key, fmt, lambda chart_format: drawer(cov, chart_format))
    name = f"{cov.team.slug}-coverage-{kind}.{fmt}" if request.args.get("download") else None
    return send_download(body, charts.MEDIA_TYPES[fmt], name)


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
    form = CompletionForm()
    errors: dict[str, str] = {}
    own = person.id == current_user.id
    catalogue = catalogue_for(person, version)  # their organisation's local courses too
    if request.method == "POST":
        if not own:
            abort(403)
        if form.validate():
            try:
                with unit_of_work():
                    record_completion(
                        person,
                        form.module.data,
                        form.completed,
                        form.certificate_ref.data,
                        person,
                        version,
                        catalogue,
                    )
            except CompletionError as error:
                errors = {error.field: str(error)}
            else:
                flash(
                    "Completion recorded. Ask your supervisor to reassess the skills it "
                    "covers at your next supervision: a course alone does not count as "
                    "competence.",
                    "success",
                )
                return redirect(url_for("coverage.development", user_id=person.id), code=303)
        else:
            errors = form.error_dict()
    typed = form.typed()
    plan = development_plan(person, version, utcnow(), catalogue)
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
                for m in catalogue
            ],
        ),
        400 if errors else 200,
    )
