"""Email at least once, never lost, in one process: a claim whose delivery died goes back to
pending past its lease; a full batch queues the next; `send-reminders` sends every email
waiting; a process without MAIL_SERVER settles no one else's; every message carries the
headers that keep it out of spam and out-of-office loops; no header value can lose one.
(The same with real worker processes: tests/notifications/test_delivery_faults.py.)"""

from __future__ import annotations

from datetime import date, timedelta
from email import message_from_bytes
from email.policy import default

from flask import url_for
from sqlalchemy import func, select, update

from competency_app.accounts.models import User
from competency_app.clock import utcnow
from competency_app.database import insert_rows, unit_of_work
from competency_app.extensions import db
from competency_app.notifications import services as notices
from competency_app.notifications.catalogue import PASSWORD_LINK, VALIDATIONS_EXPIRING
from competency_app.notifications.mail import Letter, compose
from competency_app.notifications.models import EmailState, Notification
from competency_app.operations.jobs import daily_reminders
from competency_app.recruitment import services as recruitment
from competency_app.recruitment.models import Vacancy
from tests.notifications.conftest import PUBLIC_URL, html_of, text_of
from tests.notifications.test_notifications import keyworker_vacancy, person


def backlog(count: int, state: str = EmailState.PENDING) -> list[str]:
    """`count` people, each with one reminder email in `state` (written by another process,
    or left by an earlier run); returns their addresses."""
    organisation_id = person("sue.super").organisation_id
    now = utcnow()
    addresses = [f"backlog{n}@example.nhs.uk" for n in range(count)]
    insert_rows(
        db.session,
        User.__table__,
        [
            {
                "organisation_id": organisation_id,
                "email": address,
                "name": f"Backlog {n}",
                "password_hash": "!",
                "active": True,
                "must_change_password": False,
                "session_version": 1,
                "created_at": now,
            }
            for n, address in enumerate(addresses)
        ],
    )
    ids = db.session.scalars(select(User.id).where(User.email.in_(addresses)))
    insert_rows(
        db.session,
        Notification.__table__,
        [
            {
                "user_id": user_id,
                "kind": VALIDATIONS_EXPIRING.key,
                "subject": "validations:60",
                "due_on": date(2027, 1, 31),
                "link": "/",
                "fields": {"count": 3, "days": 60},
                "created_at": now,
                "email_state": state,
                "attempts": 0,
            }
            for user_id in ids
        ],
    )
    db.session.commit()
    return addresses


def states() -> dict[str, int]:
    rows = db.session.execute(
        select(Notification.email_state, func.count()).group_by(Notification.email_state)
    )
    counts = {state: count for state, count in rows}
    db.session.rollback()
    return counts


