"""The read-only JSON API under /api/v1, for reporting tools.

Each view: `@access(rule)` (the same predicates as the pages), `@documented(...)` (its
OpenAPI record), a query model from `api/schemas.py` parsed by `query(...)` (a 422 names the
argument) and an answer built through its pydantic model by `respond(...)`. A caller is
either a signed-in session or a personal API token (`Authorization: Bearer …`, checked
before every view here: `_bearer_token`).

Adding an endpoint (for example required-training compliance, once its package exists):
1. add its query model (if any) and answer model to `api/schemas.py`;
2. write the view here with `@blueprint.get(...)`, `@access(...)` and `@documented(...)`,
   reading the figures through the feature's service and answering with `respond(...)`;
3. add its rows to `EXPECTED` in `tests/accounts/test_authorisation_matrix.py` (the token
   matrix there covers every `api.` route by itself) and, if its path has a new argument,
   a sample value in that test's `world`.
The OpenAPI document, the docs page and the schemathesis test pick it up with no more work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from annotated_types import Ge, Le
from flask import Blueprint, Flask, current_app, g, jsonify, request
from flask_login import current_user
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from sqlalchemy import and_, func, or_, select
from werkzeug.exceptions import HTTPException

from competency_app.accounts import scope
from competency_app.accounts.models import Role, RoleAssignment, Team, User
from competency_app.accounts.permissions import (
    SIGNED_IN,
    access,
    can_view_team,
    team_by_slug,
    team_rule,
)
from competency_app.accounts.services import counted_on
from competency_app.api import schemas
from competency_app.api.spec import build_spec, documented
from competency_app.api.tokens import check_bearer, refused_token_recorded
from competency_app.assessments.models import CurrentRating
from competency_app.clock import today, utcnow
from competency_app.coverage import services as coverage
from competency_app.coverage.forecast import at_day, forecast
from competency_app.coverage.vocabulary import gap_items, headline_counts
from competency_app.database import unit_of_work
from competency_app.extensions import db
from competency_app.framework.models import Element, FrameworkVersion, Skill
from competency_app.framework.services import current_version
from competency_app.recruitment.models import (
    AgreedScore,
    Candidate,
    InterviewSubmission,
    Vacancy,
)
from competency_app.recruitment.permissions import panel_vacancy_ids
from competency_app.training import required as training

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
Q = TypeVar("Q", bound=schemas.Query)

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorised",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    422: "invalid_argument",
}


class ApiProblem(Exception):
    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def problem(status: int, message: str, field: str | None = None, *, bearer: bool = False):
    body = schemas.ApiError(error=ERROR_CODES.get(status, "error"), message=message, field=field)
    response = jsonify(body.model_dump(exclude_none=True))
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = (
            'Bearer realm="competency", error="invalid_token"'
            if bearer
            else 'Bearer realm="competency"'
        )
    return response


@blueprint.errorhandler(ApiProblem)
def _api_problem(error: ApiProblem):
    return problem(error.status, error.message, error.field)


def _http_error(error: HTTPException):
    status = error.code or 500
    messages = {404: "There is no such team, or nothing at this address."}
    response = problem(status, messages.get(status, error.description or error.name))
    allowed = getattr(error, "valid_methods", None)
    if status == 405 and allowed:
        response.headers["Allow"] = ", ".join(sorted(allowed))
    return response


# by status code: the app's own handlers are by code too, and a code wins over a class
for _status in (400, 403, 404, 405):
    blueprint.register_error_handler(_status, _http_error)


@blueprint.before_request
def _bearer_token():
    """An `Authorization` header makes the request the token owner's (a session cookie
    sent with it is ignored): read-only, as every route here is a GET."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    with unit_of_work():  # keeps last_used_at, or the refusal's audit event
        check = check_bearer(header)
        if check.user is None:
            refused_token_recorded(check)
    if check.user is None:
        return problem(401, check.refusal, bearer=True)
    g._login_user = check.user  # Flask-Login's current user for this request only
    return None


