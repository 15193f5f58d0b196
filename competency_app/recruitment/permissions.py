"""Who may see a vacancy's candidates, manage it, or act on one of its panels.

A lay or expert-by-experience panel member sees one vacancy only: the candidates going to
interview and their own scoring pages, until the vacancy closes.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Select, or_, select

from competency_app.accounts import scope
from competency_app.accounts.models import Role, User
from competency_app.accounts.permissions import Rule
from competency_app.common.loaders import get_or_404
from competency_app.recruitment.models import PanelMember, Vacancy


def vacancy_by_id(vacancy_id: int) -> Vacancy:
    return get_or_404(Vacancy, vacancy_id)


def on_panel(user: User, vacancy: Vacancy, *roles: str) -> bool:
    """On one of the vacancy's panels (with `roles`, in one of those roles); a lay member
    only until the vacancy closes."""
    return any(
        p.user_id == user.id
        and (not roles or p.role in roles)
        and not (p.lay and vacancy.state == "closed")
        for p in vacancy.panel
    )


def panel_vacancy_ids(user: User) -> Select:
    """The ids of the vacancies `user` is `on_panel` for, as a query (the lists of vacancies,
    on the pages and in the API): a lay member's only until the vacancy closes."""
    return (
        select(PanelMember.vacancy_id)
        .join(Vacancy, Vacancy.id == PanelMember.vacancy_id)
        .where(
            PanelMember.user_id == user.id,
            or_(PanelMember.lay.is_(False), Vacancy.state != "closed"),
        )
    )


def is_lay_member(user: User, vacancy: Vacancy) -> bool:
    return any(p.user_id == user.id and p.lay for p in vacancy.panel)


def can_view_vacancy(user: User, vacancy: Vacancy) -> bool:
    """The vacancy's page: its panels, the team's recruiters and HR of the organisation
    hosting the team only."""
    if not user.is_authenticated:
        return False
    if scope.vacancy_in_scope(user, vacancy) or on_panel(user, vacancy):
        return True
    return vacancy.team_id in user.team_ids(Role.RECRUITER)


def can_view_results(user: User, vacancy: Vacancy) -> bool:
    """Every candidate, the shortlisting and the ranking: staff who may view the vacancy
    (not a lay panel member, who sees only the candidates they interview)."""
    return can_view_vacancy(user, vacancy) and not is_lay_member(user, vacancy)


def can_manage_vacancy(user: User, vacancy: Vacancy) -> bool:
    """Candidates, slots, stages, offers, invitations and the workbook: the team's
    recruiters and HR of the organisation hosting the team."""
    return scope.vacancy_in_scope(user, vacancy) or vacancy.team_id in user.team_ids(Role.RECRUITER)


def can_moderate_vacancy(user: User, vacancy: Vacancy) -> bool:
    """Settling a shortlisting disagreement: the chair, the team's recruiters and HR."""
    return can_manage_vacancy(user, vacancy) or on_panel(user, vacancy, "chair")


def can_decide_vacancy(user: User, vacancy: Vacancy) -> bool:
    """Moving the vacancy on: the team's recruiters and HR, and the chair (to decide)."""
    return can_moderate_vacancy(user, vacancy)


def can_request_candidate_data(user: User, vacancy: Vacancy) -> bool:
    """A copy of one of the vacancy's candidates' data (their subject access request,
    asked for on their behalf: they have no account): HR of the organisation hosting the
    team, the controller of the application. Not the team's recruiters nor the panels (they
    see what their part of the work needs, not the whole record), and not administrators by
    that role (candidate data is for the panels and HR)."""
    return scope.vacancy_in_scope(user, vacancy)


def vacancy_rule(predicate: Callable[..., bool], *roles: str) -> Rule:
    """A rule for views with a `vacancy_id`; with `roles`, a panel role is required."""

    def rule(user: User, vacancy_id: int, **_kwargs) -> bool:
        vacancy = vacancy_by_id(vacancy_id)
        return predicate(user, vacancy) and (not roles or on_panel(user, vacancy, *roles))

    rule.__name__ = f"vacancy_{predicate.__name__}_{'_'.join(roles)}"
    return rule
