"""The OpenAPI 3.1 document, generated from the code by apispec.

Each API view carries its `@documented(...)` record: a summary, the pydantic model of its
query string and of its answer. `build_spec(app)` walks the app's routes, turns every
documented view into a path (its URL rule), its query model into parameters and the answer
models into components (pydantic's JSON Schema, which OpenAPI 3.1 takes as it is). A new
endpoint is documented by its decorator alone: nothing here names a route.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apispec import APISpec
from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from competency_app.api.schemas import DAY_PATTERN, ApiError, Query

API_PREFIX = "/api/v1"
TITLE = "Keyworking competency tracker API"
API_VERSION = "1.1.0"  # v1, with fields added (and two deprecated) on 7 December 2026
DESCRIPTION = (
    "Read-only figures for reporting tools (Excel, Power BI): teams, coverage, members' "
    "current validated levels, gaps, required-training compliance and vacancies in figures. "
    "Send a personal API token, created on the API tokens page, as "
    "`Authorization: Bearer <token>`; it sees exactly what its owner may see in the app. "
    "This document (`/api/v1/openapi.json`) needs the same token, or a signed-in session: "
    "it is not published (ASVS 5.0 V13.4.5). "
    "Lists are paginated (`page`, `per_page`): each page carries `links` (`self`, `first`, "
    "`last`, `next`, `prev`: root-relative addresses keeping the other arguments, `next` and "
    "`prev` null at the ends) and the same as a `Link` header (RFC 8288). Days are "
    "`YYYY-MM-DD`; moments (`as_at`) are ISO 8601 to the second with their UTC offset, "
    "never with a fraction of a second. Every "
    "refusal is JSON: `{error, message, field?}` with 400, 401, 403, 404 (a team or member "
    "named that does not exist, in the path or by the free-valued filters `team` and "
    "`without`: they stay 404, as a value naming nothing is still a valid request), "
    "405 (with `Allow`) or 422 (an "
    "argument, or a value outside the lists here, named in `field`), and 503 (with "
    "`Retry-After`) while the database cannot be reached. Within v1 fields are only added: a "
    "field to be replaced is kept, marked `deprecated` here, until v2."
)
ERROR_TEXT = {
    400: "The request cannot be read (a NUL character in an argument, for instance).",
    401: "No token, or one that is unknown, revoked or expired.",
    403: "The token's owner may not see this.",
    404: "No such team (or other object named in the path, or by `team` or `without`: "
    "`field` names the filter).",
    422: "A query argument, or its value, is not valid (an unknown filter value included); "
    "`field` names it.",
    503: "The database cannot be reached just now: try again after `Retry-After` seconds.",
}


LINK_HEADER = {
    "description": "The `links` of the answer as RFC 8288 says: "
    '`</api/v1/teams?page=2&per_page=50>; rel="next"`, then `prev` (when they exist), '
    "`first` and `last`.",
    "required": True,
    "schema": {"type": "string"},
}


@dataclass(frozen=True)
class Operation:
    summary: str
    response: type[BaseModel]
    query: type[Query] | None = None
    description: str = ""
    tags: tuple[str, ...] = ()
    errors: tuple[int, ...] = (401, 403, 422)
    extra: dict[str, Any] = field(default_factory=dict)


def documented(
    summary: str,
    response: type[BaseModel],
    *,
    query: type[Query] | None = None,
    description: str = "",
    tag: str = "Reporting",
    errors: tuple[int, ...] = (401, 403, 422),
) -> Callable:
    """Attach the view's OpenAPI record (kept through `@access`, which copies `__dict__`)."""

    def decorate(view: Callable) -> Callable:
        view.openapi = Operation(  # type: ignore[attr-defined]
            summary, response, query, description or (view.__doc__ or "").strip(), (tag,), errors
        )
        return view

    return decorate


def _openapi_path(rule: str) -> tuple[str, list[str]]:
    """'/api/v1/teams/<slug>/coverage' -> ('/api/v1/teams/{slug}/coverage', ['slug'])."""
    names: list[str] = []

    def replace(match: re.Match) -> str:
        names.append(match.group(2))
        return "{" + match.group(2) + "}"

    return re.sub(r"<(?:[a-z_]+:)?([a-z_]+:)?([a-z_]+)>", replace, rule), names


