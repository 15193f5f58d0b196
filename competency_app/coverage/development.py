"""Personal development plans: skills below competent, the modules for them, completions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from competency_app.accounts.models import User
from competency_app.accounts.services import record
from competency_app.assessments.profile import SkillLine, profile_of
from competency_app.clock import utcnow
from competency_app.extensions import db
from competency_app.framework.models import FrameworkVersion, Module
from competency_app.training.completion_dates import completion_date_refusal
from competency_app.training.models import ModuleCompletion
from competency_app.training.required import Standing, completion_expiry, person_standings
from competency_app.training.services import (
    AssignmentProgress,
    Reassess,
    person_assignments,
    skills_to_reassess,
)


@dataclass
class PlanItem:
    module: Module  # or a local course, which reads as one
    skills: list[SkillLine]
    completions: list[ModuleCompletion]


@dataclass
class DevelopmentPlan:
    below: list[SkillLine]
    items: list[PlanItem]
    completions: list[ModuleCompletion]
    modules: dict[str, Module]
    required: list[Standing] = field(default_factory=list)
    assignments: list[AssignmentProgress] = field(default_factory=list)
    # Skills a completion asks to reassess at the next supervision (never competence).
    reassess: list[Reassess] = field(default_factory=list)

    @property
    def reassess_keys(self) -> set[str]:
        return {r.skill.key for r in self.reassess}

    def repeat_by(self, completion: ModuleCompletion) -> date | None:
        """When this completion must be repeated (required training with a refresh)."""
        module = self.modules.get(completion.module_key)
        return completion_expiry(completion.completed_on, module) if module else None


def development_plan(
    person: User, version: FrameworkVersion, now: datetime, catalogue: Sequence | None = None
) -> DevelopmentPlan:
    """`person`'s plan; `catalogue` is the catalogue as they see it (the framework's modules
    and their organisation's local courses), the framework's modules when not given."""
    modules = list(version.modules) if catalogue is None else list(catalogue)
    profile = profile_of(person)
    competent = version.settings.scale.competent_level
    below = [
        line
        for group in (profile.elements if profile else [])
        for line in group.lines
        if line.counted_level is None or line.counted_level < competent
    ]
    completions = list(
        db.session.scalars(
            select(ModuleCompletion)
            .where(ModuleCompletion.person_id == person.id)
            .order_by(ModuleCompletion.completed_on.desc())
        )
    )
    by_module: dict[str, list[ModuleCompletion]] = {}
    for completion in completions:
        by_module.setdefault(completion.module_key, []).append(completion)
    items = []
    for module in modules:
        develops = set(module.develops)
        skills = [
            line
            for line in below
            if line.skill.key in develops or line.skill.element.key in develops
        ]
        if skills:
            items.append(PlanItem(module, skills, by_module.get(module.key, [])))
    items.sort(key=lambda item: (-len(item.skills), item.module.position))
    return DevelopmentPlan(
        below,
        items,
        completions,
        {m.key: m for m in modules},
        required=person_standings(person, version),
        assignments=person_assignments(person),
        reassess=skills_to_reassess(person, version, modules),
    )


class CompletionError(ValueError):
    """A completion the rules refuse, naming the form field it is about."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def record_completion(
    person: User,
    module_key: str,
    completed_on: date,
    certificate: str,
    recorded_by: User,
    version: FrameworkVersion | None = None,
    catalogue: Sequence | None = None,
) -> None:
    """Record a completed module. It never changes a rating: it prompts reassessment.

    With `version`, the module must be one of its modules (or of `catalogue`, the
    catalogue as the person sees it, local courses included); the date is never in the
    future.
    """
    if version is not None:
        allowed = {m.key for m in (version.modules if catalogue is None else catalogue)}
        if module_key not in allowed:
            raise CompletionError("Choose the module you completed", "module")
    refusal = completion_date_refusal(completed_on)
    if refusal:
        raise CompletionError(refusal, "completed_on")
    db.session.add(
        ModuleCompletion(
            person_id=person.id,
            module_key=module_key,
            completed_on=completed_on,
            certificate_ref=certificate or None,
            recorded_at=utcnow(),
            recorded_by_id=recorded_by.id,
        )
    )
    record("module_completed", person, target=module_key, completed_on=completed_on.isoformat())
    db.session.flush()
