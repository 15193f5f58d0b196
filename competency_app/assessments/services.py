"""Assessment workflow: draft → submitted → validated, or returned → draft.

Every write checks who is asking and the assessment's state, compares the row version the
person was looking at (a stale copy raises `Conflict`), and appends history. Services flush;
the caller commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm.exc import StaleDataError

from competency_app.accounts.audit import AuditAction
from competency_app.accounts.models import SupervisionLink, User
from competency_app.accounts.permissions import supervises_id
from competency_app.accounts.services import record, record_many
from competency_app.assessments import notices
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
    ValueReviewOutcome,
)
from competency_app.assessments.projection import write_ratings
from competency_app.assessments.reworded import revalidation_cutoffs
from competency_app.clock import utcnow
from competency_app.common.dates import uk_datetime
from competency_app.extensions import db
from competency_app.framework.models import CoreValue, Element, FrameworkVersion, Skill
from competency_app.framework.services import current_version, version_structure

MAX_NOTE = 5000


class WorkflowError(Exception):
    """An illegal move (wrong person or wrong state): HTTP 403 or 409."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


class RatingError(WorkflowError):
    """Ratings or comments the rules refuse (HTTP 400), keyed by the form field each is about
    (`level-<skill id>`, `comment-<skill id>`, `return_comment`), in page order."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(next(iter(errors.values())), 400)
        self.errors = errors
        self.field = next(iter(errors))


class Conflict(WorkflowError):
    """Someone else changed the assessment since this person loaded it.

    The message is read once the caller's transaction has been rolled back, so it names
    the latest change (who and when), not this request's own unsaved one.
    """

    def __init__(self, assessment: Assessment):
        super().__init__("", 409)
        self.assessment = assessment

    def __str__(self) -> str:
        assessment = self.assessment
        who = assessment.updated_by.name if assessment.updated_by else "someone else"
        return (
            f"This assessment was changed by {who} on {uk_datetime(assessment.updated_at)}. "
            "Reload the page to see the latest version; your changes were not saved."
        )


# ---- queries ------------------------------------------------------------------------------


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


# ---- writes -------------------------------------------------------------------------------


def _log(
    assessment: Assessment,
    actor: User,
    action: str,
    old: Status | None,
    new: Status | None,
    **detail,
) -> None:
    # a Core insert: nothing reads the event back in this transaction
    db.session.execute(
        insert(AssessmentEvent).values(
            assessment_id=assessment.id,
            at=utcnow(),
            actor_id=actor.id,
            action=action,
            old_status=old.value if old else None,
            new_status=new.value if new else None,
            detail=detail,
        )
    )


def _require_seen(assessment: Assessment, seen_version: int | None) -> None:
    """Refuse a change made from a stale copy of the assessment."""
    if seen_version is not None and seen_version != assessment.row_version:
        raise Conflict(assessment)


def _touch(assessment: Assessment, actor: User, seen_version: int | None, **changes) -> None:
    """Check the caller saw the latest row, then mark it changed (bumps row_version),
    with any other `changes` to its columns in the same UPDATE."""
    _require_seen(assessment, seen_version)
    assessment.updated_at = utcnow()
    assessment.updated_by_id = actor.id
    for name, value in changes.items():
        setattr(assessment, name, value)
    # Write the version bump first: a concurrent writer waits on this row, then finds
    # the version moved on (StaleDataError) before it writes anything else.
    try:
        db.session.flush()
    except StaleDataError:
        raise Conflict(assessment) from None


def start_assessment(person: User) -> Assessment:
    """The person's open assessment, or a new draft against the current framework."""
    existing = open_assessment(person)
    if existing is not None:
        return existing
    version = current_version()
    if version is None:
        raise WorkflowError("No framework has been loaded yet.", 409)
    last_cycle = db.session.scalar(
        select(func.max(Assessment.cycle)).where(Assessment.person_id == person.id)
    )
    now = utcnow()
    assessment = Assessment(
        person_id=person.id,
        framework_version_id=version.id,
        cycle=(last_cycle or 0) + 1,
        status=Status.DRAFT,
        started_at=now,
        updated_at=now,
        updated_by_id=person.id,
    )
    db.session.add(assessment)
    db.session.flush()
    _log(assessment, person, "started", None, Status.DRAFT, cycle=assessment.cycle)
    return assessment


