"""The regional pages: the collaborative's figures, a skill's holders by team, the forecast,
and the regional workbook (a job)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from competency_app.accounts.permissions import access
from competency_app.clock import utcnow
from competency_app.framework.services import current_version
from competency_app.jobs import services as jobs
from competency_app.jobs.views import start_and_follow
from competency_app.regional import services
from competency_app.regional.jobs import REGIONAL
from competency_app.regional.services import is_regional_lead

blueprint = Blueprint("regional", __name__)


def _context():
    collaborative = services.lead_collaborative(current_user)
    version = current_version(structure=True)
    if collaborative is None:
        abort(403)
    return collaborative, version


@blueprint.get("/regional")
@access(is_regional_lead)
def index():
    collaborative, version = _context()
    regional = (
        services.regional_figures(collaborative, version, utcnow()) if version is not None else None
    )
    return render_template(
        "regional/index.html",
        title=f"{collaborative.name}: regional view",
        collaborative=collaborative,
        regional=regional,
        rule=services.rule_sentence(regional) if regional else "",
        stage_label=services.stage_label,
        recent=[j for j in jobs.jobs_of(current_user, limit=5) if j.kind == REGIONAL.name],
    )


@blueprint.get("/regional/skills/<skill_key>")
@access(is_regional_lead)
def skill(skill_key: str):
    collaborative, version = _context()
    if version is None:
        abort(404)
    regional = services.regional_figures(collaborative, version, utcnow())
    spread = regional.skill(skill_key)
    if spread is None:
        abort(404)
    return render_template(
        "regional/skill.html",
        title=f"Who holds a skill across {collaborative.name}",
        collaborative=collaborative,
        regional=regional,
        spread=spread,
        rule=services.rule_sentence(regional),
    )


@blueprint.get("/regional/forecast")
@access(is_regional_lead)
def forecast():
    collaborative, version = _context()
    if version is None:
        abort(404)
    return render_template(
        "regional/forecast.html",
        title=f"{collaborative.name}: forecast",
        collaborative=collaborative,
        forecast=services.regional_forecast(collaborative, version, utcnow()),
    )


@blueprint.post("/regional/workbook")
@access(is_regional_lead)
def workbook_job():
    collaborative, _version = _context()
    return start_and_follow(REGIONAL.name, {"collaborative": collaborative.id}, unit="teams")