def _parameter_schema(prop: dict) -> dict:
    """A query argument's schema: the non-null branch of an optional field, with pydantic's
    constraint names (kept as `ge`/`le` behind a validator) written as JSON Schema's."""
    options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
    schema = {k: v for k, v in options[0].items() if k not in ("title", "description")}
    if schema.get("format") == "date":  # the days the API accepts, exactly
        schema.pop("format")
        schema["pattern"] = DAY_PATTERN
    for pydantic_name, json_name in (("ge", "minimum"), ("le", "maximum")):
        if pydantic_name in schema:
            schema[json_name] = schema.pop(pydantic_name)
    if "default" in prop and prop["default"] is not None:
        schema["default"] = prop["default"]
    return schema


def _parameters(
    query: type[Query] | None, path_names: list[str], choices: dict[str, list[str]]
) -> list[dict]:
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": 60},
            "description": "The team's slug, as in its page address." if name == "slug" else "",
        }
        for name in path_names
    ]
    if query is not None:
        schema = query.model_json_schema()
        for name, prop in schema["properties"].items():
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in schema.get("required", []),
                    "description": prop.get("description", ""),
                    "schema": _parameter_schema(prop) | _choices(name, choices),
                }
            )
    return parameters


def _choices(name: str, choices: dict[str, list[str]]) -> dict:
    """The values a filter naming a framework item may take (its elements, its required
    modules), listed whole: any other value is refused with a 422, as the document says."""
    if name not in choices:
        return {}
    return {"enum": choices[name]} if choices[name] else {"enum": [None]}


def documented_views(app: Flask) -> list[tuple[str, str, Operation]]:
    """(OpenAPI path, endpoint, record) of every documented route, in path order."""
    found = []
    for rule in app.url_map.iter_rules():
        operation = getattr(app.view_functions[rule.endpoint], "openapi", None)
        if operation is not None:
            found.append((rule.rule, rule.endpoint, operation))
    return sorted(found)


def build_spec(app: Flask, choices: dict[str, list[str]] | None = None) -> dict:
    """The OpenAPI 3.1 document of every documented route of `app`; `choices` lists the
    values of the filters that name a framework item (from the current version)."""
    choices = choices or {}
    spec = APISpec(
        title=TITLE,
        version=API_VERSION,
        openapi_version="3.1.0",
        info={"description": DESCRIPTION},
        servers=[{"url": "/"}],
    )
    views = documented_views(app)
    models: list[type[BaseModel]] = [ApiError] + sorted(
        {operation.response for _rule, _endpoint, operation in views}, key=lambda m: m.__name__
    )
    _, definitions = models_json_schema(
        [(model, "serialization") for model in models],
        ref_template="#/components/schemas/{model}",
    )
    for name, schema in sorted(definitions.get("$defs", {}).items()):
        spec.components.schema(name, schema)
    spec.components.security_scheme(
        "token",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token from the API tokens page.",
        },
    )
    for rule, endpoint, operation in views:
        path, names = _openapi_path(rule)
        responses: dict[str | int, Any] = {
            "200": {
                "description": "The answer.",
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{operation.response.__name__}"}
                    }
                },
            }
        }
        if "links" in operation.response.model_fields:  # a page of a list
            responses["200"]["headers"] = {"Link": LINK_HEADER}
        # 400: the app refuses any request carrying a NUL character before routing it; 503:
        # any request may meet a database outage
        errors = set(operation.errors) | {400, 503} | ({404} if names else set())
        for status in sorted(errors):
            responses[str(status)] = {
                "description": ERROR_TEXT[status],
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}
                },
            }
        spec.path(
            path=path,
            operations={
                "get": {
                    "operationId": endpoint.replace(".", "_"),
                    "summary": operation.summary,
                    "description": operation.description,
                    "tags": list(operation.tags),
                    "parameters": _parameters(operation.query, names, choices),
                    "security": [{"token": []}],
                    "responses": responses,
                }
            },
        )
    return spec.to_dict()
