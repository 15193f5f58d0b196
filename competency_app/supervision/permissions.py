"""Who may schedule, change and read supervision sessions (with `access()` from accounts)."""

from __future__ import annotations

from collections.abc import Callable

from competency_app.accounts.models import Role, User
from competency_app.accounts.permissions import Rule, can_view_person, supervises
from competency_app.common.loaders import get_or_404
from competency_app.supervision.models import SupervisionSession


def session_by_id(session_id: int) -> SupervisionSession:
    return get_or_404(SupervisionSession, session_id)


def can_schedule_for(user: User, person: User) -> bool:
    """The person's supervisor or a manager of a team they work in; never themselves."""
    if not user.is_authenticated or user.id == person.id:
        return False
    if supervises(user, person):
        return True
    return bool(person.team_ids(Role.PRACTITIONER) & user.team_ids(Role.MANAGER))


def can_manage_session(user: User, session: SupervisionSession) -> bool:
    """Reschedule, cancel, and record agreed actions: whoever may schedule for the person."""
    return can_schedule_for(user, session.supervisee)


def can_view_session(user: User, session: SupervisionSession) -> bool:
    """The supervisee, whoever may see their record, and the session's own supervisor."""
    return user.id == session.supervisor_id or can_view_person(user, session.supervisee)


def session_rule(predicate: Callable[[User, SupervisionSession], bool]) -> Rule:
    """A rule for views with a `session_id` argument (404 when it does not exist)."""

    def rule(user: User, session_id: int, **_kwargs) -> bool:
        return predicate(user, session_by_id(session_id))

    rule.__name__ = f"session_{predicate.__name__}"
    return rule
