"""Who may assign training: the predicates about training assignments."""

from __future__ import annotations

from competency_app.accounts.models import Role, Team, User


def can_assign_training(user: User, team: Team) -> bool:
    """The team's managers assign modules from its training plan and cancel assignments."""
    return user.is_authenticated and team.id in user.team_ids(Role.MANAGER)
