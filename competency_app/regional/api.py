"""GET /api/v1/regional: the regional view's figures, for the regional lead's reporting
tools (a personal API token works, as on every endpoint of `api/views.py`)."""

from __future__ import annotations

from flask_login import current_user

from competency_app.accounts.permissions import access
from competency_app.api.spec import documented
from competency_app.api.views import ApiProblem, _version, blueprint, query, respond
from competency_app.clock import utcnow
from competency_app.regional import schemas, services
from competency_app.regional.services import is_regional_lead


def _training(figures: services.TrainingFigures) -> dict:
    return {
        "people": figures.people,
        "required": figures.required,
        "compliant": figures.compliant,
        "percent": figures.percent,
        "fully_compliant": figures.fully_compliant,
    }


def _team(row: services.TeamRow) -> dict:
    return {
        "slug": row.team.slug,
        "name": row.team.name,
        "members": row.members,
        "elements": row.elements,
        "elements_met": row.met,
        "elements_at_risk": row.at_risk,
        "element_gaps": row.gaps,
        "values_status": row.values,
        "skills_held_by_too_few": row.skill_gaps,
        "figures_from": "stored" if row.from_stored else "live",
        "training": _training(row.training),
        "vacancies": row.vacancies,
        "open_vacancies": row.open_vacancies,
    }


def regional_answer(regional: services.Regional, forecast: services.Forecast) -> dict:
    teams = regional.teams
    return {
        "collaborative": {
            "slug": regional.collaborative.slug,
            "name": regional.collaborative.name,
        },
        "framework_version": regional.version.number,
        "as_at": regional.now,
        "counts": {
            "organisations": len(regional.organisations),
            "teams": len(teams),
            "practitioners": regional.practitioners,
            "elements_met": regional.total("met"),
            "elements_at_risk": regional.total("at_risk"),
            "element_gaps": regional.total("gaps"),
            "skills_held_by_too_few": len(regional.too_few),
            "open_vacancies": sum(row.open_vacancies for row in teams),
        },
        "training": _training(regional.training),
        "vacancies": regional.vacancies_by_stage(),
        "skills_rule": services.rule_sentence(regional),
        "organisations": [
            {
                "slug": org.organisation.slug,
                "name": org.organisation.name,
                "practitioners": org.practitioners,
                "teams": [_team(row) for row in org.teams],
            }
            for org in regional.organisations
        ],
        "skills": [
            {
                "id": s.skill.key,
                "element": s.element.key,
                "text": s.skill.text,
                "min_holders": s.min_holders,
                "needed": s.needed,
                "holders": s.holders,
                "held_by_too_few": s.too_few,
                "teams": [
                    {"slug": h.team.slug, "name": h.team.name, "holders": h.holders}
                    for h in s.teams
                ],
            }
            for s in regional.skills
        ],
        "forecast": {
            "days": list(forecast.days),
            "element_gaps": forecast.totals("gaps"),
            "elements_at_risk": forecast.totals("at_risk"),
            "teams": [
                {
                    "slug": row.team.slug,
                    "name": row.team.name,
                    "element_gaps": row.gaps,
                    "elements_at_risk": row.at_risk,
                }
                for row in forecast.rows
            ],
        },
    }


@blueprint.get("/regional")
@access(is_regional_lead)
@documented(
    "Your collaborative's regional figures",
    schemas.RegionalOut,
    query=schemas.RegionalQuery,
    description="For a regional lead: per organisation and team, elements met, at risk and "
    "gaps, required-training compliance and vacancies not closed by stage; keyworkers "
    "counted once across the collaborative; every skill with its distinct holders across "
    "the collaborative against the number needed and the teams holding it (with their "
    "number of holders); and each team's element gaps and elements at risk today and in "
    "30, 60 and 90 days. Figures only: no person's name, rating or reflection.",
)
def regional():
    query(schemas.RegionalQuery)
    version = _version()
    collaborative = services.lead_collaborative(current_user)
    if collaborative is None:  # the access rule has said otherwise: kept for the types
        raise ApiProblem(403, "You are not a regional lead.")
    now = utcnow()
    regional = services.regional_figures(collaborative, version, now)
    forecast = services.regional_forecast(collaborative, version, now)
    return respond(schemas.RegionalOut, regional_answer(regional, forecast))
