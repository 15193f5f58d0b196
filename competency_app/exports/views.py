"""Workbook downloads and the HR exports page."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
)
from flask_login import current_user

from competency_app.accounts import scope
from competency_app.accounts.permissions import (
    access,
    can_export_team,
    is_hr_or_admin,
    team_by_slug,
    team_rule,
)
from competency_app.common.downloads import send_xlsx
from competency_app.database import unit_of_work
from competency_app.exports import jobs as workbook_jobs
from competency_app.exports import services
from competency_app.exports.forms import TeamWorkbookForm
from competency_app.jobs import services as jobs
from competency_app.jobs.views import start_and_follow
from competency_app.training.required import keyworker_teams

blueprint = Blueprint("exports", __name__)


def _download(export) -> Response:
    return send_xlsx(export.content, export.filename)


@blueprint.get("/exports")
@access(is_hr_or_admin)
def index():
    teams = keyworker_teams(scope.employer_id(current_user))
    threshold = int(current_app.config["TEAM_WORKBOOK_JOB_MEMBERS"])
    large = {team.id for team in teams if workbook_jobs.team_size(team) > threshold}
    return render_template(
        "exports/index.html",
        title="Workbooks for HR",
        teams=teams,
        large=large,
        recent=jobs.jobs_of(current_user, limit=5),
    )


def _start(kind: str, params: dict):
    """Ask for the job (or join the identical one already running) and show its page."""
    return start_and_follow(kind, params, unit="records")


@blueprint.post("/exports/organisation")
@access(is_hr_or_admin)
def organisation_workbook_job():
    return _start(
        workbook_jobs.ORGANISATION.name, {"organisation": scope.employer_id(current_user)}
    )


@blueprint.post("/teams/<slug>/export")
@access(team_rule(can_export_team))
def team_workbook_job(slug: str):
    team = team_by_slug(slug)
    params: dict = {"team": team.slug}
    if TeamWorkbookForm(request.form).history.data:
        params["history"] = True
    return _start(workbook_jobs.TEAM.name, params)


@blueprint.get("/teams/<slug>/export.xlsx")
@access(team_rule(can_export_team))
def team_workbook(slug: str):
    history = bool(TeamWorkbookForm(request.args).history.data)
    try:
        with unit_of_work():  # the audit event
            export = services.export_team(
                team_by_slug(slug), current_user._get_current_object(), history=history
            )
    except services.ExportError as error:
        abort(409, str(error))
    return _download(export)


@blueprint.get("/exports/organisation.xlsx")
@access(is_hr_or_admin)
def organisation_workbook():
    try:
        with unit_of_work():  # the audit event
            export = services.export_organisation(
                current_user._get_current_object(),
                organisation_id=scope.employer_id(current_user),
            )
    except services.ExportError as error:
        abort(409, str(error))
    return _download(export)
