"""Assessment workflow: draft → submitted → validated, or returned → draft.

Every write checks who is asking and the assessment's state, compares the row version the
person was looking at (a stale copy raises `Conflict`), and appends history. Services flush;
the caller commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from competency_app.accounts.audit import AuditAction
from competency_app.accounts.models import User
from competency_app.accounts.permissions import supervises_id
from competency_app.accounts.services import record, record_many
from competency_app.assessments import notices
from competency_app.assessments.models import (
    Assessment,
    AssessmentEvent,
    CurrentRating,
    SelfRating,
    Status,
    ValidationDraft,
    ValueReflection,
    ValueReview,
    ValueReviewOutcome,
)
from competency_app.assessments.projection import write_ratings
from competency_app.assessments.queries import (  # noqa: F401 - re-exported for callers
    SKILL_TEXT_SHOWN,
    Progress,
    ValidationProgress,
    assessments_of,
    current_ratings,
    elements_of,
    history,
    open_assessment,
    progress,
    reflections_by_value,
    self_ratings_by_skill,
    skill_count,
    skill_name,
    skill_names,
    submitted_for,
    validated_by_skill,
    validation_drafts,
    validation_progress,
    value_reviews,
)
from competency_app.assessments.reworded import revalidation_cutoffs
from competency_app.assessments.signoff_reads import SignOffReads, read_for_signoff
from competency_app.clock import utcnow
from competency_app.common.dates import uk_datetime
from competency_app.extensions import db
from competency_app.framework.models import CoreValue, Element
from competency_app.framework.services import current_version, structure_of

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


# ---- writes -------------------------------------------------------------------------------


def _log(
    assessment: Assessment,
    actor: User,
    action: str,
    old: Status | None,
    new: Status | None,
    **detail,
) -> None:
    # a Core insert, built once: nothing reads the event back in this transaction
    db.session.connection().execute(
        _INSERT_EVENT,
        {
            "assessment_id": assessment.id,
            "at": utcnow(),
            "actor_id": actor.id,
            "action": action,
            "old_status": old.value if old else None,
            "new_status": new.value if new else None,
            "detail": detail,
        },
    )


_INSERT_EVENT = insert(cast(Table, AssessmentEvent.__table__))
_DRAFTS = cast(Table, ValidationDraft.__table__)
_CLEAR_DRAFTS = delete(_DRAFTS).where(_DRAFTS.c.assessment_id == bindparam("assessment_id"))


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


def require_validator(
    assessment: Assessment, supervisor: User, supervises: bool | None = None
) -> None:
    """Refuse (403/409) unless `supervisor` may validate `assessment` now (`supervises`:
    whether they supervise the person, when the caller has read it)."""
    if assessment.person_id == supervisor.id:
        raise WorkflowError("You cannot validate your own assessment.", 403)
    if supervises is None:
        supervises = supervises_id(supervisor, assessment.person_id)
    if not supervises:
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

    Everything is read in one statement (`signoff_reads`) and judged before anything is
    written; then one UPDATE of the assessment (version-checked: a concurrent sign-off waits
    on this row, then gets `Conflict`), the teams' coverage epoch, the history rows and the
    current-rating projection through `projection.write_ratings` (one multi-row INSERT, one
    INSERT ... SELECT upsert), the drafts cleared, and one insert each for the event, the
    audit record and the notice, all in this transaction; the teams' stored coverage
    figures are brought up to date by a job after the commit. Returns the number of skills
    validated.
    """
    reads = _signoff_reads(assessment, supervisor)
    require_validator(assessment, supervisor, reads.supervises)
    return _validate(assessment, supervisor, decisions, seen_version, reads)


def _signoff_reads(assessment: Assessment, supervisor: User) -> SignOffReads:
    return read_for_signoff(
        assessment.framework_version_id, assessment.id, assessment.person_id, supervisor.id
    )


def _validate(
    assessment: Assessment,
    supervisor: User,
    decisions: dict[int, Decision],
    seen_version: int | None,
    reads: SignOffReads,
) -> int:
    _require_seen(assessment, seen_version)
    version = structure_of(reads.version_key)
    scale = version.settings.scale.values
    now = utcnow()
    expires = version.settings.validity.valid_until(now)
    selfs = reads.selfs
    skills = {skill.id: (skill, e) for e in elements_of(version) for skill in e.skills}
    # An assessment of an earlier version: a skill reworded since with `revalidate: true`
    # is validated against wording that stopped counting then (`reworded.py`).
    cutoffs = revalidation_cutoffs(version, reads.latest_number)
    unknown = set(decisions) - set(skills)
    if unknown:
        raise WorkflowError("The validation names skills outside this assessment.", 400)

    def label(skill_id: int) -> str:  # named only in a refusal: not built for every skill
        return skill_names(skills[skill_id][1])[skill_id]

    before = reads.before
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
    _mark_validated(assessment, supervisor, now)
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
    notices.validated(assessment, reads.emails_off)
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
    db.session.connection().execute(_CLEAR_DRAFTS, {"assessment_id": assessment.id})


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


_ASSESSMENTS = cast(Table, Assessment.__table__)
_SIGNED_OFF = (
    "status",
    "validated_at",
    "validated_by_id",
    "updated_at",
    "updated_by_id",
    "row_version",
)
_VALIDATED = (
    update(_ASSESSMENTS)
    .where(
        _ASSESSMENTS.c.id == bindparam("assessment_id"),
        _ASSESSMENTS.c.row_version == bindparam("seen"),
    )
    .values({name: bindparam(f"new_{name}") for name in _SIGNED_OFF})
)


def _mark_validated(assessment: Assessment, supervisor: User, now) -> None:
    """`_touch` with the new status, as one version-checked UPDATE built once (the ORM's
    flush of one row costs more than the statement); the loaded object is given the new
    values as the database's, so nothing is written twice."""
    changes = {
        "status": Status.VALIDATED,
        "validated_at": now,
        "validated_by_id": supervisor.id,
        "updated_at": now,
        "updated_by_id": supervisor.id,
        "row_version": assessment.row_version + 1,
    }
    result = db.session.connection().execute(
        _VALIDATED,
        {
            "assessment_id": assessment.id,
            "seen": assessment.row_version,
            **{f"new_{name}": value for name, value in changes.items()},
        },
    )
    if result.rowcount != 1:
        raise Conflict(assessment)
    for name, value in changes.items():
        set_committed_value(assessment, name, value)
    db.session.expire(assessment, ["validated_by", "updated_by"])


def sign_off(assessment: Assessment, supervisor: User, seen_version: int | None) -> int:
    """Validate from the judgements saved element by element, once every element is saved
    and every core value's reflection reviewed; returns the number of skills validated."""
    reads = _signoff_reads(assessment, supervisor)
    require_validator(assessment, supervisor, reads.supervises)
    version = structure_of(reads.version_key)
    missing: dict[str, str] = {}
    for element in elements_of(version):
        if not all(skill.id in reads.drafts for skill in element.skills):
            missing[f"element-{element.key}"] = (
                f"{element.display_name}: save your judgement of its skills"
            )
    if reads.values_reviewed < len(version.values):
        missing["values"] = "Core values: review each reflection (evidenced or discuss further)"
    if missing:
        raise RatingError(missing)
    decisions = {
        skill_id: Decision(level, comment) for skill_id, (level, comment) in reads.drafts.items()
    }
    return _validate(assessment, supervisor, decisions, seen_version, reads)