def _require_editable_by(assessment: Assessment, actor: User) -> None:
    if assessment.person_id != actor.id:
        raise WorkflowError("Only the person being assessed can change their ratings.", 403)
    if not assessment.status.editable:
        raise WorkflowError(
            f"This assessment is {assessment.status.label.lower()}: it can no longer be "
            "changed unless your supervisor returns it.",
            409,
        )


def save_element(
    assessment: Assessment,
    actor: User,
    element: Element,
    ratings: dict[int, tuple[int | None, str]],
    seen_version: int | None,
) -> None:
    """Store the self-ratings (level, evidence) of `element`'s skills; None leaves it unrated."""
    _require_editable_by(assessment, actor)
    if element.version_id != assessment.framework_version_id:
        raise WorkflowError("That element is not part of this assessment's framework.", 404)
    scale = assessment.framework_version.settings.scale.values
    names = skill_names(element)
    off_scale = {
        f"level-{skill.id}": f"{names[skill.id]}: choose a level from the scale"
        for skill in element.skills
        if ratings.get(skill.id, (None, ""))[0] not in scale | {None}
    }
    if off_scale:
        raise RatingError(off_scale)
    _touch(assessment, actor, seen_version)
    existing = self_ratings_by_skill(assessment)
    evidence: str | None
    for skill in element.skills:
        level, evidence = ratings.get(skill.id, (None, ""))
        evidence = (evidence or "").strip()[:MAX_NOTE] or None
        current = existing.get(skill.id)
        if level is None:
            if current is not None:
                db.session.delete(current)
            continue
        if current is None:
            db.session.add(
                SelfRating(assessment=assessment, skill_id=skill.id, level=level, evidence=evidence)
            )
        else:
            current.level, current.evidence = level, evidence
    db.session.flush()


def save_reflections(
    assessment: Assessment, actor: User, texts: dict[int, str], seen_version: int | None
) -> None:
    """Store the reflection on each core value written so far (partial work is kept, as on
    the element pages; an emptied one is removed). The submit needs every one; a form with
    none written is refused."""
    _require_editable_by(assessment, actor)
    values = assessment.framework_version.values
    cleaned = {value.id: (texts.get(value.id) or "").strip()[:MAX_NOTE] for value in values}
    if values and not any(cleaned.values()):
        raise RatingError({f"value-{values[0].id}": empty_reflection_message(values[0])})
    _touch(assessment, actor, seen_version)
    existing = {r.value_id: r for r in assessment.reflections}
    for value in values:
        text = cleaned[value.id]
        current = existing.get(value.id)
        if not text:
            if current is not None:
                assessment.reflections.remove(current)  # delete-orphan: the row goes
        elif current is None:
            db.session.add(ValueReflection(assessment=assessment, value_id=value.id, text=text))
        else:
            current.text = text
    db.session.flush()


def empty_reflection_message(value: CoreValue) -> str:
    return f"{value.title}: write how you show this value in your practice"


def submit(assessment: Assessment, actor: User, seen_version: int | None) -> None:
    _require_editable_by(assessment, actor)
    state = progress(assessment)
    if not state.complete:
        raise WorkflowError(
            f"Rate every skill before you submit: {state.rated} of {state.total} are rated.", 409
        )
    if not state.reflected:
        raise WorkflowError(
            "Reflect on every core value before you submit: "
            f"{state.reflections} of {state.values} are written.",
            409,
        )
    _touch(assessment, actor, seen_version)
    old = assessment.status
    assessment.status = Status.SUBMITTED
    assessment.submitted_at = utcnow()
    _log(assessment, actor, "submitted", old, Status.SUBMITTED)
    record(
        "assessment_submitted",
        actor,
        target=f"assessment:{assessment.id}",
        person=assessment.person_id,
        cycle=assessment.cycle,
        skills=state.total,
    )
    db.session.flush()
    notices.submitted(assessment)


