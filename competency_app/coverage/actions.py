"""From a team's gaps to what closes them: for each gap, the modules that develop it and
the members closest to holding it (`gap_actions`, `skill_gap_actions`), and the suggested
training plan, a greedy set cover of the gaps by modules (`training_plan`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from competency_app.accounts.models import User
from competency_app.assessments.models import CurrentRating
from competency_app.common.dates import london_day
from competency_app.coverage.figures import aware
from competency_app.coverage.services import ElementCoverage, SkillCoverage, TeamCoverage
from competency_app.extensions import db
from competency_app.framework.models import Element, Module
from competency_app.training.services import in_date_completions, in_date_of


@dataclass
class GapAction:
    coverage: ElementCoverage
    modules: list[Module]
    candidates: list[tuple[User, int]]  # (member, skills held) closest to holding it
    criteria: list


@dataclass
class SkillGapAction:
    coverage: SkillCoverage
    element: Element
    modules: list[Module]
    candidates: list[tuple[User, str]]  # (member, where they are now, in words)
    criteria: list


def closest_members(cov: TeamCoverage, element_cov: ElementCoverage, limit: int = 3):
    """Members who do not hold the element, most competent skills first (Developing next)."""
    others = [m for m in cov.members if m.id not in element_cov.met_by]
    ranked = sorted(
        others,
        key=lambda m: (
            -element_cov.competent_skills.get(m.id, 0),
            -element_cov.developing_skills.get(m.id, 0),
            m.name,
        ),
    )
    return [(m, element_cov.competent_skills.get(m.id, 0)) for m in ranked[:limit]]


def gap_actions(cov: TeamCoverage) -> list[GapAction]:
    actions = []
    for element_cov in cov.gaps + cov.at_risk:
        element = element_cov.element
        actions.append(
            GapAction(
                coverage=element_cov,
                modules=[m for m in cov.version.modules if element.key in m.element_keys],
                candidates=closest_members(cov, element_cov),
                criteria=[c for c in cov.version.criteria if element.key in c.links],
            )
        )
    return actions


def skill_gap_actions(cov: TeamCoverage, limit: int = 3) -> list[SkillGapAction]:
    """For each skill below its rule: the modules that develop it (or its element), the
    members closest to holding it (highest level below competent, in date first), and the
    person-specification criteria for its element. One small query over the projection."""
    gaps = cov.skill_gaps
    if not gaps:
        return []
    keys = [s.skill.key for s in gaps]
    ids = [m.id for m in cov.members]
    levels: dict[tuple[int, str], tuple[int, datetime]] = {}
    if ids:
        for person, key, level, expires in db.session.execute(
            select(
                CurrentRating.person_id,
                CurrentRating.skill_key,
                CurrentRating.level,
                CurrentRating.expires_at,
            ).where(CurrentRating.person_id.in_(ids), CurrentRating.skill_key.in_(keys))
        ):
            levels[(person, key)] = (level, aware(expires))
    labels = cov.version.settings.scale.labels
    actions = []
    for s in gaps:
        skill, element = s.skill, s.skill.element

        def standing(member, key=skill.key):
            level, expires = levels.get((member.id, key), (-1, cov.now))
            in_date = expires > cov.now
            return (-(level if in_date else -1), not in_date, -level, member.name)

        ranked = sorted(cov.members, key=standing)[:limit]
        candidates = []
        for member in ranked:
            entry = levels.get((member.id, skill.key))
            if entry is None:
                where = "not yet validated"
                candidates.append((member, where))
                continue
            level, expires = entry
            if expires <= cov.now:
                where = f"{labels.get(level, level)}, expired"
            else:
                where = f"{labels.get(level, level)} ({level})"
            candidates.append((member, where))
        actions.append(
            SkillGapAction(
                coverage=s,
                element=element,
                modules=[
                    m
                    for m in cov.version.modules
                    if skill.key in m.develops or element.key in m.develops
                ],
                candidates=candidates,
                criteria=[c for c in cov.version.criteria if element.key in c.links],
            )
        )
    return actions


@dataclass
class PlanStep:
    module: Module
    closes: list[Element]
    members: list[User]


def training_plan(cov: TeamCoverage, latest: dict | None = None) -> list[PlanStep]:
    """Greedy set cover: repeatedly the module that addresses the most open gaps. A module
    is suggested only to members who are not in date for it (completed, its refresh not
    yet due); a module every candidate is in date for is not suggested at all. (`latest`:
    the members' latest completions, when the caller has read them, as
    `latest_completions` gives them.)"""
    open_gaps = {e.element.key: e for e in cov.gaps + cov.at_risk}
    day = london_day(cov.now)
    if latest is None:
        held = in_date_completions([m.id for m in cov.members], cov.version.modules, day)
    else:
        held = in_date_of(latest, cov.version.modules, day)
    steps: list[PlanStep] = []
    modules = list(cov.version.modules)
    while open_gaps:
        best = max(
            modules,
            key=lambda m: (len(set(m.element_keys) & set(open_gaps)), -m.position),
            default=None,
        )
        if best is None:
            break
        closes = [k for k in best.element_keys if k in open_gaps]
        if not closes:
            break
        modules.remove(best)
        members: dict[int, User] = {}
        candidates = 0
        for key in closes:
            ranked = closest_members(cov, open_gaps[key], limit=len(cov.members))
            candidates += len(ranked)
            fresh = [member for member, _held in ranked if (member.id, best.key) not in held]
            for member in fresh[:2]:
                members.setdefault(member.id, member)
        if candidates and not members:
            continue  # everyone it could be for is in date: the gaps wait for another module
        steps.append(PlanStep(best, [open_gaps[k].element for k in closes], list(members.values())))
        for key in closes:
            del open_gaps[key]
    return steps
