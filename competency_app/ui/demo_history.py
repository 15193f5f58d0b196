"""Realistic assessment history for the demo team, written through the real services.

Two cycles for most keyworkers, one assessment awaiting validation, one returned, a new
starter part-way through, a validation close to expiry, and skills nobody has reached yet,
so that every page has something to show.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from flask import current_app

from competency_app.accounts.models import User
from competency_app.assessments import services
from competency_app.clock import utcnow
from competency_app.recruitment import services as recruitment

# Base level per element for the team: 3a (challenging and influencing) is the team's gap;
# 4c (relationships) is strong in only a few people.
ELEMENT_BASE = {"1a": 2, "1b": 2, "2": 2, "3a": 1, "3b": 2, "4a": 2, "4b": 1, "4c": 1}
STRONG_IN = {"aisha.khan": {"4c", "4b"}, "chloe.evans": {"3b", "4c"}, "emma.walsh": {"4b"}}
NEVER_REACHED = {"3a.s4"}  # "Previous record of influencing cultural or strategic change"


def _at(moment: datetime):
    current_app.config["FROZEN_NOW"] = moment


def _levels(local: str, element_key: str, skills, rng: random.Random, growth: int):
    base = ELEMENT_BASE.get(element_key, 1) + (1 if element_key in STRONG_IN.get(local, ()) else 0)
    levels = {}
    for skill in skills:
        level = base + growth + rng.choice((-1, 0, 0, 0, 1))
        if skill.key in NEVER_REACHED:
            level = min(level, 1)
        levels[skill.id] = max(0, min(3, level))
    return levels


def _rate_all(assessment, person: User, local: str, rng: random.Random, growth: int, stop=None):
    for n, element in enumerate(services.elements_of(assessment.framework_version)):
        if stop is not None and n >= stop:
            return
        levels = _levels(local, element.key, element.skills, rng, growth)
        ratings = {
            skill_id: (level, "Discussed in supervision with examples." if level >= 2 else "")
            for skill_id, level in levels.items()
        }
        services.save_element(assessment, person, element, ratings, None)
    texts = {
        value.id: f"I show {value.title.lower()} in my work with families."
        for value in assessment.framework_version.values
    }
    services.save_reflections(assessment, person, texts, None)


def _validate(assessment, supervisor: User, rng: random.Random):
    decisions = {}
    for rating in assessment.self_ratings:
        if rating.level >= 2 and rng.random() < 0.12:
            decisions[rating.skill_id] = services.Decision(
                rating.level - 1, "Agreed in supervision: more evidence needed at this level."
            )
    reviews = {
        value.id: ("evidenced", "Talked through examples in supervision.")
        for value in assessment.framework_version.values
    }
    services.review_values(assessment, supervisor, reviews, None)
    services.validate(assessment, supervisor, decisions, None)


def create_demo_history(keyworkers: dict[str, User], supervisor: User) -> None:
    """Write the demo history (call once, on an organisation without assessments)."""
    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    now = utcnow()
    try:
        for local, person in keyworkers.items():
            if local == "harry.patel":  # new starter, part-way through a first draft
                _at(now - timedelta(days=3))
                _rate_all(services.start_assessment(person), person, local, rng, 0, stop=3)
                continue
            first = now - timedelta(days=350 if local == "aisha.khan" else 300)
            _at(first)
            assessment = services.start_assessment(person)
            _rate_all(assessment, person, local, rng, 0)
            _at(first + timedelta(days=2))
            services.submit(assessment, person, None)
            _at(first + timedelta(days=6))
            if local == "grace.lewis":  # returned for more evidence, now a draft again
                _at(now - timedelta(days=10))
                services.return_assessment(
                    assessment,
                    supervisor,
                    "Please add evidence for the problem-solving and knowledge-base skills.",
                    None,
                )
                continue
            _validate(assessment, supervisor, rng)
            if local == "aisha.khan":  # validated 344 days ago: expires within 60 days
                continue
            second = now - timedelta(days=100)
            _at(second)
            assessment = services.start_assessment(person)
            _rate_all(assessment, person, local, rng, 1 if local != "daniel.okafor" else 0)
            _at(second + timedelta(days=3))
            services.submit(assessment, person, None)
            if local == "farid.rahman":  # waiting in the supervision queue
                continue
            _at(second + timedelta(days=8))
            _validate(assessment, supervisor, rng)
    finally:
        current_app.config.pop("FROZEN_NOW", None)


def create_demo_vacancy(team, recruiter: User, supervisor: User, manager: User) -> None:
    """A keyworker vacancy part-way through: three candidates, one shortlisted and scored."""
    vacancy = recruitment.create_vacancy(
        team,
        "Keyworker (band 5)",
        date.today() + timedelta(days=21),
        [supervisor, manager],
        [supervisor, manager],
        manager,
        recruiter,
    )
    names = ["Jamie Clarke", "Robin Adeyemi", "Sasha Novak"]
    candidates = [recruitment.add_candidate(vacancy, name, "", recruiter) for name in names]
    criteria = recruitment.shortlist_criteria(vacancy)
    all_met = {c.key: (True, None) if c.requirement == "essential" else (None, 3) for c in criteria}
    for panel_member in (supervisor, manager):
        recruitment.save_shortlist(candidates[0], panel_member, all_met)
    keys = [c.key for c in recruitment.interview_criteria(vacancy)]
    recruitment.save_scores(
        candidates[0], supervisor, {k: (4, "Clear examples from practice.") for k in keys}, True
    )