def require_validator(assessment: Assessment, supervisor: User) -> None:
    """Refuse (403/409) unless `supervisor` may validate `assessment` now."""
    if assessment.person_id == supervisor.id:
        raise WorkflowError("You cannot validate your own assessment.", 403)
    if not supervises_id(supervisor, assessment.person_id):
        raise WorkflowError("Only this person's supervisor can validate their assessment.", 403)
    if assessment.status != Status.SUBMITTED:
        raise WorkflowError(
            f"Only a submitted assessment can be validated; this one is "
            f"{assessment.status.label.lower()}.",
            409,
        )


@dataclass(frozen=True)
class Decision:
    level: int | None  # None: agree with the self-rating
    comment: str | None = None


def validate(
    assessment: Assessment,
    supervisor: User,
    decisions: dict[int, Decision],
    seen_version: int | None,
) -> int:
    """Sign off: one validated rating per skill (self-rating unless `decisions` differs).

    Everything is judged before anything is written; then one UPDATE of the assessment
    (version-checked: a concurrent sign-off waits on this row, then gets `Conflict`), the
    history rows, the current-rating projection and the teams' coverage epoch through
    `projection.write_ratings` (one multi-row INSERT, one INSERT ... SELECT upsert), the
    drafts cleared, and one insert each for the event, the audit record and the notice,
    all in this transaction; returns the number of skills validated.
    """
    require_validator(assessment, supervisor)
    _require_seen(assessment, seen_version)
    version = version_structure(assessment.framework_version)
    scale = version.settings.scale.values
    now = utcnow()
    expires = version.settings.validity.valid_until(now)
    selfs = dict(
        db.session.execute(
            select(SelfRating.skill_id, SelfRating.level).where(
                SelfRating.assessment_id == assessment.id
            )
        ).all()
    )
    skills = {skill.id: (skill, e) for e in elements_of(version) for skill in e.skills}
    # An assessment of an earlier version: a skill reworded since with `revalidate: true`
    # is validated against wording that stopped counting then (`reworded.py`).
    cutoffs = revalidation_cutoffs(version)
    unknown = set(decisions) - set(skills)
    if unknown:
        raise WorkflowError("The validation names skills outside this assessment.", 400)

    def label(skill_id: int) -> str:  # named only in a refusal: not built for every skill
        return skill_names(skills[skill_id][1])[skill_id]

    before = previous_levels(assessment.person_id)
    rows: list[dict[str, Any]] = []
    refused: dict[str, str] = {}
    for skill_id, (skill, _element) in skills.items():
        self_level = selfs[skill_id]
        decision = decisions.get(skill_id) or Decision(None)
        level = self_level if decision.level is None else decision.level
        if level not in scale:
            refused[f"level-{skill_id}"] = f"{label(skill_id)}: choose a level from the scale"
            continue
        comment = (decision.comment or "").strip()[:MAX_NOTE] or None
        if level < before.get(skill.key, level) and not comment:
            refused[f"comment-{skill_id}"] = lowered_message(
                label(skill_id), before[skill.key], level
            )
            continue
        if level != self_level and not comment:
            refused[f"comment-{skill_id}"] = (
                f"{label(skill_id)}: add a comment to explain the different level"
            )
            continue
        rows.append(
            {
                "assessment_id": assessment.id,
                "person_id": assessment.person_id,
                "skill_id": skill_id,
                "skill_key": skill.key,
                "self_level": self_level,
                "level": level,
                "comment": comment,
                "validated_by_id": supervisor.id,
                "validated_at": now,
                "expires_at": min(expires, cutoffs.get(skill.key, expires)),
            }
        )
    if refused:
        raise RatingError(refused)
    old = assessment.status
    _touch(
        assessment,
        supervisor,
        seen_version,
        status=Status.VALIDATED,
        validated_at=now,
        validated_by_id=supervisor.id,
    )
    write_ratings(assessment.id, rows, version)
    _clear_drafts(assessment)
    changed = {
        r["skill_key"]: [r["self_level"], r["level"]] for r in rows if r["level"] != r["self_level"]
    }
    _log(
        assessment,
        supervisor,
        "validated",
        old,
        Status.VALIDATED,
        skills=len(rows),
        adjusted=changed,
        expires=expires.date().isoformat(),
    )
    # Counts only in the audit log: the levels themselves stay in the assessment's history.
    # One Core insert (`record_many`): the sign-off has no use for the event object.
    record_many(
        "assessment_validated",
        supervisor,
        [
            (
                f"assessment:{assessment.id}",
                {"person": assessment.person_id, "skills": len(rows), "adjusted": len(changed)},
            )
        ],
    )
    notices.validated(assessment)
    return len(rows)


