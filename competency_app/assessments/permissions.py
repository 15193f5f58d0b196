"""Who may see, edit and validate an assessment (with `access()` from accounts)."""

from __future__ import annotations

from collections.abc import Callable

from competency_app.accounts.models import User
from competency_app.accounts.permissions import Rule, can_view_person, supervises
from competency_app.assessments.models import Assessment
from competency_app.common.loaders import get_or_404


def assessment_by_id(assessment_id: int) -> Assessment:
    return get_or_404(Assessment, assessment_id)


def can_view_assessment(user: User, assessment: Assessment) -> bool:
    return can_view_person(user, assessment.person)


def can_edit_assessment(user: User, assessment: Assessment) -> bool:
    """Only the person assessed edits their self-ratings (the state is checked on write)."""
    return user.id == assessment.person_id


def can_validate(user: User, assessment: Assessment) -> bool:
    """A supervisor of the person, never the person themselves."""
    return user.id != assessment.person_id and supervises(user, assessment.person)


def assessment_rule(predicate: Callable[[User, Assessment], bool]) -> Rule:
    """A rule for views with an `assessment_id` argument (404 when it does not exist)."""

    def rule(user: User, assessment_id: int, **_kwargs) -> bool:
        return predicate(user, assessment_by_id(assessment_id))

    rule.__name__ = f"assessment_{predicate.__name__}"
    return rule
