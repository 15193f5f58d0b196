"""Reminder sources: validations expiring in 60 and 30 days and expired, and shortlisters
with candidates left to mark (read-only). The supervision cycle's sources are in cycle.py;
recruitment's events (asked to score, ready for agreed scores, a panel invitation) are
notified when they happen, by recruitment.py's signal receivers.

Each is a window, not a day: see notifications/reminders.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from competency_app.accounts.models import User
from competency_app.assessments.models import CurrentRating
from competency_app.common.dates import LONDON
from competency_app.extensions import db
from competency_app.notifications import catalogue
from competency_app.notifications.reminders import Due, reminder_source
from competency_app.recruitment.models import ShortlistMark, Vacancy
from competency_app.recruitment.services import SHORTLISTING_STATES

WINDOWS = (60, 30)  # days before an expiry: one reminder in each window
EXPIRED_LOOKBACK = 30  # an expiry older than this is not announced (first run, restores)


def _expiries(today: date, earliest: date, latest: date) -> Iterator[tuple[int, date, int]]:
    """(person, expiry date in London, skills) for active people's validations."""
    rows = db.session.execute(
        select(CurrentRating.person_id, CurrentRating.expires_at, func.count())
        .join(User, User.id == CurrentRating.person_id)
        .where(User.active.is_(True))
        .where(CurrentRating.expires_at >= _start_of(earliest))
        .where(CurrentRating.expires_at < _start_of(latest + timedelta(days=1)))
        .group_by(CurrentRating.person_id, CurrentRating.expires_at)
    ).all()
    totals: dict[tuple[int, date], int] = {}
    for person_id, expires_at, count in rows:
        key = (person_id, expires_at.astimezone(LONDON).date())
        totals[key] = totals.get(key, 0) + count
    for (person_id, day), count in sorted(totals.items()):
        yield person_id, day, count


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LONDON)


@reminder_source(catalogue.VALIDATIONS_EXPIRING)
def validations_expiring(today: date) -> Iterator[Due]:
    for person_id, day, count in _expiries(
        today, today + timedelta(days=1), today + timedelta(days=WINDOWS[0])
    ):
        left = (day - today).days
        window = min(w for w in WINDOWS if left <= w)
        yield Due(
            person_id,
            f"validations:{window}",
            day,
            f"/people/{person_id}/profile",
            {"count": count, "days": window},
        )


@reminder_source(catalogue.VALIDATIONS_EXPIRED)
def validations_expired(today: date) -> Iterator[Due]:
    for person_id, day, count in _expiries(today, today - timedelta(days=EXPIRED_LOOKBACK), today):
        yield Due(person_id, "validations", day, f"/people/{person_id}/profile", {"count": count})


def _shortlisting_vacancies() -> list[Vacancy]:
    """Vacancies still being shortlisted (a later stage closes shortlisting)."""
    return list(
        db.session.scalars(
            select(Vacancy)
            .where(Vacancy.purged_at.is_(None), Vacancy.state.in_(SHORTLISTING_STATES))
            .order_by(Vacancy.id)
        )
    )


@reminder_source(catalogue.SHORTLISTING_REQUESTED)
def shortlisting_requested(today: date) -> Iterator[Due]:
    """Each shortlister who has not marked every candidate of a vacancy still being
    shortlisted, once per vacancy and closing date."""
    for vacancy in _shortlisting_vacancies():
        candidates = {c.id for c in vacancy.candidates}
        if not candidates:
            continue
        for person in vacancy.members("shortlister"):
            marked = set(
                db.session.scalars(
                    select(ShortlistMark.candidate_id)
                    .where(
                        ShortlistMark.shortlister_id == person.id,
                        ShortlistMark.candidate_id.in_(candidates),
                    )
                    .distinct()
                )
            )
            if person.active and marked != candidates:
                yield Due(
                    person.id,
                    f"vacancy:{vacancy.id}",
                    vacancy.closing_date,
                    f"/recruitment/{vacancy.id}",
                    {"vacancy": vacancy.title},
                )