def return_assessment(
    assessment: Assessment, supervisor: User, comment: str, seen_version: int | None
) -> None:
    """Send a submitted assessment back to the practitioner with comments."""
    require_validator(assessment, supervisor)
    comment = (comment or "").strip()[:MAX_NOTE]
    if not comment:
        raise RatingError(
            {"return_comment": "Say what the practitioner should change before returning it"}
        )
    _touch(assessment, supervisor, seen_version)
    _clear_drafts(assessment)
    old = assessment.status
    assessment.status = Status.RETURNED
    assessment.return_comment = comment
    _log(assessment, supervisor, "returned", old, Status.RETURNED, comment=comment)
    record(
        "assessment_returned",
        supervisor,
        target=f"assessment:{assessment.id}",
        person=assessment.person_id,
        rated=progress(assessment).rated,
    )
    db.session.flush()
    notices.returned(assessment)


# ---- validation element by element, the values review and the sign-off --------------------


def _clear_drafts(assessment: Assessment) -> None:
    db.session.execute(
        delete(ValidationDraft).where(ValidationDraft.assessment_id == assessment.id)
    )


def _judge(
    element: Element,
    decisions: dict[int, Decision],
    selfs: dict[int, int],
    scale: frozenset[int] | set[int],
    before: dict[str, int],
) -> dict[str, str]:
    """The errors in one element's decisions, keyed by field, in page order. A comment is
    needed for a level other than the self-rating, and for one below the level validated
    before (`before`: skill key -> level), even when agreeing with the self-rating."""
    names = skill_names(element)
    refused: dict[str, str] = {}
    for skill in element.skills:
        decision = decisions.get(skill.id) or Decision(None)
        if decision.level is not None and decision.level not in scale:
            refused[f"level-{skill.id}"] = f"{names[skill.id]}: choose a level from the scale"
            continue
        if (decision.comment or "").strip():
            continue
        level = selfs.get(skill.id) if decision.level is None else decision.level
        if level is not None and level < before.get(skill.key, level):
            refused[f"comment-{skill.id}"] = lowered_message(
                names[skill.id], before[skill.key], level
            )
        elif decision.level is not None and decision.level != selfs.get(skill.id):
            refused[f"comment-{skill.id}"] = (
                f"{names[skill.id]}: add a comment to explain the different level"
            )
    return refused


def lowered_message(name: str, before: int, level: int) -> str:
    return (
        f"{name}: add a comment to explain lowering the level from {before}, validated "
        f"before, to {level}"
    )


def previous_levels(person_id: int) -> dict[str, int]:
    """The person's validated level of each skill before this validation, by skill key."""
    return dict(
        db.session.execute(
            select(CurrentRating.skill_key, CurrentRating.level).where(
                CurrentRating.person_id == person_id
            )
        ).all()
    )


