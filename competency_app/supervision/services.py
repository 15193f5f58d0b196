"""Scheduling supervision, the review cycle's due dates, and the supervision record.

Writes flush and never commit (the caller wraps them in `unit_of_work()`); refusals raise
`SupervisionError` naming the form field they are about.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from competency_app.accounts.audit import AuditAction
from competency_app.accounts.models import Role, RoleAssignment, User
from competency_app.accounts.permissions import supervises
from competency_app.accounts.services import record, supervisor_of
from competency_app.assessments.models import (
    Assessment,
    AssessmentEvent,
    CurrentRating,
    Status,
    ValidatedRating,
    ValueReflection,
    ValueReview,
)
from competency_app.clock import utcnow
from competency_app.common.dates import LONDON, london_day
from competency_app.extensions import db
from competency_app.framework.models import CoreValue, Element, FrameworkVersion, Skill
from competency_app.framework.schema import SupervisionPrompt
from competency_app.supervision.models import (
    PromptNote,
    SessionAssignment,
    SessionKind,
    SupervisionGroup,
    SupervisionSchedule,
    SupervisionSession,
)
from competency_app.supervision.permissions import can_schedule_for
from competency_app.training.models import TrainingAssignment
from competency_app.training.services import assign_module

MAX_TEXT = 5000
MAX_PLACE = 200
MAX_EVERY_WEEKS = 52
MAX_SESSIONS = 26


class SupervisionError(ValueError):
    """A refused scheduling or record change; `field` names the form field it is about."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


# ---- times ---------------------------------------------------------------------------------


def starts_at(day: date, at: time) -> datetime:
    """A London wall-clock date and time as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


def _end_of_london_day(day: date) -> datetime:
    return starts_at(day + timedelta(days=1), time(0, 0))


def _clean(text: str | None, limit: int) -> str | None:
    return (text or "").strip()[:limit] or None


# ---- scheduling ----------------------------------------------------------------------------


def supervisor_for(person: User, actor: User) -> User:
    """Who runs the person's sessions: the actor when they supervise the person, otherwise
    the person's supervisor (a manager schedules for the supervisor)."""
    if supervises(actor, person):
        return actor
    supervisor = supervisor_of(person)
    if supervisor is None:
        raise SupervisionError(
            f"{person.name} has no supervisor yet: link one before scheduling supervision",
            "day",
        )
    return supervisor


def _check_future(moment: datetime) -> None:
    if moment <= utcnow():
        raise SupervisionError("The session must start in the future", "day")


def schedule_sessions(
    person: User,
    actor: User,
    day: date,
    at: time,
    *,
    place: str | None = None,
    notes: str | None = None,
    every_weeks: int | None = None,
    sessions: int | None = None,
) -> list[SupervisionSession]:
    """Book a session for `person` on `day` at `at` (London time); with `every_weeks`, a
    schedule of `sessions` sessions that many weeks apart, at the same local time."""
    first = starts_at(day, at)
    _check_future(first)
    schedule = None
    count = 1
    if every_weeks is not None:
        if not 1 <= every_weeks <= MAX_EVERY_WEEKS:
            raise SupervisionError(
                f"Repeat every 1 to {MAX_EVERY_WEEKS} weeks, or choose not to repeat",
                "every_weeks",
            )
        if sessions is None or not 2 <= sessions <= MAX_SESSIONS:
            raise SupervisionError(
                f"A repeating schedule books 2 to {MAX_SESSIONS} sessions", "sessions"
            )
        count = sessions
    supervisor = supervisor_for(person, actor)
    now = utcnow()
    if every_weeks is not None:
        schedule = SupervisionSchedule(
            supervisee_id=person.id,
            every_weeks=every_weeks,
            sessions=count,
            created_at=now,
            created_by_id=actor.id,
        )
        db.session.add(schedule)
        db.session.flush()
    booked = []
    for number in range(count):
        session_day = day + timedelta(weeks=(every_weeks or 0) * number)
        session = SupervisionSession(
            supervisee_id=person.id,
            supervisor_id=supervisor.id,
            starts_at=starts_at(session_day, at),
            place=_clean(place, MAX_PLACE),
            notes=_clean(notes, MAX_TEXT),
            schedule_id=schedule.id if schedule else None,
            created_at=now,
            created_by_id=actor.id,
        )
        db.session.add(session)
        booked.append(session)
    db.session.flush()
    record(
        AuditAction.SUPERVISION_SCHEDULED,
        actor,
        target=f"user:{person.id}",
        sessions=count,
        first=booked[0].id,
        schedule=schedule.id if schedule else None,
    )
    return booked