def test_every_message_has_date_message_id_auto_submitted_and_a_settings_link(app, team, inbox):
    with app.app_context():
        addresses = backlog(1)
        notices.deliver_pending()
    [message] = inbox.messages
    assert message["To"] == addresses[0]
    assert message["Date"] is not None and message["Date"].datetime is not None
    assert message["Message-ID"].endswith("@competency.example.nhs.uk>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"
    settings = f"{PUBLIC_URL}/notifications/settings"
    assert message["List-Unsubscribe"] == f"<{settings}>"
    assert f"notification settings page: {settings}" in text_of(message)
    assert f'<a href="{settings}"' in html_of(message)
    with app.test_request_context():
        assert url_for("notifications.settings") == notices.SETTINGS_PATH


def test_no_header_value_can_lose_a_message_or_add_a_header():
    letter = Letter(
        to="pat@example.org\r\n",
        subject="Interview scores for Keyworker\r\nBcc: evil@attacker.example\u2028 now\x00",
        lines=["Dear Pat\r\nParent,"],
        action="Open",
        url="https://competency.example.nhs.uk/",
    )
    raw = compose(letter, "Tracker <tracker@example.nhs.uk>\n").as_bytes()
    message = message_from_bytes(raw, policy=default)
    assert message["Subject"] == "Interview scores for Keyworker Bcc: evil@attacker.example now"
    assert message["Bcc"] is None and message["To"] == "pat@example.org"


def test_an_invitation_for_a_title_with_a_line_break_is_sent_with_its_link(app, team, inbox):
    with app.app_context():
        vacancy = keyworker_vacancy()
        with unit_of_work():  # a title saved before forms refused line breaks
            db.session.execute(
                update(Vacancy)
                .where(Vacancy.id == vacancy.id)
                .values(title="Keyworker\r\nBcc: evil@attacker.example")
            )
        db.session.expire_all()
        with unit_of_work():
            _lay, token = recruitment.invite_panel_member(
                db.session.get_one(Vacancy, vacancy.id),
                "Pat Parent",
                "pat@example.org",
                person("rae.recruit"),
            )
        assert states() == {EmailState.SENT: 1}
    [invitation] = inbox.to("pat@example.org")
    assert invitation["Subject"] == (
        "You are invited to the interview panel for Keyworker Bcc: evil@attacker.example"
    )
    assert invitation["Bcc"] is None
    assert f"{PUBLIC_URL}/set-password/{token}" in text_of(invitation)


def test_a_claim_whose_delivery_died_is_sent_again_once_its_lease_has_passed(app, team, inbox):
    with app.app_context():
        [address] = backlog(1)
        # a delivery claimed it, then its worker died: `sending` for good, until the lease
        notification_id = db.session.scalar(select(Notification.id))
        db.session.rollback()
        assert notices._claim([notification_id]) == {notification_id}
        claimed = db.session.scalar(select(Notification.claimed_at))
        assert claimed is not None
        db.session.rollback()
        assert notices.deliver_pending().sent == 0
        assert states() == {EmailState.SENDING: 1}
        app.config["FROZEN_NOW"] = claimed + timedelta(seconds=app.config["MAIL_LEASE_SECONDS"])
        assert notices.deliver_pending().sent == 0  # the lease has not passed yet
        app.config["FROZEN_NOW"] = claimed + timedelta(seconds=app.config["MAIL_LEASE_SECONDS"] + 1)
        assert notices.deliver_pending().sent == 1
        assert states() == {EmailState.SENT: 1}
        attempts = db.session.scalar(select(Notification.attempts))
    assert [m["To"] for m in inbox.messages] == [address]
    assert attempts == 2


def test_an_email_interrupted_five_times_is_failed_not_tried_for_ever(app, team, inbox):
    with app.app_context():
        backlog(1, EmailState.SENDING)  # its delivery died, four times already
        db.session.execute(update(Notification).values(attempts=notices.MAX_ATTEMPTS))
        db.session.commit()
        assert notices.release_stale_claims() == 1  # claimed before the column: stale
        assert notices.deliver_pending().sent == 0
        assert states() == {EmailState.FAILED: 1}
        assert db.session.scalar(select(Notification.email_error)) == "Interrupted"
        assert notices.retry_failed() == 0
    assert inbox.messages == []


def test_a_link_email_whose_delivery_died_is_failed_with_its_reason_not_left_sending(
    app, team, inbox
):
    """Its link was never stored, so nothing can send it again: past the lease it says a new
    link is needed (never `sending` for ever), and retrying failed emails leaves it."""
    with app.app_context():
        [_address] = backlog(1, EmailState.SENDING)
        db.session.execute(update(Notification).values(kind=PASSWORD_LINK.key, link="/"))
        db.session.commit()
        assert notices.release_stale_claims() == 0  # nothing to send again
        assert states() == {EmailState.FAILED: 1}
        assert db.session.scalar(select(Notification.email_error)) == notices.LINK_INTERRUPTED
        assert notices.retry_failed() == 0
        assert states() == {EmailState.FAILED: 1}
    assert inbox.messages == []


def test_the_periodic_sweep_sends_what_waits_and_what_a_dead_delivery_held(app, team, inbox):
    with app.app_context():
        addresses = backlog(3)
        first = db.session.scalar(select(func.min(Notification.id)))
        db.session.rollback()
        assert notices._claim([first]) == {first}
        app.config["FROZEN_NOW"] = utcnow() + timedelta(hours=1)
        notices.sweep_outbox_task()  # in-process: runs now, as the worker does each minute
        assert states() == {EmailState.SENT: 3}
    assert sorted(m["To"] for m in inbox.messages) == sorted(addresses)


def test_a_full_batch_queues_the_next_until_none_is_left(app, team, inbox):
    app.config["MAIL_BATCH"] = 3
    try:
        with app.app_context():
            addresses = backlog(8)
            assert notices.queue_delivery()  # one delivery job: 3, then 3, then 2
            assert states() == {EmailState.SENT: 8}
    finally:
        app.config["MAIL_BATCH"] = 1000
    assert sorted(m["To"] for m in inbox.messages) == sorted(addresses)


def test_a_batch_one_over_mail_batch_sends_the_last_email_in_the_next_job(app, team, inbox):
    app.config["MAIL_BATCH"] = 3
    try:
        with app.app_context():
            addresses = backlog(4)  # MAIL_BATCH + 1
            first = notices.deliver_pending()
            assert (first.sent, first.more) == (3, True)  # full: the next job is queued
            second = notices.deliver_pending()
            assert (second.sent, second.more) == (1, False)  # the last one, nothing after
            assert states() == {EmailState.SENT: 4}
    finally:
        app.config["MAIL_BATCH"] = 1000
    assert sorted(m["To"] for m in inbox.messages) == sorted(addresses)


def test_send_reminders_sends_every_email_waiting_with_no_new_reminder(app, team, inbox, runner):
    app.config["MAIL_BATCH"] = 3
    try:
        with app.app_context():
            addresses = backlog(8)  # left pending while the queue was down, say
        result = runner.invoke(args=["send-reminders"])
        assert result.exit_code == 0, result.output
        assert "0 new reminders recorded" in result.output
        assert "8 emails sent" in result.output
    finally:
        app.config["MAIL_BATCH"] = 1000
    assert sorted(m["To"] for m in inbox.messages) == sorted(addresses)


def test_the_workers_daily_reminders_send_every_email_waiting(app, team, inbox):
    with app.app_context():
        addresses = backlog(3)  # nothing new to record today
        daily_reminders()  # in-process: runs now, as the worker does at 07:00
        assert states() == {EmailState.SENT: 3}
    assert sorted(m["To"] for m in inbox.messages) == sorted(addresses)


def test_a_process_without_a_mail_server_leaves_others_emails_pending(app, team, runner):
    assert not app.config["MAIL_SERVER"]
    with app.app_context():
        backlog(4)  # written by the web, which has MAIL_SERVER
    result = runner.invoke(args=["send-reminders"])  # an operator's shell without it
    assert result.exit_code == 0, result.output
    assert "MAIL_SERVER is not set here: 4 emails are left for the worker" in result.output
    with app.app_context():
        assert states() == {EmailState.PENDING: 4}
        assert notices.deliver_pending().sent == 0
        assert states() == {EmailState.PENDING: 4}