def save_element_decisions(
    assessment: Assessment,
    supervisor: User,
    element: Element,
    decisions: dict[int, Decision],
    seen_version: int | None,
) -> None:
    """Save the supervisor's judgement of each skill of one element (agree, or a level with
    a comment); nothing is validated until the sign-off."""
    require_validator(assessment, supervisor)
    if element.version_id != assessment.framework_version_id:
        raise WorkflowError("That element is not part of this assessment's framework.", 404)
    scale = assessment.framework_version.settings.scale.values
    selfs = {r.skill_id: r.level for r in assessment.self_ratings}
    refused = _judge(element, decisions, selfs, scale, previous_levels(assessment.person_id))
    if refused:
        raise RatingError(refused)
    _touch(assessment, supervisor, seen_version)
    drafts = validation_drafts(assessment)
    now = utcnow()
    for skill in element.skills:
        decision = decisions.get(skill.id) or Decision(None)
        level = None if decision.level == selfs.get(skill.id) else decision.level
        comment = (decision.comment or "").strip()[:MAX_NOTE] or None
        draft = drafts.get(skill.id)
        if draft is None:
            db.session.add(
                ValidationDraft(
                    assessment_id=assessment.id,
                    skill_id=skill.id,
                    level=level,
                    comment=comment,
                    saved_by_id=supervisor.id,
                    saved_at=now,
                )
            )
        else:
            draft.level, draft.comment = level, comment
            draft.saved_by_id, draft.saved_at = supervisor.id, now
    db.session.flush()


def review_values(
    assessment: Assessment,
    supervisor: User,
    reviews: dict[int, tuple[str, str]],
    seen_version: int | None,
) -> None:
    """Record, per core value, "evidenced" or "discuss further" with a comment (a comment is
    needed to discuss further). Audited with counts only."""
    require_validator(assessment, supervisor)
    values = assessment.framework_version.values
    outcomes: dict[int, ValueReviewOutcome] = {}
    refused: dict[str, str] = {}
    for value in values:
        raw, comment = reviews.get(value.id, ("", ""))
        try:
            outcomes[value.id] = ValueReviewOutcome(raw)
        except ValueError:
            refused[f"outcome-{value.id}"] = f"{value.title}: choose evidenced or discuss further"
            continue
        if outcomes[value.id] is ValueReviewOutcome.DISCUSS and not (comment or "").strip():
            refused[f"note-{value.id}"] = f"{value.title}: say what to discuss further"
    if refused:
        raise RatingError(refused)
    _touch(assessment, supervisor, seen_version)
    existing = value_reviews(assessment)
    now = utcnow()
    for value in values:
        note = (reviews[value.id][1] or "").strip()[:MAX_NOTE] or None
        review = existing.get(value.id)
        if review is None:
            review = ValueReview(assessment_id=assessment.id, value_id=value.id)
            db.session.add(review)
        review.outcome, review.comment = outcomes[value.id], note
        review.reviewed_by_id, review.reviewed_at = supervisor.id, now
    evidenced = sum(1 for o in outcomes.values() if o is ValueReviewOutcome.EVIDENCED)
    _log(
        assessment,
        supervisor,
        "values reviewed",
        None,
        None,
        evidenced=evidenced,
        discuss=len(outcomes) - evidenced,
    )
    record(
        AuditAction.VALUES_REVIEWED,
        supervisor,
        target=f"assessment:{assessment.id}",
        person=assessment.person_id,
        evidenced=evidenced,
        discuss=len(outcomes) - evidenced,
    )
    db.session.flush()


def sign_off(assessment: Assessment, supervisor: User, seen_version: int | None) -> int:
    """Validate from the judgements saved element by element, once every element is saved
    and every core value's reflection reviewed; returns the number of skills validated."""
    require_validator(assessment, supervisor)
    state = validation_progress(assessment)
    missing: dict[str, str] = {}
    for element in elements_of(assessment.framework_version):
        if element.key not in state.reviewed:
            missing[f"element-{element.key}"] = (
                f"{element.display_name}: save your judgement of its skills"
            )
    if state.values_reviewed < state.values:
        missing["values"] = "Core values: review each reflection (evidenced or discuss further)"
    if missing:
        raise RatingError(missing)
    decisions = {
        skill_id: Decision(draft.level, draft.comment)
        for skill_id, draft in validation_drafts(assessment).items()
    }
    return validate(assessment, supervisor, decisions, seen_version)