def schedule_group(
    people: list[User],
    actor: User,
    kind: str,
    day: date,
    at: time,
    *,
    kinds_held: tuple[str, ...],
    place: str | None = None,
    notes: str | None = None,
    led_by: User | None = None,
) -> list[SupervisionSession]:
    """Book one peer or group session for several supervisees: a session (and so a record)
    each, with each person's own supervisor, tied together by a `SupervisionGroup`.

    `led_by` names who leads it when that is not the person booking it: for peer
    supervision, a fellow practitioner among those attending. Leading gives no access to
    the others' records (each stays private to its supervisee and their supervisor)."""
    if kind not in (SessionKind.PEER, SessionKind.GROUP):
        raise SupervisionError("Choose peer supervision or group supervision", "kind")
    if kind not in kinds_held:
        raise SupervisionError(
            f"This service does not hold {SessionKind.LABELS[kind].lower()} sessions", "kind"
        )
    distinct = list({person.id: person for person in people}.values())
    if len(distinct) < 2:
        raise SupervisionError("Choose at least two people for the session", "people")
    for person in distinct:
        if not can_schedule_for(actor, person):
            raise SupervisionError(f"You cannot book supervision for {person.name}", "people")
    attending = {p.id for p in distinct}
    if (
        led_by is not None
        and led_by.id != actor.id
        and (kind != SessionKind.PEER or led_by.id not in attending)
    ):
        raise SupervisionError(
            "Peer supervision may be led by one of the people attending; "
            "group supervision is led by you",
            "led_by",
        )
    first = starts_at(day, at)
    _check_future(first)
    supervisors = {person.id: supervisor_for(person, actor) for person in distinct}
    now = utcnow()
    group = SupervisionGroup(kind=kind, created_at=now, created_by_id=actor.id)
    db.session.add(group)
    db.session.flush()
    leader = led_by or actor
    booked = []
    for person in distinct:
        supervisor = supervisors[person.id]
        session = SupervisionSession(
            supervisee_id=person.id,
            supervisor_id=supervisor.id,
            starts_at=first,
            place=_clean(place, MAX_PLACE),
            notes=_clean(notes, MAX_TEXT),
            kind=kind,
            group_id=group.id,
            led_by_id=leader.id if leader.id != supervisor.id else None,
            created_at=now,
            created_by_id=actor.id,
        )
        db.session.add(session)
        booked.append(session)
    db.session.flush()
    for session in booked:
        record(
            AuditAction.SUPERVISION_SCHEDULED,
            actor,
            target=f"user:{session.supervisee_id}",
            sessions=1,
            first=session.id,
            kind=kind,
            group=group.id,
        )
    return booked


def _require_open(session: SupervisionSession) -> None:
    if session.cancelled:
        raise SupervisionError("This session has been cancelled", "day")


def reschedule(
    session: SupervisionSession,
    actor: User,
    day: date,
    at: time,
    place: str | None = None,
) -> None:
    """Move a session to another date and time (London) and place."""
    _require_open(session)
    moment = starts_at(day, at)
    _check_future(moment)
    session.starts_at = moment
    session.place = _clean(place, MAX_PLACE)
    db.session.flush()
    record(AuditAction.SUPERVISION_RESCHEDULED, actor, target=f"session:{session.id}")


