"""Realistic assessment history for the demo team, written through the real services.

Two cycles for most keyworkers, one assessment awaiting validation, one returned, a new
starter part-way through, a validation close to expiry, and skills nobody has reached yet,
so that every page has something to show.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from flask import current_app

from competency_app.accounts.models import User
from competency_app.accounts.services import set_start_date
from competency_app.assessments import services
from competency_app.clock import utcnow
from competency_app.common.dates import LONDON
from competency_app.recruitment import checks
from competency_app.recruitment import services as recruitment

# Base level per element for the team: 3a (challenging and influencing) is the team's gap;
# 4c (relationships) is strong in only a few people.
ELEMENT_BASE = {"1a": 2, "1b": 2, "2": 2, "3a": 1, "3b": 2, "4a": 2, "4b": 1, "4c": 1}
STRONG_IN = {"aisha.khan": {"4c", "4b"}, "chloe.evans": {"3b", "4c"}, "emma.walsh": {"4b"}}
NEVER_REACHED = {"3a.s4"}  # "Previous record of influencing cultural or strategic change"
# Days since each keyworker started (Harry is the new starter): coverage as at an earlier
# day does not count them.
STARTED_DAYS_AGO = {
    "aisha.khan": 1400,
    "ben.hughes": 1100,
    "chloe.evans": 900,
    "daniel.okafor": 700,
    "emma.walsh": 600,
    "farid.rahman": 500,
    "grace.lewis": 420,
    "harry.patel": 14,
}


def _at(moment: datetime):
    current_app.config["FROZEN_NOW"] = moment


def _levels(
    local: str,
    element_key: str,
    skills,
    rng: random.Random,
    growth: int,
    everyone=(),
    bases: dict[str, int] | None = None,
):
    bases = ELEMENT_BASE if bases is None else bases
    base = bases.get(element_key, 1) + (1 if element_key in STRONG_IN.get(local, ()) else 0)
    levels = {}
    for skill in skills:
        level = base + growth + rng.choice((-1, 0, 0, 0, 1))
        if skill.key in NEVER_REACHED:
            level = min(level, 1)
        if skill.key in everyone:  # what every keyworker is expected to hold: they do
            level = max(level, 2)
        levels[skill.id] = max(0, min(3, level))
    return levels


def _rate_all(
    assessment,
    person: User,
    local: str,
    rng: random.Random,
    growth: int,
    stop=None,
    bases: dict[str, int] | None = None,
):
    for n, element in enumerate(services.elements_of(assessment.framework_version)):
        if stop is not None and n >= stop:
            return
        everyone = assessment.framework_version.settings.everyone_skills
        levels = _levels(local, element.key, element.skills, rng, growth, everyone, bases)
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
    everyone = assessment.framework_version.settings.everyone_skills
    before = services.previous_levels(assessment.person_id)
    keys = {
        skill.id: skill.key
        for e in services.elements_of(assessment.framework_version)
        for skill in e.skills
    }
    for rating in assessment.self_ratings:
        if rating.level >= 2 and rng.random() < 0.12 and rating.skill.key not in everyone:
            decisions[rating.skill_id] = services.Decision(
                rating.level - 1, "Agreed in supervision: more evidence needed at this level."
            )
        elif rating.level < before.get(keys[rating.skill_id], rating.level):
            decisions[rating.skill_id] = services.Decision(
                None, "Agreed in supervision: less of this work since the last review."
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
    for local, person in keyworkers.items():
        if local in STARTED_DAYS_AGO and person.start_date is None:
            set_start_date(person, (now - timedelta(days=STARTED_DAYS_AGO[local])).date(), None)
    try:
        for local, person in keyworkers.items():
            if local == "harry.patel":  # new starter, part-way through a first draft
                _at(now - timedelta(days=3))
                draft = services.start_assessment(person)
                _rate_all(draft, person, local, rng, 0, stop=3)
                values = draft.framework_version.values
                texts = {v.id: f"I show {v.title.lower()} with families." for v in values[:3]}
                services.save_reflections(draft, person, texts, None)  # partial work is kept
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


# Another team's profile: strong in relationships (4), less so in service development (3).
OTHER_TEAM_BASE = {"1a": 2, "1b": 1, "2": 2, "3a": 1, "3b": 1, "4a": 2, "4b": 2, "4c": 2}


def create_team_history(
    keyworkers: dict[str, User],
    supervisor: User,
    seed: int,
    validated_days_ago: dict[str, int],
    bases: dict[str, int] | None = None,
) -> None:
    """One validated self-assessment per keyworker, `validated_days_ago[local]` days ago
    (a keyworker not named there is left with none), each a little different; for the demo's
    other teams, so that the regional figures compare teams that differ."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    now = utcnow()
    try:
        for number, (local, person) in enumerate(keyworkers.items()):
            days = validated_days_ago.get(local)
            if days is None:
                continue
            if person.start_date is None:
                set_start_date(person, (now - timedelta(days=days + 200)).date(), None)
            _at(now - timedelta(days=days + 8))
            assessment = services.start_assessment(person)
            growth = (number % 3) - 1  # below, at and above the team's profile in turn
            _rate_all(assessment, person, local, rng, growth, bases=bases or OTHER_TEAM_BASE)
            _at(now - timedelta(days=days + 5))
            services.submit(assessment, person, None)
            _at(now - timedelta(days=days))
            _validate(assessment, supervisor, rng)
    finally:
        current_app.config.pop("FROZEN_NOW", None)


