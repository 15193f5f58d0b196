"""Administration pages: teams, people, roles, supervisors, password resets, audit log."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from wtforms.fields.choices import SelectChoice

from competency_app.accounts import scope, services, sso
from competency_app.accounts.audit import AuditAction
from competency_app.accounts.forms import (
    AuditFilterForm,
    ConfirmForm,
    PersonForm,
    RolesForm,
    TeamForm,
)
from competency_app.accounts.models import (
    AuditEvent,
    Organisation,
    Role,
    RoleAssignment,
    Team,
    User,
)
from competency_app.accounts.permissions import access, is_admin
from competency_app.clock import today
from competency_app.common.dates import LONDON
from competency_app.common.pagination import paginate
from competency_app.database import unit_of_work
from competency_app.extensions import db
from competency_app.routing import parse_id

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


def _teams() -> list[Team]:
    """The teams the administrator's organisation hosts."""
    return list(
        db.session.scalars(select(Team).where(scope.teams(current_user)).order_by(Team.name))
    )


def _assignable_teams() -> list[Team]:
    """Their own organisation's teams, then the collaborative's others (a secondment)."""
    teams = db.session.scalars(
        select(Team).where(scope.assignable_teams(current_user)).order_by(Team.name)
    )
    own = current_user.organisation_id
    return sorted(teams, key=lambda t: (t.organisation_id != own, t.name))


def _supervisors() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.active, scope.assignable_supervisors(current_user))
            .order_by(User.name)
        )
    )


def _team_label(team: Team) -> str:
    if team.organisation_id == current_user.organisation_id:
        return team.name
    return f"{team.name} (hosted by {db.session.get_one(Organisation, team.organisation_id).name})"


def _fill_choices(form) -> None:
    form.team.choices = [SelectChoice("", "No team (organisation-wide roles only)")] + [
        SelectChoice(str(t.id), _team_label(t)) for t in _assignable_teams()
    ]
    form.supervisor.choices = [SelectChoice("", "No supervisor")] + [
        SelectChoice(str(u.id), f"{u.name} ({u.email})") for u in _supervisors()
    ]


def _grants(form) -> list[services.RoleGrant]:
    team_id = parse_id(form.team.data)
    team = db.session.get(Team, team_id) if team_id is not None else None
    return [
        services.RoleGrant(role, team if role.team_scoped else None)
        for role in (Role(value) for value in form.roles.data)
    ]


def _supervisor(form) -> User | None:
    supervisor_id = parse_id(form.supervisor.data)
    return db.session.get(User, supervisor_id) if supervisor_id is not None else None


def _show_error(form, error: services.AccountError) -> None:
    field = getattr(form, error.field or "", None) or form.roles
    field.errors = [*field.errors, str(error)]


@blueprint.get("")
@access(is_admin)
def index():
    return render_template(
        "admin/index.html",
        title="Administration",
        teams=len(_teams()),
        people=scope.count_people(current_user),
    )


@blueprint.route("/teams", methods=["GET", "POST"])
@access(is_admin)
def teams():
    form = TeamForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                team = services.create_team(form.slug.data, form.name.data, current_user)
        except services.AccountError as error:
            _show_error(form, error)
        else:
            flash(f"Team {team.name} created.", "success")
            return redirect(url_for("admin.teams"), code=303)
    status = 400 if request.method == "POST" else 200
    counts = dict(
        db.session.execute(
            select(RoleAssignment.team_id, func.count(func.distinct(RoleAssignment.user_id)))
            .where(RoleAssignment.team_id.in_(select(Team.id).where(scope.teams(current_user))))
            .group_by(RoleAssignment.team_id)
        ).all()
    )
    return (
        render_template(
            "admin/teams.html", title="Teams", form=form, teams=_teams(), counts=counts
        ),
        status,
    )


@blueprint.get("/people")
@access(is_admin)
def people():
    query = request.args.get("q", "").strip()[:100]
    statement = select(User).where(scope.people(current_user)).order_by(User.name)
    if query:
        like = f"%{query.lower()}%"
        statement = statement.where(or_(func.lower(User.name).like(like), User.email.like(like)))
    page = paginate(statement, per_page=25)
    return render_template("admin/people.html", title="People", page=page, query=query)


@blueprint.route("/people/new", methods=["GET", "POST"])
@access(is_admin)
def new_person():
    form = PersonForm()
    _fill_choices(form)
    if request.method == "GET":
        form.start_date.data = today().strftime("%d/%m/%Y")
    if form.validate_on_submit():
        try:
            with unit_of_work():
                start = services.parse_start_date(form.start_date.data)
                user = services.create_user(
                    form.email.data,
                    form.name.data,
                    password := services.temporary_password(),
                    _grants(form),
                    current_user,
                    supervisor=_supervisor(form),
                    must_change_password=True,
                )
                services.set_start_date(user, start, current_user)
        except services.AccountError as error:
            _show_error(form, error)
        else:
            return render_template(
                "admin/temporary_password.html",
                title="Person added",
                person=user,
                password=password,
                created=True,
            )
    status = 400 if request.method == "POST" else 200
    return render_template("admin/person_new.html", title="Add a person", form=form), status