def query(model: type[Q]) -> Q:
    """The request's query string through `model`; the first refusal is a 422 naming it,
    in plain words (`plain_message`)."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "query"
        raise ApiProblem(422, f"{name} {plain_message(model, name, first)}", name) from None


def _bounds(field: FieldInfo) -> tuple[int | None, int | None]:
    low = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
    high = next((m.le for m in field.metadata if isinstance(m, Le)), None)
    return cast(int | None, low), cast(int | None, high)


def plain_message(model: type[schemas.Query], name: str, error: Any) -> str:
    """What is wrong with argument `name`, in words a person acts on (never pydantic's own,
    "Input should be less than or equal to 200"): "must be a whole number from 1 to 200"."""
    kind = error["type"]
    field = model.model_fields.get(name)
    if kind == "extra_forbidden" or field is None:
        return "is not an argument of this endpoint"
    low, high = _bounds(field)
    if low is not None or high is not None:  # the whole numbers: any refusal, one sentence
        if high is None:
            return f"must be a whole number, {low} or more"
        return f"must be a whole number from {low if low is not None else 0} to {high}"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"must be one of {expected}, not {str(error.get('input'))[:40]!r}"
    if kind == "string_too_long":
        return f"must be at most {error['ctx']['max_length']} characters"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return "must be an id made of letters, digits, '.', '_' or '-' (for example 1a)"
    if kind == "value_error":  # the models' own validators already speak plainly
        return str(error["msg"]).removeprefix("Value error, ")
    return "is not a value this endpoint accepts"


def unknown_value(name: str, value: object, what: str) -> ApiProblem:
    """A well-formed filter value that names nothing: always a 422 naming the value."""
    return ApiProblem(422, f"{name} {str(value)[:60]!r} is not {what}", name)


def respond(model: type[BaseModel], data: dict):
    """`data` checked against the answer's model (what the document promises), as JSON; a
    page of a list also carries its links as a `Link` header (`_paged`)."""
    response = jsonify(model.model_validate(data).model_dump(mode="json", exclude_unset=True))
    links = data.get("links")
    if links:
        response.headers["Link"] = link_header(links)
    return response


def _version() -> FrameworkVersion:
    version = current_version(structure=True)
    if version is None:
        raise ApiProblem(404, "No framework has been loaded yet.")
    return version


def _paged(args: schemas.PageQuery, total: int) -> dict:
    """A list answer's `pagination` and `links`: the links are this request's address with
    only `page` changed (every other argument kept), `next`/`prev` null at the ends."""
    pages = max(1, -(-total // args.per_page))
    pagination = {"page": args.page, "per_page": args.per_page, "total": total, "pages": pages}
    previous = min(args.page - 1, pages) if args.page > 1 else None
    links = {
        "self": page_url(args.page),
        "first": page_url(1),
        "last": page_url(pages),
        "next": page_url(args.page + 1) if args.page < pages else None,
        "prev": page_url(previous) if previous is not None else None,
    }
    return {"pagination": pagination, "links": links}


def page_url(page: int) -> str:
    """This request's root-relative address on page `page` (its other arguments as sent)."""
    arguments = {name: value for name, value in request.args.items() if name != "page"}
    arguments["page"] = str(page)
    return f"{request.script_root}{request.path}?{urlencode(arguments)}"


LINK_RELATIONS = ("next", "prev", "first", "last")


def link_header(links: dict) -> str:
    """RFC 8288: `<url>; rel="next", <url>; rel="prev", …` for the links that exist."""
    return ", ".join(f'<{links[rel]}>; rel="{rel}"' for rel in LINK_RELATIONS if links.get(rel))


def _window(args: schemas.PageQuery) -> slice:
    start = (args.page - 1) * args.per_page
    return slice(start, start + args.per_page)


def _team_ref(team: Team) -> dict:
    return {"slug": team.slug, "name": team.name}


# ---- teams ------------------------------------------------------------------------------


def visible_teams(user: User):
    """The teams `user` may see team-level figures of (can_view_team), as a SELECT."""
    return select(Team).where(
        or_(scope.teams(user), Team.id.in_(user.team_ids(Role.MANAGER, Role.SUPERVISOR)))
    )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@blueprint.get("/teams")