def cancel(session: SupervisionSession, actor: User, *, rest_of_schedule: bool = False) -> int:
    """Cancel the session (and, asked, the later sessions of its schedule); returns how
    many sessions were cancelled."""
    _require_open(session)
    targets = [session]
    if rest_of_schedule and session.schedule_id is not None:
        targets += list(
            db.session.scalars(
                select(SupervisionSession).where(
                    SupervisionSession.schedule_id == session.schedule_id,
                    SupervisionSession.starts_at > session.starts_at,
                    SupervisionSession.cancelled_at.is_(None),
                )
            )
        )
    now = utcnow()
    for target in targets:
        target.cancelled_at = now
        target.cancelled_by_id = actor.id
    db.session.flush()
    record(
        AuditAction.SUPERVISION_CANCELLED,
        actor,
        target=f"session:{session.id}",
        sessions=len(targets),
    )
    return len(targets)


def record_actions(
    session: SupervisionSession,
    actor: User,
    text: str,
    notes: dict[str, str] | None = None,
    prompts: tuple[SupervisionPrompt, ...] = (),
) -> None:
    """The actions agreed in the session, as free text (blank clears them), and what was
    said on each discussion prompt (`notes` by prompt id; a prompt left out of `notes` is
    left as it was, a blank note is removed). Audited without the text."""
    _require_open(session)
    session.agreed_actions = _clean(text, MAX_TEXT)
    titles = {prompt.id: prompt.title for prompt in prompts}
    for prompt_id in notes or {}:
        if prompt_id not in titles:
            raise SupervisionError(
                "That discussion prompt is not in the framework", "agreed_actions"
            )
    existing = prompt_notes(session)
    now = utcnow()
    for prompt_id, typed in (notes or {}).items():
        cleaned = _clean(typed, MAX_TEXT)
        note = existing.get(prompt_id)
        if cleaned is None:
            if note is not None:
                db.session.delete(note)
        elif note is None:
            db.session.add(
                PromptNote(
                    session_id=session.id,
                    prompt_id=prompt_id,
                    title=titles[prompt_id],
                    text=cleaned,
                    updated_at=now,
                    updated_by_id=actor.id,
                )
            )
        elif note.text != cleaned:
            note.text, note.title = cleaned, titles[prompt_id]
            note.updated_at, note.updated_by_id = now, actor.id
    db.session.flush()
    record(
        AuditAction.SUPERVISION_ACTIONS_RECORDED,
        actor,
        target=f"session:{session.id}",
        written=session.agreed_actions is not None,
        prompts=len(prompt_notes(session)),
    )


def prompt_notes(session: SupervisionSession) -> dict[str, PromptNote]:
    """The session's notes, by prompt id."""
    return {
        note.prompt_id: note
        for note in db.session.scalars(
            select(PromptNote).where(PromptNote.session_id == session.id).order_by(PromptNote.id)
        )
    }


def assign_in_session(
    session: SupervisionSession,
    actor: User,
    module_key: str,
    due_on: date,
    version: FrameworkVersion,
    note: str | None = None,
    *,
    confirmed: bool = False,
) -> TrainingAssignment:
    """Assign a module to the supervisee as an action of this session (training's
    `assign_module` checks the module, the date and an in-date completion, and audits it)."""
    _require_open(session)
    assignment = assign_module(
        session.supervisee,
        module_key,
        due_on,
        actor,
        version,
        note=_clean(note, MAX_TEXT),
        confirmed=confirmed,
    )
    db.session.add(SessionAssignment(session_id=session.id, assignment_id=assignment.id))
    db.session.flush()
    return assignment


def record_downloaded(session: SupervisionSession, actor: User) -> None:
    """Audit a download of the session's record (personal data leaving the app)."""
    record(AuditAction.EXPORT, actor, target=f"session:{session.id}", file="supervision-record.pdf")


# ---- queries -------------------------------------------------------------------------------