@blueprint.route("/people/<int:user_id>", methods=["GET", "POST"])
@access(is_admin)
def person(user_id: int):
    user = scope.person_or_404(current_user, user_id)
    form = RolesForm(obj=None)
    _fill_choices(form)
    if request.method == "GET":
        form.roles.data = sorted({a.role.value for a in user.roles})
        team_ids = sorted(user.team_ids())
        form.team.data = str(team_ids[0]) if team_ids else ""
        supervisor = services.supervisor_of(user)
        form.supervisor.data = str(supervisor.id) if supervisor else ""
        form.active.data = user.active
        form.leaving_date.data = user.leaving_date.strftime("%d/%m/%Y") if user.leaving_date else ""
        form.start_date.data = user.start_date.strftime("%d/%m/%Y") if user.start_date else ""
    elif form.validate_on_submit():
        try:
            with unit_of_work():
                start = services.parse_start_date(form.start_date.data)
                leaving = services.parse_leaving_date(form.leaving_date.data)
                services.check_start_before_leaving(start, leaving)
                services.set_roles(user, _grants(form), current_user)
                services.set_supervisor(user, _supervisor(form), current_user)
                services.set_start_date(user, start, current_user)
                services.set_leaving_date(user, leaving, current_user)
                services.set_active(user, bool(form.active.data), current_user)
        except services.AccountError as error:
            user = scope.person_or_404(current_user, user_id)
            _show_error(form, error)
        else:
            flash(f"Changes to {user.name} saved.", "success")
            return redirect(url_for("admin.person", user_id=user.id), code=303)
    status = 400 if request.method == "POST" else 200
    return (
        render_template(
            "admin/person.html",
            title=user.name,
            person=user,
            form=form,
            confirm=ConfirmForm(),
            supervisees=services.supervisees(user),
            sign_in_links=sso.links_of(user),
            provider=sso.settings(),
        ),
        status,
    )


@blueprint.route("/people/<int:user_id>/sign-in-link", methods=["GET", "POST"])
@access(is_admin)
def remove_sign_in_link(user_id: int):
    """Unlink a person from the provider's subject (confirmed first): for an address the
    provider has given to someone new, once the administrator has checked who is who."""
    user = scope.person_or_404(current_user, user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        with unit_of_work():
            removed = sso.remove_links(user, current_user)
        if removed:
            flash(f"{user.name}'s link to the organisation's sign-in is removed.", "success")
        return redirect(url_for("admin.person", user_id=user.id), code=303)
    return render_template(
        "admin/remove_sign_in_link.html",
        title="Remove the sign-in link",
        person=user,
        form=form,
        links=sso.links_of(user),
    )


@blueprint.route("/people/<int:user_id>/reset-password", methods=["GET", "POST"])
@access(is_admin)
def reset_password(user_id: int):
    user = scope.person_or_404(current_user, user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        with unit_of_work():
            password = services.reset_password(user, current_user)
        return render_template(
            "admin/temporary_password.html", title="Password reset", person=user, password=password
        )
    return render_template(
        "admin/reset_password.html", title="Reset password", person=user, form=form
    )


AUDIT_ACTIONS = list(AuditAction)


def _organisation_names() -> dict[int | None, str]:
    """For the installation administrator's log: each event's organisation by name."""
    names: dict[int | None, str] = {None: "Installation"}
    names.update(
        (row.id, row.name) for row in db.session.execute(select(Organisation.id, Organisation.name))
    )
    return names  # the whole catalogue, in its order


def may_read_audit(user, **_kwargs) -> bool:
    """An organisation's administrators read its log; the installation administrator every
    organisation's."""
    return is_admin(user) or scope.is_installation_admin(user)


@blueprint.get("/audit")
@access(may_read_audit)
def audit():
    args = request.args
    form = AuditFilterForm(args)
    form.validate()
    errors = form.error_dict()
    statement = (
        select(AuditEvent)
        .where(scope.audit_events(current_user))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    action = form.action.data
    if action and "action" not in errors:
        statement = statement.where(AuditEvent.action == action)
    if form.who.data:
        like = f"%{form.who.data.lower()}%"
        statement = statement.where(
            or_(AuditEvent.actor_label.like(like), AuditEvent.target.like(like))
        )
    start, end = form.day(form.date_from), form.day(form.date_to)
    if start is not None and "from" not in errors:
        statement = statement.where(AuditEvent.at >= datetime.combine(start, time.min, LONDON))
    if end is not None and "to" not in errors:
        midnight = datetime.combine(end, time.min, LONDON) + timedelta(days=1)
        statement = statement.where(AuditEvent.at < midnight)
    page = paginate(statement, per_page=50) if not errors else None
    return (
        render_template(
            "admin/audit.html",
            title="Audit log",
            back=is_admin(current_user),
            page=page,
            args=args,
            errors=errors,
            error_items=[{"text": text, "href": f"#{field}"} for field, text in errors.items()],
            action_labels={item.value: item.label for item in AUDIT_ACTIONS},
            organisations=_organisation_names()
            if scope.is_installation_admin(current_user)
            else None,
            action_items=[{"value": "", "text": "Any action"}]
            + [
                {"value": item.value, "text": item.label, "selected": item.value == action}
                for item in AUDIT_ACTIONS
            ],
        ),
        400 if errors else 200,
    )