def create_demo_vacancy(
    team, recruiter: User, supervisor: User, manager: User, lay: User | None = None
) -> None:
    """Vacancies at several stages: one interviewing (slots, a moderated disagreement, a
    lay panel member, one candidate's scores submitted), one with an offer made, one
    still shortlisting with a disagreement to settle, and one closed."""
    panel = ([supervisor, manager], [supervisor, manager], manager, recruiter)
    closing = date.today() + timedelta(days=21)

    def marks(vacancy, met: bool = True) -> dict:
        return {
            c.key: (met, None) if c.requirement == "essential" else (None, 3)
            for c in recruitment.shortlist_criteria(vacancy)
        }

    def forward(candidate) -> None:
        for shortlister in (supervisor, manager):
            recruitment.save_shortlist(candidate, shortlister, marks(candidate.vacancy))

    def slot(candidate, days: int, hour: int, place: str) -> None:
        day = date.today() + timedelta(days=days)
        starts = datetime(day.year, day.month, day.day, hour, tzinfo=LONDON).astimezone(UTC)
        recruitment.set_slot(candidate, starts, place, recruiter)

    # interviewing
    vacancy = recruitment.create_vacancy(team, "Keyworker (band 5)", closing, *panel)
    names = ["Jamie Clarke", "Robin Adeyemi", "Sasha Novak"]
    candidates = [recruitment.add_candidate(vacancy, name, "", recruiter) for name in names]
    forward(candidates[0])
    disputed = next(
        c for c in recruitment.shortlist_criteria(vacancy) if c.requirement == "essential"
    )
    recruitment.save_shortlist(candidates[1], supervisor, marks(vacancy))
    recruitment.save_shortlist(
        candidates[1], manager, {**marks(vacancy), disputed.key: (False, None)}
    )
    recruitment.moderate(
        candidates[1],
        {disputed.key: (True, None, "The application describes two years in a similar post.")},
        manager,
    )
    recruitment.save_shortlist(candidates[2], supervisor, marks(vacancy, met=False))
    recruitment.save_shortlist(candidates[2], manager, marks(vacancy, met=False))
    slot(candidates[0], 10, 10, "Room 2, Civic Centre")
    slot(candidates[1], 10, 14, "https://video.example.nhs.uk/keyworker-panel")
    if lay is not None:
        recruitment.invite_panel_member(vacancy, lay.name, lay.email, recruiter)
    recruitment.move_vacancy(vacancy, "interviewing", recruiter)
    keys = [c.key for c in recruitment.interview_criteria(vacancy)]
    recruitment.save_scores(
        candidates[0], supervisor, {k: (4, "Clear examples from practice.") for k in keys}, True
    )

    # decided, with an offer made
    senior = recruitment.create_vacancy(team, "Senior keyworker (band 6)", closing, *panel)
    offered = recruitment.add_candidate(senior, "Alex Mensah", "alex.mensah@example.com", recruiter)
    other = recruitment.add_candidate(senior, "Kim Patel", "", recruiter)
    for candidate, score in ((offered, 4), (other, 3)):
        forward(candidate)
        slot(candidate, -5, 10 if score == 4 else 11, "Room 1, Civic Centre")
        for person in (supervisor, manager):
            recruitment.save_scores(candidate, person, {k: (score, "") for k in keys}, True)
        recruitment.save_agreed(candidate, manager, {k: score for k in keys})
    recruitment.move_vacancy(senior, "interviewing", recruiter)
    recruitment.move_vacancy(senior, "decided", manager)
    recruitment.make_offer(offered, recruiter)
    # a conditional offer: the DBS check and references back, the rest still to come
    for check in checks.checks_for(senior)[:2]:
        checks.record_check(
            offered, check.id, "satisfactory", date.today() - timedelta(days=2), "", recruiter
        )

    # still shortlisting, with a disagreement to settle
    fixed = recruitment.create_vacancy(
        team, "Keyworker (12-month fixed term)", closing + timedelta(days=14), *panel
    )
    waiting = recruitment.add_candidate(fixed, "Taylor Brooks", "", recruiter)
    recruitment.add_candidate(fixed, "Jordan Evans", "", recruiter)
    recruitment.save_shortlist(waiting, supervisor, marks(fixed))
    recruitment.save_shortlist(waiting, manager, {**marks(fixed), disputed.key: (False, None)})

    # closed
    old = recruitment.create_vacancy(team, "Keyworker (band 4 trainee)", closing, *panel)
    recruitment.add_candidate(old, "Casey Moore", "", recruiter)
    recruitment.move_vacancy(old, "closed", recruiter)