def sessions_of(person: User) -> list[SupervisionSession]:
    """Every session of the person, cancelled ones included, soonest first."""
    return list(
        db.session.scalars(
            select(SupervisionSession)
            .where(SupervisionSession.supervisee_id == person.id)
            .order_by(SupervisionSession.starts_at, SupervisionSession.id)
        )
    )


def _booked(person_id: int):
    return select(SupervisionSession).where(
        SupervisionSession.supervisee_id == person_id,
        SupervisionSession.cancelled_at.is_(None),
    )


def next_session(person: User, now: datetime | None = None) -> SupervisionSession | None:
    """The person's next session not cancelled that has not started yet."""
    return db.session.scalar(
        _booked(person.id)
        .where(SupervisionSession.starts_at > (now or utcnow()))
        .order_by(SupervisionSession.starts_at)
        .limit(1)
    )


def upcoming_for(people: list[User], now: datetime, limit: int = 10) -> list[SupervisionSession]:
    """The next sessions of `people`, soonest first."""
    if not people:
        return []
    return list(
        db.session.scalars(
            select(SupervisionSession)
            .where(
                SupervisionSession.supervisee_id.in_([p.id for p in people]),
                SupervisionSession.cancelled_at.is_(None),
                SupervisionSession.starts_at > now,
            )
            .order_by(SupervisionSession.starts_at)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class SinceLast:
    """How long since a person's last supervision held (of any kind, not cancelled)."""

    person: User
    last: datetime | None  # None: none held yet (counted from when their account opened)
    weeks: int
    overdue: bool  # more weeks than the framework file's alert_after_weeks


def since_last_supervision(
    people: list[User], version: FrameworkVersion, now: datetime
) -> list[SinceLast]:
    """Per person, weeks since their last supervision; the longest first."""
    if not people:
        return []
    last = dict(
        db.session.execute(
            select(SupervisionSession.supervisee_id, func.max(SupervisionSession.starts_at))
            .where(
                SupervisionSession.supervisee_id.in_([p.id for p in people]),
                SupervisionSession.cancelled_at.is_(None),
                SupervisionSession.starts_at <= now,
            )
            .group_by(SupervisionSession.supervisee_id)
        ).all()
    )
    limit = version.settings.supervision.alert_after_weeks
    today = london_day(now)
    result = []
    for person in people:
        held = last.get(person.id)
        since = held if held is not None else person.created_at
        weeks = max(0, (today - london_day(since)).days // 7) if since else 0
        result.append(SinceLast(person, held, weeks, weeks > limit))
    result.sort(key=lambda s: (-s.weeks, s.person.name))
    return result


class ReviewState(enum.StrEnum):
    NO_SESSION = "no_session"  # a review is needed but no session is booked for it
    DUE = "due"  # the self-assessment is due by `due_on`
    OVERDUE = "overdue"  # `due_on` has passed and nothing was submitted
    SUBMITTED = "submitted"  # submitted, waiting for the supervisor
    NOT_DUE = "not_due"  # the next review is after every booked session


@dataclass(frozen=True)
class Review:
    """Where a person stands in the competency review cycle."""

    person: User
    state: ReviewState
    review_due: datetime | None  # None: never validated, a review is due now
    session: SupervisionSession | None  # the session that needs the self-assessment
    due_on: date | None  # the day the self-assessment is due
    open_assessment: Assessment | None

    @property
    def overdue(self) -> bool:
        return self.state is ReviewState.OVERDUE

    def days_overdue(self, today: date) -> int:
        return (today - self.due_on).days if self.due_on else 0


def review_of(person: User, version: FrameworkVersion, now: datetime | None = None) -> Review:
    """The person's review: due `review_cycle_months` after their last validation (now, if
    never validated); the first booked session on or after that needs a self-assessment,
    due `self_assessment_due_days` before the session's day."""
    now = now or utcnow()
    cycle = version.settings.review_cycle
    last = db.session.scalar(
        select(func.max(Assessment.validated_at)).where(
            Assessment.person_id == person.id, Assessment.status == Status.VALIDATED
        )
    )
    review_due = cycle.review_due(last) if last is not None else None
    open_assessment = db.session.scalar(
        select(Assessment).where(
            Assessment.person_id == person.id, Assessment.status != Status.VALIDATED
        )
    )
    statement = _booked(person.id).order_by(SupervisionSession.starts_at).limit(1)
    if review_due is not None:
        statement = statement.where(SupervisionSession.starts_at >= review_due)
    session = db.session.scalar(statement)
    due_on = cycle.self_assessment_due(london_day(session.starts_at)) if session else None
    if open_assessment is not None and open_assessment.status == Status.SUBMITTED:
        state = ReviewState.SUBMITTED
    elif session is None:
        has_later = review_due is not None and review_due > now
        state = ReviewState.NOT_DUE if has_later else ReviewState.NO_SESSION
    else:
        assert due_on is not None  # set with the session
        state = ReviewState.OVERDUE if london_day(now) > due_on else ReviewState.DUE
    return Review(person, state, review_due, session, due_on, open_assessment)


def reviews_of(people: list[User], version: FrameworkVersion, now: datetime) -> list[Review]:
    return [review_of(person, version, now) for person in people]


def waiting_validations(people: list[User]) -> list[Assessment]:
    """Submitted assessments of `people`, the longest waiting first."""
    if not people:
        return []
    return list(
        db.session.scalars(
            select(Assessment)
            .where(
                Assessment.person_id.in_([p.id for p in people]),
                Assessment.status == Status.SUBMITTED,
            )
            .order_by(Assessment.submitted_at)
        )
    )


@dataclass(frozen=True)
class Expiry:
    person_id: int
    first: datetime  # the earliest expiry in the window (or already passed)
    skills: int


def expiring_validations(people: list[User], version: FrameworkVersion, now: datetime):
    """Per person, validated skills expired or expiring within the expiring-soon window,
    the earliest first."""
    if not people:
        return []
    until = now + version.settings.expiring_soon
    rows = db.session.execute(
        select(CurrentRating.person_id, func.min(CurrentRating.expires_at), func.count())
        .where(
            CurrentRating.person_id.in_([p.id for p in people]),
            CurrentRating.expires_at <= until,
        )
        .group_by(CurrentRating.person_id)
        .order_by(func.min(CurrentRating.expires_at))
    ).all()
    return [Expiry(person_id, first, count) for person_id, first, count in rows]


def team_practitioners(manager: User) -> list[User]:
    """Active keyworkers of the teams `manager` manages, by name."""
    team_ids = manager.team_ids(Role.MANAGER)
    if not team_ids:
        return []
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.active,
                User.id.in_(
                    select(RoleAssignment.user_id).where(
                        RoleAssignment.team_id.in_(team_ids),
                        RoleAssignment.role == Role.PRACTITIONER,
                    )
                ),
            )
            .order_by(User.name)
        )
    )


