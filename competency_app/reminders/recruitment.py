"""Recruitment's events, notified when they happen: recruitment sends its signals
(`recruitment/signals.py`) inside the transaction of the change, and these receivers write
the notifications into the outbox in that same transaction (emailed after the commit).

- the vacancy moved to interviewing → each interview panel member is asked to score;
- every panel member has submitted for a candidate → the chair is told the scores are
  ready to agree;
- a lay or expert-by-experience member is invited → their invitation email, carrying
  the one-time link (never stored: sent by its own job, like set-your-password links).

Shortlisting has no single moment (candidates arrive over time), so it stays a daily
reminder source (`sources.py`).
"""

from __future__ import annotations

from competency_app.clock import today
from competency_app.extensions import db
from competency_app.notifications import catalogue
from competency_app.notifications.services import notify, notify_many, send_password_links
from competency_app.recruitment import signals
from competency_app.recruitment.models import Candidate, Vacancy


def asked_to_score(_sender, *, vacancy_id: int, user_ids: list[int], **_extra) -> None:
    vacancy = db.session.get_one(Vacancy, vacancy_id)
    active = [user.id for user in vacancy.members("interviewer") if user.active]
    notify_many(
        [uid for uid in user_ids if uid in active],
        catalogue.SCORES_REQUESTED,
        f"vacancy:{vacancy.id}",
        today(),
        f"/recruitment/{vacancy.id}",
        vacancy=vacancy.title,
    )


def ready_to_agree(
    _sender, *, vacancy_id: int, candidate_id: int, chair_ids: list[int], **_extra
) -> None:
    vacancy = db.session.get_one(Vacancy, vacancy_id)
    candidate = db.session.get_one(Candidate, candidate_id)
    chairs = {user.id for user in vacancy.members("chair") if user.active}
    for chair_id in chair_ids:
        if chair_id in chairs:
            notify(
                chair_id,
                catalogue.AGREED_SCORES_READY,
                f"candidate:{candidate.id}",
                today(),
                f"/recruitment/{vacancy.id}/ranking",
                vacancy=vacancy.title,
                reference=candidate.reference,
            )


def invited(_sender, *, vacancy_id: int, user_id: int, link: str, **_extra) -> None:
    vacancy = db.session.get_one(Vacancy, vacancy_id)
    send_password_links(
        {user_id: link},
        lambda url: url,
        catalogue.PANEL_INVITATION,
        f"vacancy:{vacancy.id}:link",
        vacancy=vacancy.title,
    )


def connect() -> None:
    """Connect the receivers (idempotent; the application factory calls it)."""
    signals.panel_asked_to_score.connect(asked_to_score, weak=False)
    signals.ready_for_agreed_scores.connect(ready_to_agree, weak=False)
    signals.panel_member_invited.connect(invited, weak=False)


connect()