@access(SIGNED_IN)
@documented(
    "Teams you may see",
    schemas.TeamList,
    query=schemas.TeamsQuery,
    description="Managers and supervisors see their teams; HR and administrators every "
    "team their organisation hosts.",
    errors=(401, 422),
)
def teams():
    args = query(schemas.TeamsQuery)
    statement = visible_teams(current_user)
    if args.name:
        statement = statement.where(Team.name.ilike(_like(args.name), escape="\\"))
    total = db.session.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
    page = list(
        db.session.scalars(
            statement.order_by(Team.name, Team.id)
            .limit(args.per_page)
            .offset((args.page - 1) * args.per_page)
        )
    )
    counts = dict(
        db.session.execute(
            select(RoleAssignment.team_id, func.count(func.distinct(User.id)))
            .join(User, User.id == RoleAssignment.user_id)
            .where(
                RoleAssignment.team_id.in_([t.id for t in page] or [-1]),
                RoleAssignment.role == Role.PRACTITIONER,
                User.active,
                counted_on(today()),
            )
            .group_by(RoleAssignment.team_id)
        ).all()
    )
    items = [{**_team_ref(t), "members": counts.get(t.id, 0)} for t in page]
    return respond(schemas.TeamList, {"items": items, **_paged(args, total)})


# ---- coverage ---------------------------------------------------------------------------


def _checked_without(team: Team, without: int | None) -> tuple[int, ...]:
    if without is None:
        return ()
    if without not in {m.id for m in coverage.team_practitioners(team)}:
        # a reference to data, as a team in a path: 404 naming it
        raise ApiProblem(
            404, f"without must be the id of a member of this team ({without} is not)", "without"
        )
    return (without,)


def _moment(day) -> datetime | None:
    return at_day(day) if day is not None else None


@blueprint.get("/teams/<slug>/coverage")
@access(team_rule(can_view_team))
@documented(
    "A team's coverage",
    schemas.CoverageOut,
    query=schemas.CoverageQuery,
    description="The team's coverage of every element and skill under the framework's rule, "
    "now, on a past day (`as_at`, from the rating history) or a later one (a forecast, with "
    "the changes day by day). `without` asks what would change if a member left.",
)
def coverage_api(slug: str):
    args = query(schemas.CoverageQuery)
    version = _version()
    team = team_by_slug(slug)
    without = _checked_without(team, args.without)
    cov = coverage.coverage_for_team(team, version, _moment(args.as_at), without=without)
    summary = coverage.coverage_summary(cov)
    summary["counts"] = headline_counts(cov)
    summary["as_at"] = cov.now
    is_forecast = (args.as_at is None or args.as_at >= today()) and (
        bool(without) or (args.as_at is not None and args.as_at > today())
    )
    if is_forecast:
        summary["changes"] = [
            {
                "date": change.when.date().isoformat(),
                "kind": change.kind,
                "id": change.key,
                "before": change.before,
                "status": change.after,
                "why": change.why,
            }
            for change in forecast(team, version, cov.now, without)
        ]
    return respond(schemas.CoverageOut, summary)


# ---- members ----------------------------------------------------------------------------


@blueprint.get("/teams/<slug>/members")
@access(team_rule(can_view_team))
@documented(
    "A team's members and their current validated levels",
    schemas.MemberList,
    query=schemas.MembersQuery,
    description="The team's keyworkers by name, each with the level validated in supervision "
    "for every skill they hold now (expired validations left out), in framework order.",
)
def members(slug: str):
    args = query(schemas.MembersQuery)
    version = _version()
    team = team_by_slug(slug)
    elements = filter_choices(version)["element"]
    if args.element is not None and args.element not in elements:
        raise unknown_value(
            "element", args.element, f"an element of the framework ({', '.join(elements)})"
        )
    people = coverage.team_practitioners(team, utcnow())
    page = people[_window(args)]
    now = utcnow()
    statement = (
        select(CurrentRating, Skill.key, Element.key)
        .join(Skill, and_(Skill.key == CurrentRating.skill_key, Skill.version_id == version.id))
        .join(Element, Element.id == Skill.element_id)
        .where(
            CurrentRating.person_id.in_([p.id for p in page] or [-1]),
            CurrentRating.expires_at > now,
        )
        .order_by(Element.id, Skill.id)
    )
    if args.element:
        statement = statement.where(Element.key == args.element)
    scale = version.settings.scale
    ratings: dict[int, list[dict]] = {p.id: [] for p in page}
    for rating, skill_key, element_key in db.session.execute(statement):
        ratings[rating.person_id].append(
            {
                "skill": skill_key,
                "element": element_key,
                "level": rating.level,
                "label": scale.labels.get(rating.level, str(rating.level)),
                "competent": rating.level >= scale.competent_level,
                "validated_at": rating.validated_at.date(),
                "expires_at": rating.expires_at.date(),
            }
        )
    items = [{"id": p.id, "name": p.name, "ratings": ratings[p.id]} for p in page]
    return respond(
        schemas.MemberList,
        {
            "team": _team_ref(team),
            "framework_version": version.number,
            "items": items,
            **_paged(args, len(people)),
        },
    )


