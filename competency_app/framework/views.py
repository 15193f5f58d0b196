"""Browsing the framework: values, competencies, elements, e-learning, versions."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from competency_app.accounts.permissions import SIGNED_IN, access, is_hr_or_admin
from competency_app.framework import services
from competency_app.framework.forms import CompareForm
from competency_app.framework.local_courses import visible_courses
from competency_app.framework.models import FrameworkVersion
from competency_app.routing import parse_id

blueprint = Blueprint("framework", __name__, url_prefix="/framework")


def _version_from_request() -> FrameworkVersion:
    """The version named by ?version=N, else the current one; 404 when there is none."""
    raw = request.args.get("version")
    if raw is None:
        version = services.current_version()
    else:
        number = parse_id(raw)
        if number is None:
            abort(404)
        version = services.version_by_number(number)
    if version is None:
        abort(404)
    return version


@blueprint.get("")
@access(SIGNED_IN)
def overview():
    version = services.current_version()
    if version is None:
        return render_template("framework/empty.html")
    return render_template("framework/overview.html", version=version)


@blueprint.get("/values")
@access(SIGNED_IN)
def values():
    return render_template("framework/values.html", version=_version_from_request())


@blueprint.get("/elements/<key>")
@access(SIGNED_IN)
def element(key: str):
    version = _version_from_request()
    element = services.element_by_key(version, key)
    if element is None:
        abort(404)
    areas = element.areas or []
    skills_by_area = {
        area["id"]: [s for s in element.skills if s.area == area["id"]] for area in areas
    }
    return render_template(
        "framework/element.html",
        version=version,
        element=element,
        areas=areas,
        skills_by_area=skills_by_area,
        unassigned_skills=[s for s in element.skills if s.area is None],
        modules=services.modules_for_element(version, element),
        criteria=services.criteria_for_element(version, element),
    )


@blueprint.get("/elearning")
@access(SIGNED_IN)
def elearning():
    version = _version_from_request()
    elements = {e.key: e for c in version.competencies for e in c.elements}
    return render_template(
        "framework/elearning.html",
        version=version,
        elements=elements,
        local=visible_courses(current_user.organisation_id),
        can_add_local=is_hr_or_admin(current_user),
    )


@blueprint.get("/person-specification")
@access(SIGNED_IN)
def person_specification():
    version = _version_from_request()
    scoring = version.settings.interview
    elements = {e.key: e for c in version.competencies for e in c.elements}
    values = {v.key: v for v in version.values}
    return render_template(
        "framework/person_specification.html",
        version=version,
        scoring=scoring,
        elements=elements,
        values=values,
    )


@blueprint.get("/versions")
@access(SIGNED_IN)
def versions():
    versions = services.list_versions()
    return render_template("framework/versions.html", versions=versions)


@blueprint.get("/versions/compare")
@access(SIGNED_IN)
def compare():
    versions = services.list_versions()
    form = CompareForm(request.args)
    if not form.validate():
        return (
            render_template(
                "framework/versions.html",
                versions=versions,
                errors=form.error_dict(),
                args=request.args,
            ),
            400,
        )
    chosen = form.chosen
    changes = services.compare_versions(chosen["from"], chosen["to"])
    return render_template(
        "framework/compare.html",
        old=chosen["from"],
        new=chosen["to"],
        changes=changes,
        effects=services.change_effects(chosen["from"], chosen["to"], changes),
    )
