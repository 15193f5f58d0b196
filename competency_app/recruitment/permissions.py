"""Who may see a vacancy's candidates, manage it, or act on one of its panels."""

from __future__ import annotations

from collections.abc import Callable

from competency_app.accounts.models import Role, User
from competency_app.accounts.permissions import Rule
from competency_app.common.loaders import get_or_404
from competency_app.recruitment.models import Vacancy


def vacancy_by_id(vacancy_id: int) -> Vacancy:
    return get_or_404(Vacancy, vacancy_id)


def on_panel(user: User, vacancy: Vacancy, *roles: str) -> bool:
    return any(p.user_id == user.id and (not roles or p.role in roles) for p in vacancy.panel)


def can_view_vacancy(user: User, vacancy: Vacancy) -> bool:
    """Candidate data: the vacancy's panels, the team's recruiters and HR only."""
    if not user.is_authenticated:
        return False
    if Role.HR in user.role_set or on_panel(user, vacancy):
        return True
    return vacancy.team_id in user.team_ids(Role.RECRUITER)


def can_manage_vacancy(user: User, vacancy: Vacancy) -> bool:
    """Adding candidates and downloading the workbook: the team's recruiters and HR."""
    return Role.HR in user.role_set or vacancy.team_id in user.team_ids(Role.RECRUITER)


def vacancy_rule(predicate: Callable[..., bool], *roles: str) -> Rule:
    """A rule for views with a `vacancy_id`; with `roles`, a panel role is required."""

    def rule(user: User, vacancy_id: int, **_kwargs) -> bool:
        vacancy = vacancy_by_id(vacancy_id)
        return predicate(user, vacancy) and (not roles or on_panel(user, vacancy, *roles))

    rule.__name__ = f"vacancy_{predicate.__name__}_{'_'.join(roles)}"
    return rule
