"""The installation administrator's pages: collaboratives, organisations and each new
organisation's first administrator (services in organisations.py)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from competency_app.accounts import organisations, password_links, scope, services
from competency_app.accounts.forms import (
    CollaborativeForm,
    FirstAdminForm,
    OrganisationEditForm,
    OrganisationForm,
)
from competency_app.accounts.models import Collaborative, Organisation
from competency_app.accounts.permissions import access
from competency_app.database import unit_of_work

blueprint = Blueprint("installation", __name__, url_prefix="/installation")

DOMAINS_HINT = (
    "The domains of its people's work email addresses, separated by spaces, in lower case, "
    "for example northtrust.nhs.uk. Sign-in sends people with these addresses to this "
    "organisation's sign-in service. A domain can belong to one organisation only: leave "
    "out shared ones such as nhs.net."
)


def is_installation_admin(user, **_kwargs) -> bool:
    return scope.is_installation_admin(user)


def _show_error(form, error: services.AccountError) -> None:
    field = getattr(form, error.field or "", None) or form.name
    field.errors = [*field.errors, str(error)]


def _collaborative(slug: str) -> Collaborative:
    collaborative = organisations.collaborative_by_slug(slug)
    if collaborative is None:
        abort(404)
    return collaborative


def _organisation(slug: str) -> Organisation:
    organisation = organisations.organisation_by_slug(slug)
    if organisation is None:
        abort(404)
    return organisation


def _status() -> int:
    return 400 if request.method == "POST" else 200


@blueprint.get("")
@access(is_installation_admin)
def index():
    return render_template(
        "installation/index.html", title="Installation", overview=organisations.overview()
    )


@blueprint.route("/collaboratives/new", methods=["GET", "POST"])
@access(is_installation_admin)
def new_collaborative():
    form = CollaborativeForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                collaborative = organisations.create_collaborative(
                    form.slug.data, form.name.data, current_user
                )
        except services.AccountError as error:
            _show_error(form, error)
        else:
            flash(f"Collaborative {collaborative.name} created.", "success")
            return redirect(url_for("installation.index"), code=303)
    return (
        render_template(
            "installation/collaborative_new.html", title="Create a collaborative", form=form
        ),
        _status(),
    )


@blueprint.route("/collaboratives/<collaborative>/organisations/new", methods=["GET", "POST"])
@access(is_installation_admin)
def new_organisation(collaborative: str):
    region = _collaborative(collaborative)
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                organisation = organisations.create_organisation(
                    region, form.slug.data, form.name.data, form.domains.data or "", current_user
                )
        except services.AccountError as error:
            _show_error(form, error)
        else:
            flash(
                f"Organisation {organisation.name} created in {region.name}. "
                "Add its first administrator next.",
                "success",
            )
            return redirect(
                url_for("installation.first_admin", organisation=organisation.slug), code=303
            )
    return (
        render_template(
            "installation/organisation_new.html",
            title="Add an organisation",
            form=form,
            collaborative=region,
            domains_hint=DOMAINS_HINT,
        ),
        _status(),
    )


@blueprint.route("/organisations/<organisation>", methods=["GET", "POST"])
@access(is_installation_admin)
def edit_organisation(organisation: str):
    employer = _organisation(organisation)
    form = OrganisationEditForm()
    if request.method == "GET":
        form.name.data = employer.name
        form.domains.data = employer.email_domains
    elif form.validate_on_submit():
        typed = form.domains.data or ""
        removed = organisations.removed_domains(employer, typed)
        try:
            if removed and form.confirmed.data != "yes":
                organisations.parse_domains(typed, employer)  # a typing error first
                return render_template(
                    "installation/organisation_confirm.html",
                    title=f"Stop using {removed[0]} for {employer.name}?"
                    if len(removed) == 1
                    else f"Stop using {len(removed)} email domains for {employer.name}?",
                    form=form,
                    organisation=employer,
                    removed=removed,
                )
            with unit_of_work():
                changed = organisations.update_organisation(
                    employer, form.name.data, typed, current_user
                )
        except services.AccountError as error:
            _show_error(form, error)
        else:
            flash(
                f"Changes to {employer.name} saved." if changed else "Nothing was changed.",
                "success" if changed else "info",
            )
            return redirect(url_for("installation.index"), code=303)
    return (
        render_template(
            "installation/organisation_edit.html",
            title=f"Change {employer.name}",
            form=form,
            organisation=employer,
            domains_hint=DOMAINS_HINT,
        ),
        _status(),
    )


@blueprint.route("/organisations/<organisation>/first-administrator", methods=["GET", "POST"])
@access(is_installation_admin)
def first_admin(organisation: str):
    employer = _organisation(organisation)
    form = FirstAdminForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                person, token = organisations.create_first_admin(
                    employer, form.email.data, form.name.data, current_user
                )
        except services.AccountError as error:
            _show_error(form, error)
        else:
            return render_template(
                "installation/first_admin_added.html",
                title="Administrator added",
                person=person,
                organisation=employer,
                link=password_links.link_url(token),
            )
    return (
        render_template(
            "installation/first_admin.html",
            title=f"Add an administrator to {employer.name}",
            form=form,
            organisation=employer,
        ),
        _status(),
    )
