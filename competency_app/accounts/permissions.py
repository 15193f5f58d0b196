"""Who may do what: the `access()` decorator, and the predicates about people, teams and roles.

Every view declares its rule with `@access(rule)`. A rule is a predicate taking the
signed-in user and the view's URL arguments. A feature's own predicates live in its
`permissions.py` (`assessments/permissions.py`, `recruitment/permissions.py`), built on
the ones here; views, templates and the CLI ask the same predicate. `PUBLIC` marks the few
pages open to anyone (sign-in, health). The authorisation-matrix test walks every
registered route and fails on one without a declared rule.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Protocol

from flask import abort, current_app, has_request_context, jsonify, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import bindparam, select

from competency_app.accounts import scope
from competency_app.accounts.models import Role, SupervisionLink, Team, User
from competency_app.common.loaders import get_or_404
from competency_app.extensions import db

Rule = Callable[..., bool]


def PUBLIC(_user, **_kwargs) -> bool:  # noqa: N802 - reads as a constant in @access(PUBLIC)
    return True


def SIGNED_IN(user, **_kwargs) -> bool:  # noqa: N802
    return user.is_authenticated


def is_api_request() -> bool:
    """The JSON API answers in JSON, refusals included (never a redirect to a page)."""
    return request.path.startswith("/api/")


def _api_refusal(status: int, message: str):
    response = jsonify(error="unauthorised" if status == 401 else "forbidden", message=message)
    response.status_code = status
    if status == 401:
        # the API takes a personal token (api/tokens.py) or, from the app's pages, a session
        response.headers["WWW-Authenticate"] = 'Bearer realm="competency"'
    return response


def access(rule: Rule):
    """Declare and enforce the access rule of a view."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if rule is not PUBLIC:
                if not current_user.is_authenticated:
                    if is_api_request():
                        return _api_refusal(
                            401, "Send an API token (Authorization: Bearer <token>) or sign in."
                        )
                    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
                if (
                    current_user.must_change_password
                    and current_app.config.get("LOCAL_PASSWORDS", True)
                    and request.endpoint
                    not in (
                        "auth.change_password",
                        "auth.logout",
                    )
                ):
                    if is_api_request():
                        return _api_refusal(403, "Change your password before using the API.")
                    return redirect(url_for("auth.change_password"))
                if not rule(current_user, **kwargs):
                    if is_api_request():
                        return _api_refusal(403, "You do not have permission for this.")
                    abort(403)
            return view(*args, **kwargs)

        wrapped.access_rule = rule
        return wrapped

    return decorate


# ---- predicates -------------------------------------------------------------------------


def is_admin(user: User, **_kwargs) -> bool:
    return user.is_authenticated and Role.ADMIN in user.role_set


def is_hr_or_admin(user: User, **_kwargs) -> bool:
    return user.is_authenticated and bool({Role.HR, Role.ADMIN} & user.role_set)


_TEAM_BY_SLUG = select(Team).where(Team.slug == bindparam("slug"))


def team_by_slug(slug: str) -> Team:
    """The team (404 if none), read once per request: the access rule and the view both
    ask for it."""
    seen = request.environ.setdefault("competency_app.teams", {}) if has_request_context() else {}
    team = seen.get(slug)
    if team is None:
        team = db.session.scalar(_TEAM_BY_SLUG, {"slug": slug})
        if team is None:
            abort(404)
        seen[slug] = team
    return team


def can_view_team(user: User, team: Team) -> bool:
    """Managers and supervisors of the team, HR and admins of the organisation hosting it
    see team-level information."""
    if scope.acts_for(user, team.organisation_id):
        return True
    return team.id in user.team_ids(Role.MANAGER, Role.SUPERVISOR)


def can_manage_team(user: User, team: Team) -> bool:
    return scope.acts_for(user, team.organisation_id, Role.ADMIN) or team.id in user.team_ids(
        Role.MANAGER
    )


def supervises(supervisor: User, supervisee: User) -> bool:
    return supervises_id(supervisor, supervisee.id)


def supervises_id(supervisor: User, supervisee_id: int) -> bool:
    """`supervises` by the supervisee's id (no need to load the person)."""
    return (
        db.session.scalar(
            select(SupervisionLink.id).where(
                SupervisionLink.supervisor_id == supervisor.id,
                SupervisionLink.supervisee_id == supervisee_id,
            )
        )
        is not None
    )


def can_view_person(user: User, person: User) -> bool:
    """A practitioner's own record, their supervisor, their team's managers, and HR and
    administrators of the organisation employing them."""
    if user.id == person.id or scope.acts_for(user, person.organisation_id):
        return True
    if supervises(user, person):
        return True
    return bool(person.team_ids(Role.PRACTITIONER) & user.team_ids(Role.MANAGER))


def has_role(*roles: Role) -> Rule:
    """A rule: the person holds one of `roles` (in any team)."""

    def rule(user: User, **_kwargs) -> bool:
        return user.is_authenticated and bool(set(roles) & user.role_set)

    rule.__name__ = "has_role_" + "_or_".join(r.value for r in roles)
    return rule


