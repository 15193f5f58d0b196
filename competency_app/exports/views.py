"""Workbook downloads and the HR exports page."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from flask_login import current_user

from competency_app.accounts.permissions import (
    access,
    can_export_team,
    is_hr_or_admin,
    team_by_slug,
    team_rule,
)
from competency_app.common.downloads import send_xlsx
from competency_app.database import unit_of_work
from competency_app.exports import services
from competency_app.exports.workbooks import all_teams

blueprint = Blueprint("exports", __name__)


def _download(export) -> Response:
    return send_xlsx(export.content, export.filename)


@blueprint.get("/exports")
@access(is_hr_or_admin)
def index():
    return render_template("exports/index.html", title="Workbooks for HR", teams=all_teams())


@blueprint.get("/teams/<slug>/export.xlsx")
@access(team_rule(can_export_team))
def team_workbook(slug: str):
    try:
        with unit_of_work():  # the audit event
            export = services.export_team(team_by_slug(slug), current_user._get_current_object())
    except services.ExportError as error:
        abort(409, str(error))
    return _download(export)


@blueprint.get("/exports/organisation.xlsx")
@access(is_hr_or_admin)
def organisation_workbook():
    try:
        with unit_of_work():  # the audit event
            export = services.export_organisation(current_user._get_current_object())
    except services.ExportError as error:
        abort(409, str(error))
    return _download(export)
