"""Reminder sources of the supervision cycle: the self-assessment due soon and overdue
(from `supervision.services.review_of`), supervision tomorrow (to both people), required
training expiring in 60 and 30 days and expired (from `training.required`).

Each is a window, not a day (see notifications/reminders.py): a run after missed days
catches up with each reminder once; what is no longer relevant is not sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from competency_app.accounts.models import User
from competency_app.common.dates import LONDON, london_day, uk_datetime
from competency_app.extensions import db
from competency_app.framework.services import current_version
from competency_app.notifications import catalogue
from competency_app.notifications.reminders import Due, reminder_source
from competency_app.reminders.sources import EXPIRED_LOOKBACK, WINDOWS
from competency_app.supervision.models import SupervisionSession
from competency_app.supervision.services import ReviewState, review_of
from competency_app.training.required import OVERDUE, organisation_keyworkers, standings_for

# The self-assessment reminder goes this many days before it is due.
SELF_ASSESSMENT_NOTICE_DAYS = 7


def _noon(day: date) -> datetime:
    """A moment on `day` in London (review_of judges due and overdue by London days)."""
    return datetime.combine(day, time(12, 0), tzinfo=LONDON)


def _supervisees(today: date) -> list[User]:
    """Active people with a session booked (not cancelled) recently enough to matter."""
    since = datetime.combine(today - timedelta(days=EXPIRED_LOOKBACK + 366), time.min, LONDON)
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.active,
                User.id.in_(
                    select(SupervisionSession.supervisee_id).where(
                        SupervisionSession.cancelled_at.is_(None),
                        SupervisionSession.starts_at >= since,
                    )
                ),
            )
            .order_by(User.id)
        )
    )


def _assessment_link(review) -> str:
    if review.open_assessment is not None:
        return f"/assessments/{review.open_assessment.id}"
    return "/assessments"


def _reviews(today: date):
    version = current_version()
    if version is None:
        return
    for person in _supervisees(today):
        review = review_of(person, version, _noon(today))
        if review.session is not None and review.due_on is not None:
            yield review


@reminder_source(catalogue.SELF_ASSESSMENT_DUE)
def self_assessment_due(today: date) -> Iterator[Due]:
    """Due within the notice days and not submitted (an overdue one gets its own kind)."""
    for review in _reviews(today):
        assert review.session is not None and review.due_on is not None
        left = (review.due_on - today).days
        if review.state is ReviewState.DUE and left <= SELF_ASSESSMENT_NOTICE_DAYS:
            yield Due(
                review.person.id,
                f"self_assessment:session:{review.session.id}",
                review.due_on,
                _assessment_link(review),
            )


@reminder_source(catalogue.SELF_ASSESSMENT_OVERDUE)
def self_assessment_overdue(today: date) -> Iterator[Due]:
    """Past its due date without a submission; not announced once long past."""
    for review in _reviews(today):
        assert review.session is not None and review.due_on is not None
        late = (today - review.due_on).days
        if review.state is ReviewState.OVERDUE and late <= EXPIRED_LOOKBACK:
            yield Due(
                review.person.id,
                f"self_assessment:session:{review.session.id}",
                review.due_on,
                _assessment_link(review),
            )


@reminder_source(catalogue.SUPERVISION_TOMORROW)
def supervision_tomorrow(today: date) -> Iterator[Due]:
    """Sessions on tomorrow's London day, to the supervisee and the supervisor. A session
    already begun is not announced (a missed run cannot say "tomorrow" any more)."""
    tomorrow = today + timedelta(days=1)
    start = datetime.combine(tomorrow, time.min, LONDON)
    end = datetime.combine(tomorrow + timedelta(days=1), time.min, LONDON)
    sessions = db.session.scalars(
        select(SupervisionSession)
        .where(
            SupervisionSession.cancelled_at.is_(None),
            SupervisionSession.starts_at >= start,
            SupervisionSession.starts_at < end,
        )
        .order_by(SupervisionSession.starts_at, SupervisionSession.id)
    )
    for session in sessions:
        day = london_day(session.starts_at)
        at = uk_datetime(session.starts_at).rpartition(" at ")[2]  # "10:00am", London
        link = f"/supervision/sessions/{session.id}"
        pairs = (
            (session.supervisee, session.supervisor),
            (session.supervisor, session.supervisee),
        )
        for person, other in pairs:
            if person.active:
                yield Due(
                    person.id,
                    f"session:{session.id}",
                    day,
                    link,
                    {"time": at, "with_whom": f" with {other.name}"},
                )


def _training(today: date):
    """(person, module, expiry) of every keyworker's required module with a refresh date."""
    version = current_version()
    if version is None:
        return
    people = organisation_keyworkers(_noon(today))
    for standing in standings_for(people, version, today).values():
        if standing.expires_on is not None:
            yield standing


@reminder_source(catalogue.TRAINING_EXPIRING)
def training_expiring(today: date) -> Iterator[Due]:
    """One reminder in each window (60 days, then 30) before a required module's refresh."""
    for standing in _training(today):
        assert standing.expires_on is not None
        left = (standing.expires_on - today).days
        if 0 < left <= WINDOWS[0]:
            window = min(w for w in WINDOWS if left <= w)
            yield Due(
                standing.person.id,
                f"training:{standing.module.key}:{window}",
                standing.expires_on,
                f"/people/{standing.person.id}/development",
                {"module": standing.module.title, "days": window},
            )


@reminder_source(catalogue.TRAINING_EXPIRED)
def training_expired(today: date) -> Iterator[Due]:
    """A required module past its refresh date (not announced once long past)."""
    for standing in _training(today):
        assert standing.expires_on is not None
        if standing.status == OVERDUE and (today - standing.expires_on).days <= EXPIRED_LOOKBACK:
            yield Due(
                standing.person.id,
                f"training:{standing.module.key}",
                standing.expires_on,
                f"/people/{standing.person.id}/development",
                {"module": standing.module.title},
            )