def team_rule(predicate: Callable[[User, Team], bool]) -> Rule:
    """A rule for views with a `slug` argument: loads the team (404) and asks `predicate`."""

    def rule(user: User, slug: str, **_kwargs) -> bool:
        return predicate(user, team_by_slug(slug))

    rule.__name__ = f"team_{predicate.__name__}"
    return rule


def person_by_id(user_id: int) -> User:
    return get_or_404(User, user_id)


def person_rule(predicate: Callable[[User, User], bool]) -> Rule:
    """A rule for views with a `user_id` argument naming the person concerned."""

    def rule(user: User, user_id: int, **_kwargs) -> bool:
        return predicate(user, person_by_id(user_id))

    rule.__name__ = f"person_{predicate.__name__}"
    return rule


# Asked by the coverage team page (whether to offer the download) and by the exports route:
# it lives here, below both, as coverage may not import exports.
def can_export_team(user: User, team: Team) -> bool:
    """Team workbooks: the team's managers, HR and admins of the organisation hosting it
    (personal data leaves the app)."""
    return scope.acts_for(user, team.organisation_id) or team.id in user.team_ids(Role.MANAGER)


# ---- granting and removing roles --------------------------------------------------------
# Every path that creates a person, changes their roles or disables them (admin pages,
# `create-user`, the roster import, and any later one) asks this rule. `actor` None is the
# command line: the operator already holds the server, so it has an administrator's powers.

ORGANISATION_ROLES = frozenset({Role.ADMIN, Role.HR, Role.REGIONAL_LEAD, Role.INSTALLATION_ADMIN})
LAST_ADMIN = "{name} is the last active administrator: make someone else an administrator first"


def active_admin_ids(organisation_id: int | None = None) -> set[int]:
    """The active administrators of `organisation_id` (None: every organisation's)."""
    return scope.active_admin_ids(organisation_id)


class Person(Protocol):
    """What the role rule reads of a person: a `User`, or the roster import's plain row."""

    id: int
    name: str
    active: bool

    @property
    def role_set(self) -> set[Role]: ...


def role_change_refusal(
    actor: User | None,
    person: Person | None,
    new_roles: set[Role] | None,
    *,
    active: bool = True,
    admins_after: int | None = None,
) -> str | None:
    """Why `actor` may not give `person` the roles `new_roles` (None: roles unchanged) and
    the state `active`; None when they may. `person` None is a new person.

    HR creates and updates keyworkers, supervisors, managers and recruiters; it never grants
    or removes `admin` or `hr` and never changes an administrator's account. An
    administrator may do everything except remove the last active administrator of the
    person's organisation (disabling counts as removing). `admins_after`, when given, is
    the number of active administrators once the whole change (for example an import
    file) is applied.
    """
    old_roles = person.role_set if person is not None else set()
    roles = old_roles if new_roles is None else set(new_roles)
    if actor is not None:
        if (old_roles ^ roles) & {Role.INSTALLATION_ADMIN} and not scope.is_installation_admin(
            actor
        ):
            return "Only an installation administrator can grant or remove that role"
        employer = getattr(person, "organisation_id", None)
        if person is not None and employer is not None and employer != actor.organisation_id:
            return (
                f"{person.name} is employed by another organisation: "
                "only their employer's HR and administrators can change their account"
            )
    if actor is not None and not is_admin(actor):
        if Role.HR not in actor.role_set:
            return "Only HR and administrators can change people's accounts"
        if Role.ADMIN in old_roles:
            return "Only an administrator can change an administrator's account"
        changed = (old_roles ^ roles) & ORGANISATION_ROLES
        if changed:
            granted = changed & roles
            verb, named = ("grant", granted) if granted else ("remove", changed)
            noun = "roles" if len(named) > 1 else "role"
            names = " and ".join(sorted(r.value for r in named))
            return f"Only an administrator can {verb} the {noun} {names}"
    was_active_admin = person is not None and person.active and Role.ADMIN in old_roles
    if person is not None and was_active_admin and (Role.ADMIN not in roles or not active):
        remaining = (
            admins_after
            if admins_after is not None
            else len(active_admin_ids(getattr(person, "organisation_id", None)) - {person.id})
        )
        if remaining < 1:
            return LAST_ADMIN.format(name=person.name)
    return None


def can_request_personal_data(user: User, person: User) -> bool:
    """A copy of a person's data: the person themselves, and HR and administrators of the
    organisation employing them (the controller of their record)."""
    return user.is_authenticated and (
        user.id == person.id or scope.acts_for(user, person.organisation_id)
    )


def can_erase_person(user: User, person: User) -> bool:
    """Erasing a person's record: HR and administrators of the organisation employing them,
    never their own."""
    return (
        user.is_authenticated
        and user.id != person.id
        and scope.acts_for(user, person.organisation_id)
    )