# ---- the supervision record ----------------------------------------------------------------


@dataclass(frozen=True)
class LevelChange:
    element: Element
    skill: Skill
    self_level: int
    level: int
    comment: str | None


@dataclass(frozen=True)
class ValueLine:
    value: CoreValue
    reflection: str | None
    review: ValueReview | None


@dataclass(frozen=True)
class DiscussionLine:
    """One section of the record: a discussion prompt and what was said on it."""

    prompt_id: str
    title: str
    text: str | None  # the prompt's text (None for a prompt the framework no longer has)
    source: str | None
    note: str | None


def discussion_of(
    session: SupervisionSession, prompts: tuple[SupervisionPrompt, ...]
) -> list[DiscussionLine]:
    """A line per prompt of the framework, in its order, then any note on a prompt the
    framework has dropped since (under the title it had)."""
    notes = prompt_notes(session)
    lines = [
        DiscussionLine(p.id, p.title, p.text, p.source, notes[p.id].text if p.id in notes else None)
        for p in prompts
    ]
    known = {p.id for p in prompts}
    lines += [
        DiscussionLine(n.prompt_id, n.title, None, None, n.text)
        for n in notes.values()
        if n.prompt_id not in known
    ]
    return lines


@dataclass
class SupervisionRecord:
    session: SupervisionSession
    discussion: list[DiscussionLine] = field(default_factory=list)
    assessment: Assessment | None = None
    outcome: str | None = None  # "validated" or "returned"
    outcome_at: datetime | None = None
    return_comment: str | None = None
    changes: list[LevelChange] = field(default_factory=list)
    values: list[ValueLine] = field(default_factory=list)
    assignments: list[TrainingAssignment] = field(default_factory=list)
    next_session: SupervisionSession | None = None


