"""The reminder sources whose data exists today: validations expiring in 60 and 30 days and
expired, and recruitment panels (shortlisting, interview scores, agreed scores), read-only.

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
from competency_app.recruitment.models import (
    AgreedScore,
    InterviewSubmission,
    ShortlistMark,
    Vacancy,
)
from competency_app.recruitment.services import shortlist_results

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


def _open_vacancies() -> list[Vacancy]:
    return list(
        db.session.scalars(select(Vacancy).where(Vacancy.purged_at.is_(None)).order_by(Vacancy.id))
    )


@reminder_source(catalogue.SHORTLISTING_REQUESTED)
def shortlisting_requested(today: date) -> Iterator[Due]:
    """Each shortlister who has not marked every candidate, once per vacancy."""
    for vacancy in _open_vacancies():
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


def _interview_state(vacancy: Vacancy) -> tuple[set[int], dict[int, set[int]], set[int]]:
    """Candidates going forward; for each interviewer, the ones they have submitted; the
    forward candidates with agreed scores."""
    forward = {r.candidate.id for r in shortlist_results(vacancy) if r.goes_forward}
    submitted: dict[int, set[int]] = {p.id: set() for p in vacancy.members("interviewer")}
    agreed: set[int] = set()
    if forward:
        for candidate_id, member_id in db.session.execute(
            select(InterviewSubmission.candidate_id, InterviewSubmission.panel_member_id).where(
                InterviewSubmission.candidate_id.in_(forward)
            )
        ):
            submitted.setdefault(member_id, set()).add(candidate_id)
        agreed = set(
            db.session.scalars(
                select(AgreedScore.candidate_id).where(AgreedScore.candidate_id.in_(forward))
            )
        )
    return forward, submitted, agreed


@reminder_source(catalogue.SCORES_REQUESTED)
def scores_requested(today: date) -> Iterator[Due]:
    """Each interviewer who has not submitted scores for every candidate going forward."""
    for vacancy in _open_vacancies():
        forward, submitted, _agreed = _interview_state(vacancy)
        if not forward:
            continue
        for person in vacancy.members("interviewer"):
            if person.active and not forward <= submitted.get(person.id, set()):
                yield Due(
                    person.id,
                    f"vacancy:{vacancy.id}",
                    vacancy.closing_date,
                    f"/recruitment/{vacancy.id}",
                    {"vacancy": vacancy.title},
                )


@reminder_source(catalogue.AGREED_SCORES_READY)
def agreed_scores_ready(today: date) -> Iterator[Due]:
    """The chair, once every interviewer has submitted and agreed scores are missing."""
    for vacancy in _open_vacancies():
        forward, submitted, agreed = _interview_state(vacancy)
        interviewers = vacancy.members("interviewer")
        if not forward or not interviewers or forward <= agreed:
            continue
        if all(forward <= submitted.get(p.id, set()) for p in interviewers):
            for chair in vacancy.members("chair"):
                if chair.active:
                    yield Due(
                        chair.id,
                        f"vacancy:{vacancy.id}",
                        vacancy.closing_date,
                        f"/recruitment/{vacancy.id}/ranking",
                        {"vacancy": vacancy.title},
                    )
