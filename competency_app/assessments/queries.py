"""Reading assessments: a person's assessments, progress, the ratings and judgements of one
assessment, the supervisor's queue and the history (no writes). `services` re-exports
these names for the callers that know them from there."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from competency_app.accounts.models import SupervisionLink, User
from competency_app.assessments.models import (
    Assessment,
    AssessmentEvent,
    CurrentRating,
    SelfRating,
    Status,
    ValidatedRating,
    ValidationDraft,
    ValueReflection,
    ValueReview,
)
from competency_app.extensions import db
from competency_app.framework.models import Element, FrameworkVersion, Skill


def assessments_of(person: User) -> list[Assessment]:
    return list(
        db.session.scalars(
            select(Assessment)
            .where(Assessment.person_id == person.id)
            .order_by(Assessment.cycle.desc())
        )
    )


def open_assessment(person: User) -> Assessment | None:
    """The person's assessment that is not yet validated, if any."""
    return db.session.scalar(
        select(Assessment).where(
            Assessment.person_id == person.id, Assessment.status != Status.VALIDATED
        )
    )


def elements_of(version: FrameworkVersion) -> list[Element]:
    return [element for competency in version.competencies for element in competency.elements]


SKILL_TEXT_SHOWN = 60


def skill_name(element: Element, number: int, skill: Skill) -> str:
    """How a skill is named where its controls are labelled: the element's short name, its
    number in the element and the start of its text ("1a skill 2: A compassionate and
    empathetic approach…"), so no two skills of a framework share a name."""
    text = " ".join(skill.text.split())
    if len(text) > SKILL_TEXT_SHOWN:
        cut = text[:SKILL_TEXT_SHOWN].rsplit(" ", 1)[0].rstrip(",;:.–- ")
        text = f"{cut}…"
    return f"{element.display_label} skill {number}: {text}"


def skill_names(element: Element) -> dict[int, str]:
    """Skill id -> `skill_name` for each skill of `element`."""
    return {
        skill.id: skill_name(element, number, skill)
        for number, skill in enumerate(element.skills, start=1)
    }


def skill_count(version: FrameworkVersion) -> int:
    return db.session.execute(
        select(func.count()).select_from(Skill).where(Skill.version_id == version.id)
    ).scalar_one()


@dataclass(frozen=True)
class Progress:
    rated: int
    total: int
    reflections: int
    values: int

    @property
    def complete(self) -> bool:
        """Every skill rated (the reflections are counted apart: `ready`)."""
        return self.rated == self.total

    @property
    def reflected(self) -> bool:
        return self.reflections >= self.values

    @property
    def ready(self) -> bool:
        """Every skill rated and every core value reflected on: it can be submitted."""
        return self.complete and self.reflected

    @property
    def percent(self) -> int:
        return round(100 * self.rated / self.total) if self.total else 0


def progress(assessment: Assessment) -> Progress:
    rated = db.session.execute(
        select(func.count())
        .select_from(SelfRating)
        .where(SelfRating.assessment_id == assessment.id)
    ).scalar_one()
    reflections = db.session.execute(
        select(func.count())
        .select_from(ValueReflection)
        .where(ValueReflection.assessment_id == assessment.id)
    ).scalar_one()
    version = assessment.framework_version
    return Progress(rated, skill_count(version), reflections, len(version.values))


def self_ratings_by_skill(assessment: Assessment) -> dict[int, SelfRating]:
    return {rating.skill_id: rating for rating in assessment.self_ratings}


def validated_by_skill(assessment: Assessment) -> dict[int, ValidatedRating]:
    return {
        rating.skill_id: rating
        for rating in db.session.scalars(
            select(ValidatedRating).where(ValidatedRating.assessment_id == assessment.id)
        )
    }


def reflections_by_value(assessment: Assessment) -> dict[int, ValueReflection]:
    return {reflection.value_id: reflection for reflection in assessment.reflections}


def value_reviews(assessment: Assessment) -> dict[int, ValueReview]:
    """The supervisor's review of each core value's reflection, by value id."""
    return {
        review.value_id: review
        for review in db.session.scalars(
            select(ValueReview).where(ValueReview.assessment_id == assessment.id)
        )
    }


def validation_drafts(assessment: Assessment) -> dict[int, ValidationDraft]:
    """The supervisor's saved judgements so far, by skill id."""
    return {
        draft.skill_id: draft
        for draft in db.session.scalars(
            select(ValidationDraft).where(ValidationDraft.assessment_id == assessment.id)
        )
    }


@dataclass(frozen=True)
class ValidationProgress:
    """How far the supervisor has gone: elements saved, values reviewed."""

    reviewed: frozenset[str]  # keys of the elements whose every skill has a saved judgement
    changed: dict[str, int]  # element key -> levels changed from the self-rating
    elements: int
    values_reviewed: int
    values: int

    @property
    def elements_done(self) -> int:
        return len(self.reviewed)

    @property
    def ready(self) -> bool:
        return self.elements_done == self.elements and self.values_reviewed >= self.values


def validation_progress(assessment: Assessment) -> ValidationProgress:
    version = assessment.framework_version
    elements = elements_of(version)
    drafts = validation_drafts(assessment)
    reviewed = frozenset(e.key for e in elements if all(s.id in drafts for s in e.skills))
    changed = {
        e.key: sum(1 for s in e.skills if s.id in drafts and drafts[s.id].level is not None)
        for e in elements
    }
    reviews = value_reviews(assessment)
    done = sum(1 for value in version.values if value.id in reviews)
    return ValidationProgress(reviewed, changed, len(elements), done, len(version.values))


def current_ratings(person: User) -> dict[str, CurrentRating]:
    return {
        rating.skill_key: rating
        for rating in db.session.scalars(
            select(CurrentRating).where(CurrentRating.person_id == person.id)
        )
    }


def submitted_for(supervisor: User) -> list[Assessment]:
    """Submitted assessments of the supervisor's supervisees, oldest first."""
    return list(
        db.session.scalars(
            select(Assessment)
            .join(SupervisionLink, SupervisionLink.supervisee_id == Assessment.person_id)
            .where(
                SupervisionLink.supervisor_id == supervisor.id,
                Assessment.status == Status.SUBMITTED,
            )
            .order_by(Assessment.submitted_at)
        )
    )


def history(assessment: Assessment) -> list[AssessmentEvent]:
    return list(
        db.session.scalars(
            select(AssessmentEvent)
            .where(AssessmentEvent.assessment_id == assessment.id)
            .order_by(AssessmentEvent.at, AssessmentEvent.id)
        )
    )