def _outcome_event(session: SupervisionSession) -> AssessmentEvent | None:
    """The latest validation or return of the supervisee's assessment since the previous
    session's day, up to the end of this session's day (London)."""
    previous = db.session.scalar(
        _booked(session.supervisee_id)
        .where(SupervisionSession.starts_at < session.starts_at)
        .order_by(SupervisionSession.starts_at.desc())
        .limit(1)
    )
    statement = (
        select(AssessmentEvent)
        .join(Assessment, Assessment.id == AssessmentEvent.assessment_id)
        .where(
            Assessment.person_id == session.supervisee_id,
            AssessmentEvent.action.in_(("validated", "returned")),
            AssessmentEvent.at < _end_of_london_day(london_day(session.starts_at)),
        )
        .order_by(AssessmentEvent.at.desc(), AssessmentEvent.id.desc())
        .limit(1)
    )
    if previous is not None:
        statement = statement.where(
            AssessmentEvent.at >= _end_of_london_day(london_day(previous.starts_at))
        )
    return db.session.scalar(statement)


def record_of(session: SupervisionSession, version: FrameworkVersion) -> SupervisionRecord:
    """Everything the supervision record page and its print show for one session."""
    result = SupervisionRecord(
        session, discussion_of(session, version.settings.supervision.prompts)
    )
    event = _outcome_event(session)
    if event is not None:
        assessment = db.session.get_one(Assessment, event.assessment_id)
        result.assessment, result.outcome, result.outcome_at = assessment, event.action, event.at
        if event.action == "returned":
            result.return_comment = (event.detail or {}).get("comment")
        else:
            rows = db.session.execute(
                select(ValidatedRating, Skill, Element)
                .join(Skill, Skill.id == ValidatedRating.skill_id)
                .join(Element, Element.id == Skill.element_id)
                .where(
                    ValidatedRating.assessment_id == assessment.id,
                    ValidatedRating.level != ValidatedRating.self_level,
                )
                .order_by(Element.id, Skill.id)
            ).all()
            result.changes = [
                LevelChange(element, skill, rating.self_level, rating.level, rating.comment)
                for rating, skill, element in rows
            ]
        reflections = {
            r.value_id: r.text
            for r in db.session.scalars(
                select(ValueReflection).where(ValueReflection.assessment_id == assessment.id)
            )
        }
        reviews = {
            r.value_id: r
            for r in db.session.scalars(
                select(ValueReview).where(ValueReview.assessment_id == assessment.id)
            )
        }
        result.values = [
            ValueLine(value, reflections.get(value.id), reviews.get(value.id))
            for value in assessment.framework_version.values
        ]
    result.assignments = list(
        db.session.scalars(
            select(TrainingAssignment)
            .join(SessionAssignment, SessionAssignment.assignment_id == TrainingAssignment.id)
            .where(SessionAssignment.session_id == session.id)
            .order_by(TrainingAssignment.due_on, TrainingAssignment.id)
        )
    )
    result.next_session = db.session.scalar(
        _booked(session.supervisee_id)
        .where(SupervisionSession.starts_at > session.starts_at)
        .order_by(SupervisionSession.starts_at)
        .limit(1)
    )
    return result