# ---- gaps -------------------------------------------------------------------------------


@blueprint.get("/teams/<slug>/gaps")
@access(team_rule(can_view_team))
@documented(
    "A team's gaps and risks",
    schemas.GapList,
    query=schemas.GapsQuery,
    description="Elements, skills and the core values below the coverage rule (`gap`) or "
    "about to fall below it (`at_risk`), on a day (`as_at`) or now.",
)
def gaps(slug: str):
    args = query(schemas.GapsQuery)
    version = _version()
    team = team_by_slug(slug)
    cov = coverage.coverage_for_team(team, version, _moment(args.as_at))
    found = [item.as_json() for item in gap_items(cov)]
    chosen = [
        g
        for g in found
        if (args.kind is None or g["kind"] == args.kind)
        and (args.status is None or g["status"] == args.status)
    ]
    return respond(
        schemas.GapList,
        {
            "team": _team_ref(team),
            "as_at": cov.now,
            "items": chosen[_window(args)],
            **_paged(args, len(chosen)),
        },
    )


# ---- required training -----------------------------------------------------------------


def _training_counts(count) -> dict[str, int]:
    return {status: count(status) for status in training.STATUS_LABELS}


@blueprint.get("/teams/<slug>/training")
@access(team_rule(can_view_team))
@documented(
    "A team's required-training compliance",
    schemas.TrainingOut,
    query=schemas.TrainingQuery,
    description="Per required module: the share of the team's keyworkers in date, the counts "
    "by standing and each keyworker's standing (the figures of the team's required training "
    "page). `module` keeps one module; the totals then count that module alone.",
)
def training_compliance(slug: str):
    args = query(schemas.TrainingQuery)
    version = _version()
    team = team_by_slug(slug)
    now = utcnow()
    compliance = training.team_compliance(team, version, now)
    if args.module is not None:
        required = [m.module.key for m in compliance.modules]
        compliance.modules = [m for m in compliance.modules if m.module.key == args.module]
        if not compliance.modules:
            raise unknown_value(
                "module", args.module, f"a required module ({', '.join(required) or 'none'})"
            )
    modules = [
        {
            "id": mc.module.key,
            "title": mc.module.title,
            "refresh_months": mc.module.refresh_months,
            "people": mc.people,
            "compliant": mc.compliant,
            "percent": mc.percent,
            "counts": mc.counts,
            "standings": [
                {
                    "id": s.person.id,
                    "name": s.person.name,
                    "completed_on": s.completed_on,
                    "repeat_by": s.expires_on,
                    "status": s.status,
                    "compliant": s.compliant,
                }
                for s in mc.by_urgency()
            ],
        }
        for mc in compliance.modules
    ]
    return respond(
        schemas.TrainingOut,
        {
            "team": _team_ref(team),
            "framework_version": version.number,
            "as_at": now,
            "people": len(compliance.people),
            "required": compliance.required,
            "compliant": compliance.compliant,
            "percent": compliance.percent,
            "fully_compliant": compliance.fully_compliant,
            "counts": _training_counts(compliance.count),
            "modules": modules,
        },
    )


# ---- vacancies --------------------------------------------------------------------------


def visible_vacancies(user: User):
    """Vacancies `user` may see in figures: HR and administrators those of the teams their
    organisation hosts; everyone those of the teams they manage, supervise or recruit for,
    and those whose panel they sit on."""
    teams = user.team_ids(Role.MANAGER, Role.SUPERVISOR, Role.RECRUITER)
    on_panel = Vacancy.id.in_(panel_vacancy_ids(user))  # a lay member: until it closes
    return select(Vacancy).where(
        or_(
            scope.in_hosted_teams(Vacancy.team_id, user, Role.HR, Role.ADMIN),
            Vacancy.team_id.in_(teams or [-1]),
            on_panel,
        )
    )


def _counted(model, vacancy_ids: list[int]) -> dict[int, int]:
    column = model.candidate_id
    return dict(
        db.session.execute(
            select(Candidate.vacancy_id, func.count(func.distinct(column)))
            .join(Candidate, Candidate.id == column)
            .where(Candidate.vacancy_id.in_(vacancy_ids or [-1]))
            .group_by(Candidate.vacancy_id)
        ).all()
    )


@blueprint.get("/vacancies")
@access(SIGNED_IN)
@documented(
    "Vacancies in figures",
    schemas.VacancyList,
    query=schemas.VacanciesQuery,
    description="Each vacancy you may see, with its number of candidates, interviewed and "
    "agreed: no candidate's name, contact details, marks or scores.",
    errors=(401, 404, 422),
)
def vacancies():
    args = query(schemas.VacanciesQuery)
    statement = visible_vacancies(current_user).join(Team, Team.id == Vacancy.team_id)
    if args.team:
        named = select(Team.id).where(Team.slug == args.team, scope.known_teams(current_user))
        if db.session.scalar(named) is None:
            # a reference to data, as a team in a path: 404 (a value outside the document's
            # own lists is the 422); another organisation's team is answered as no team
            raise ApiProblem(404, f"team {args.team[:60]!r} is no team's slug", "team")
        statement = statement.where(Team.slug == args.team)
    # the vacancy's stage decides (as on the pages), never its closing date
    if args.status == "open":
        statement = statement.where(Vacancy.state != "closed")
    elif args.status == "closed":
        statement = statement.where(Vacancy.state == "closed")
    if args.state is not None:
        statement = statement.where(Vacancy.state == args.state)
    total = db.session.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
    page = list(
        db.session.scalars(
            statement.order_by(Vacancy.closing_date.desc(), Vacancy.id.desc())
            .limit(args.per_page)
            .offset((args.page - 1) * args.per_page)
        )
    )
    ids = [v.id for v in page]
    candidates = dict(
        db.session.execute(
            select(Candidate.vacancy_id, func.count(Candidate.id))
            .where(Candidate.vacancy_id.in_(ids or [-1]))
            .group_by(Candidate.vacancy_id)
        ).all()
    )
    interviewed = _counted(InterviewSubmission, ids)
    agreed = _counted(AgreedScore, ids)
    items = [
        {
            "id": v.id,
            "team": _team_ref(v.team),
            "title": v.title,
            "closing_date": v.closing_date,
            "state": v.state,
            "status": "closed" if v.state == "closed" else "open",
            "candidates": candidates.get(v.id, 0),
            "interviewed": interviewed.get(v.id, 0),
            "scores_agreed": agreed.get(v.id, 0),
        }
        for v in page
    ]
    return respond(schemas.VacancyList, {"items": items, **_paged(args, total)})


# ---- the document -----------------------------------------------------------------------


@blueprint.get("/openapi.json")
@access(SIGNED_IN)
def openapi():
    """The OpenAPI 3.1 document of this API (generated from the views: `api/spec.py`)."""
    return jsonify(cached_spec(current_app))


def filter_choices(version: FrameworkVersion | None) -> dict[str, list[str]]:
    """The values of the filters that name a framework item: its elements and its required
    modules (the document lists them, so that any other value is schema-invalid: a 422)."""
    if version is None:
        return {}
    return {
        "element": [e.key for c in version.competencies for e in c.elements],
        "module": [m.key for m in training.required_modules(version)],
    }


def cached_spec(app: Flask) -> dict:
    """Built once per app and framework version: the routes do not change after start-up,
    the filters' choices change with a new version."""
    version = current_version(structure=True)
    key = (version.id, version.content_hash) if version is not None else None
    cached = app.extensions.get("api_spec")
    if cached is None or cached[0] != key:
        cached = (key, build_spec(app, filter_choices(version)))
        app.extensions["api_spec"] = cached
    return cached[1]
