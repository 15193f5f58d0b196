"""Write notifications with the event (one transaction), deliver them from a job.

`notify(...)` adds a row to the outbox in the caller's transaction; a second row with the
same (person, kind, subject, due date) is silently not written, which makes reminders
idempotent across runs and hosts. Whether the row is to be emailed is decided once, when it
is written (`first_email_state`). When the transaction commits, a delivery job is queued;
it claims each pending row (one UPDATE … WHERE state = 'pending', stamping `claimed_at`),
so two delivery jobs never email the same row twice. A row whose delivery died with its
worker goes back to pending once its lease has passed: at least once, rarely twice. A
delivery that reaches its batch limit queues the next, and the worker's periodic sweep
queues one whenever something waits (left there while Redis was down, say). A process
without MAIL_SERVER sends nothing and settles no row it did not write.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterable
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

import click
from flask import current_app
from huey import crontab
from sqlalchemy import Table, bindparam, case, event, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from competency_app.accounts.models import User
from competency_app.clock import today, utcnow
from competency_app.common.after_commit import after_commit
from competency_app.common.dates import uk_date
from competency_app.database import _writing, chunks, insert_rows
from competency_app.extensions import db
from competency_app.jobs.queue import huey, in_process, job_app
from competency_app.notifications.catalogue import KINDS, LINK_KINDS, PASSWORD_LINK, Kind
from competency_app.notifications.mail import Letter, compose, smtp_connection
from competency_app.notifications.models import (
    EmailState,
    Notification,
    NotificationPreference,
)

log = logging.getLogger("competency_app.notifications")

_PENDING_FLAG = "notifications_to_deliver"
MAX_ATTEMPTS = 5  # tries of one email (a relay's refusals, interrupted deliveries)
# A one-time link email whose delivery died: its link was never stored, so it stays failed.
LINK_INTERRUPTED = "Interrupted before it was sent: the link is gone, issue a new one"
SETTINGS_PATH = "/notifications/settings"  # notifications.settings, linked from every email


def sends_email(config) -> bool:
    """Whether this process can send email (has an SMTP relay)."""
    return bool(config.get("MAIL_SERVER"))


def first_email_state(kind: Kind, user_id: int, emails_off: set[str] | None = None) -> str:
    """The one place that decides whether a new notification is an email: `in_app` when no
    process will send it — this one has no MAIL_SERVER and runs its jobs itself (the demo,
    a site without email, an operator's shell without the deployment's settings); `off`
    when the person has turned this kind off; else `pending`, for a delivery in a process
    that has MAIL_SERVER (this one, or the worker its jobs go to). No process settles a
    pending email any other way."""
    if not sends_email(current_app.config) and in_process():
        return EmailState.IN_APP
    if kind.optional and kind.key in (_emails_off(user_id) if emails_off is None else emails_off):
        return EmailState.OFF
    return EmailState.PENDING


def notify(
    user_id: int,
    kind: Kind,
    subject: str,
    due_on: date,
    link: str,
    emails_off: set[str] | None = None,
    **fields,
) -> bool:
    """Record a notification for the person in the current transaction; True when it is
    new (False: the same one exists already). Emailed after the transaction commits.
    `emails_off`: the kinds the person has turned off, when the caller has read them."""
    state = first_email_state(kind, user_id, emails_off)
    kept = {k: v for k, v in fields.items() if v is not None}
    values = {
        "user_id": user_id,
        "kind": kind.key,
        "subject": subject[:80],
        "due_on": due_on,
        "link": link[:300],
        "fields": kept,
        "created_at": utcnow(),
        "email_state": state,
        "attempts": 0,
    }
    session = db.session()
    connection = session.connection()
    created = connection.execute(_NOTIFY[connection.dialect.name], values).scalar() is not None
    if created and state == EmailState.PENDING:
        session.info[_PENDING_FLAG] = True
    elif created and state == EmailState.IN_APP and current_app.config.get("MAIL_ECHO"):
        _echo_after_commit(user_id, kind, due_on, link, kept)
    return created


_NOTIFICATIONS = cast(Table, Notification.__table__)
# Built once (building it costs more than running it); a repeat of the same notice is a no-op.
_NOTIFY = {
    name: builder(_NOTIFICATIONS).on_conflict_do_nothing().returning(_NOTIFICATIONS.c.id)
    for name, builder in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


def notify_many(
    user_ids: Iterable[int], kind: Kind, subject: str, due_on: date, link: str, **fields
) -> int:
    return sum(notify(uid, kind, subject, due_on, link, **fields) for uid in set(user_ids))


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    if session.info.pop(_PENDING_FLAG, False):
        queue_delivery()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_FLAG, None)


def queue_delivery() -> bool:
    """Queue a delivery job (in-process: run it now); False when the queue is down (the
    worker's periodic sweep sends what waits once it is back)."""
    try:
        deliver_task()
    except Exception:
        log.exception("could not queue the delivery of notifications")
        return False
    return True


# ---- texts --------------------------------------------------------------------------------


def _rowcount(result: Any) -> int:
    """Rows an INSERT/UPDATE touched (a CursorResult's count; typed loosely by SQLAlchemy)."""
    return int(cast(Any, result).rowcount or 0)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _fields(notification: Notification) -> dict:
    return _Blank(notification.fields or {}, due=uk_date(notification.due_on))


def title_of(notification: Notification) -> str:
    kind = KINDS.get(notification.kind)
    return kind.title.format_map(_fields(notification)) if kind else notification.kind


def body_of(notification: Notification) -> str:
    kind = KINDS.get(notification.kind)
    return kind.body.format_map(_fields(notification)) if kind else ""


def action_of(notification: Notification) -> str:
    kind = KINDS.get(notification.kind)
    return kind.action if kind else "Open"


def absolute(path: str) -> str:
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    return f"{base}{path}"


def _settings_url() -> str:
    """The notification settings page for List-Unsubscribe and the footer: an absolute
    address, so only with PUBLIC_URL set."""
    return absolute(SETTINGS_PATH) if current_app.config.get("PUBLIC_URL") else ""


def letter_for(notification: Notification, person: User, url: str) -> Letter:
    return Letter(
        to=person.email,
        subject=title_of(notification),
        lines=[f"Dear {person.name},", body_of(notification)],
        action=action_of(notification),
        url=url,
        settings_url=_settings_url(),
    )


# ---- in-app -------------------------------------------------------------------------------


def recent_for(user: User, limit: int = 5) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id, Notification.kind.notin_(LINK_KINDS))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def unread_count(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user.id,
                Notification.read_at.is_(None),
                Notification.kind.notin_(LINK_KINDS),
            )
        )
        or 0
    )


def list_query(user: User):
    return (
        select(Notification)
        .where(Notification.user_id == user.id, Notification.kind.notin_(LINK_KINDS))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return _rowcount(result)


# ---- preferences --------------------------------------------------------------------------


def email_choices(user: User) -> dict[str, bool]:
    """Every optional kind → whether the person gets its email."""
    off = set(
        db.session.scalars(
            select(NotificationPreference.kind).where(
                NotificationPreference.user_id == user.id,
                NotificationPreference.email.is_(False),
            )
        )
    )
    return {key: key not in off for key, kind in KINDS.items() if kind.optional}


def set_email_choices(user: User, wanted: set[str]) -> int:
    """Keep the person's choice for each optional kind; returns how many changed."""
    current = email_choices(user)
    changed = 0
    for key, on in current.items():
        want = key in wanted
        if want == on:
            continue
        changed += 1
        row = db.session.scalar(
            select(NotificationPreference).where(
                NotificationPreference.user_id == user.id, NotificationPreference.kind == key
            )
        )
        if row is None:
            db.session.add(NotificationPreference(user_id=user.id, kind=key, email=want))
        else:
            row.email = want
    db.session.flush()
    return changed


_EMAILS_OFF = select(NotificationPreference.kind).where(
    NotificationPreference.user_id == bindparam("user_id"),
    NotificationPreference.email.is_(False),
)


def _emails_off(user_id: int) -> set[str]:
    return set(db.session.scalars(_EMAILS_OFF, {"user_id": user_id}))


# ---- delivery -----------------------------------------------------------------------------


@dataclass
class Delivery:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    more: bool = False  # the batch was full: more may be waiting

    def add(self, other: Delivery) -> None:
        for name in ("sent", "skipped", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.more = other.more


@huey.task(retries=2, retry_delay=60)
def deliver_task() -> None:
    with job_app().app_context():
        # reads in deferred transactions; each claim and outcome commits on its own
        token = _writing.set(False)
        try:
            outcome = deliver_pending()
        finally:
            _writing.reset(token)
            db.session.remove()
    if outcome.more:  # a backlog larger than a batch: the next job takes the next batch
        queue_delivery()


@huey.periodic_task(crontab(minute="*"))
def sweep_outbox_task() -> None:
    """Every minute in the worker (and when it starts: Huey checks periodic tasks at once):
    emails whose delivery died with its worker go back to pending, and a delivery is queued
    whenever an email waits."""
    with job_app().app_context():
        if not sends_email(current_app.config):
            return  # a worker without MAIL_SERVER leaves the outbox as it is
        try:
            waiting = sweep_outbox()
        finally:
            db.session.remove()
    if waiting:
        queue_delivery()


def sweep_outbox() -> int:
    """Return stale claims to pending; how many emails now wait for a delivery."""
    release_stale_claims()
    waiting = db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.email_state == EmailState.PENDING,
            Notification.kind.notin_(LINK_KINDS),
        )
    )
    db.session.rollback()
    return waiting or 0


def release_stale_claims() -> int:
    """Rows claimed longer ago than MAIL_LEASE_SECONDS and still `sending` (the delivery
    died: a killed worker, a lost host) go back to pending. A rare duplicate beats a
    silent loss; one interrupted MAX_ATTEMPTS times (an email that kills its worker each
    time) is failed instead, never tried again. A link email cannot be sent again (its link
    was never stored: only the job that held it could send it), so past the lease it is
    failed with a reason that says a new link is needed, never left `sending`."""
    lease = timedelta(seconds=int(current_app.config["MAIL_LEASE_SECONDS"]))
    stale = update(Notification).where(
        Notification.email_state == EmailState.SENDING,
        (Notification.claimed_at < utcnow() - lease)
        | Notification.claimed_at.is_(None),  # claimed before the column
    )
    token = _writing.set(True)
    try:
        with db.engine.begin() as connection:
            released = _rowcount(
                connection.execute(
                    stale.where(Notification.kind.notin_(LINK_KINDS)).values(
                        email_state=case(
                            (Notification.attempts >= MAX_ATTEMPTS, EmailState.FAILED),
                            else_=EmailState.PENDING,
                        ),
                        email_error=case(
                            (Notification.attempts >= MAX_ATTEMPTS, "Interrupted"),
                            else_=Notification.email_error,
                        ),
                        claimed_at=None,
                    )
                )
            )
            lost_links = _rowcount(
                connection.execute(
                    stale.where(Notification.kind.in_(LINK_KINDS)).values(
                        email_state=EmailState.FAILED, email_error=LINK_INTERRUPTED, claimed_at=None
                    )
                )
            )
    finally:
        _writing.reset(token)
    if released:
        log.warning("%s emails claimed by a delivery that stopped are released", released)
    if lost_links:
        log.warning("%s one-time link emails were interrupted: new links are needed", lost_links)
    return released


CLAIM_CHUNK = 10  # rows claimed in one statement: one commit for ten emails, not ten


def _claim(notification_ids: list[int]) -> set[int]:
    """Take these rows for this delivery, those still pending (committed at once, on a
    connection of its own); returns the ids taken."""
    token = _writing.set(True)
    try:
        with db.engine.begin() as connection:
            claimed = connection.scalars(
                update(Notification)
                .where(
                    Notification.id.in_(notification_ids),
                    Notification.email_state == EmailState.PENDING,
                )
                .values(
                    email_state=EmailState.SENDING,
                    claimed_at=utcnow(),
                    attempts=Notification.attempts + 1,
                )
                .returning(Notification.id)
            )
            return set(claimed)
    finally:
        _writing.reset(token)


def _settle(notification_id: int, state: str, error: str | None = None) -> None:
    token = _writing.set(True)
    try:
        _write_state(notification_id, state, error)
    finally:
        _writing.reset(token)


def _write_state(notification_id: int, state: str, error: str | None) -> None:
    with db.engine.begin() as connection:
        connection.execute(
            update(Notification)
            .where(Notification.id == notification_id)
            .values(
                email_state=state,
                email_error=error,
                emailed_at=utcnow() if state == EmailState.SENT else None,
            )
        )


def deliver_pending(limit: int | None = None) -> Delivery:
    """Email up to `limit` pending notifications once each (each row claimed before it is
    sent); `more` says the batch was full. Without MAIL_SERVER nothing is sent and no row
    changes: another process, with the deployment's mail settings, sends them."""
    if not sends_email(current_app.config):
        return Delivery()
    token = _writing.set(False)  # reads only: each claim and outcome commits on its own
    try:
        release_stale_claims()
        return _deliver(limit or int(current_app.config["MAIL_BATCH"]))
    finally:
        _writing.reset(token)


def deliver_all() -> Delivery:
    """Every pending email, batch after batch (in-process: the command line, the demo)."""
    total = Delivery(more=True)
    while total.more:
        total.add(deliver_pending())
    return total


def _deliver(limit: int) -> Delivery:
    config = current_app.config
    outcome = Delivery()
    ids = list(
        db.session.scalars(
            select(Notification.id)
            .where(
                Notification.email_state == EmailState.PENDING,
                Notification.kind.notin_(LINK_KINDS),  # sent by their own job, with the link
            )
            .order_by(Notification.id)
            .limit(limit)
        )
    )
    db.session.rollback()
    if not ids:
        return outcome
    outcome.more = len(ids) >= limit
    mailer = _Mailer(config)
    try:
        for chunk in chunks(ids, CLAIM_CHUNK):
            claimed = _claim(chunk)  # what another delivery job has taken is left to it
            if claimed:
                _send_claimed(mailer, claimed, outcome)
    finally:
        mailer.close()
        db.session.rollback()
    return outcome


def _send_claimed(mailer: _Mailer, claimed: set[int], outcome: Delivery) -> None:
    pairs = db.session.execute(
        select(Notification, User)
        .join(User, User.id == Notification.user_id)
        .where(Notification.id.in_(claimed))
        .order_by(Notification.id)
    ).all()
    db.session.expunge_all()  # keep what was read; end the read transaction
    db.session.rollback()
    for notification, person in pairs:
        if notification.kind not in KINDS or not person.active:
            _settle(notification.id, EmailState.SKIPPED)
            outcome.skipped += 1
            continue
        letter = letter_for(notification, person, absolute(notification.link))
        _send_one(mailer, notification.id, letter, outcome)


class _Mailer:
    """One SMTP connection for a batch, opened on first use, reopened after a failure."""

    def __init__(self, config):
        self.config = config
        self._stack: ExitStack | None = None
        self._connection: smtplib.SMTP | None = None

    def send(self, letter: Letter) -> None:
        if self._connection is None:
            self._stack = ExitStack()
            self._connection = self._stack.enter_context(smtp_connection(self.config))
        self._connection.send_message(compose(letter, self.config["MAIL_FROM"]))

    def close(self) -> None:
        stack, self._stack, self._connection = self._stack, None, None
        if stack is not None:
            with suppress(smtplib.SMTPException, OSError):
                stack.close()


def _send_one(mailer: _Mailer, notification_id: int, letter: Letter, outcome: Delivery) -> None:
    try:
        mailer.send(letter)
    # ValueError: a message the email package refuses to write; failed (and counted),
    # never left `sending`
    except (smtplib.SMTPException, OSError, ValueError) as error:
        log.warning("email %s not sent: %s", notification_id, type(error).__name__)
        _settle(notification_id, EmailState.FAILED, type(error).__name__)
        outcome.failed += 1
        mailer.close()
        return
    _settle(notification_id, EmailState.SENT)
    outcome.sent += 1


def _echo_after_commit(user_id: int, kind: Kind, due_on: date, link: str, fields: dict) -> None:
    """Without MAIL_SERVER, the demo says where the email would have gone (once written)."""
    person = db.session.get_one(User, user_id)
    subject = kind.title.format_map(_Blank(fields, due=uk_date(due_on)))
    unsent = UnsentEmail(person.email, subject, absolute(link))
    after_commit(lambda: _echo(unsent))


@dataclass(frozen=True)
class UnsentEmail:
    """An email a process without MAIL_SERVER would have sent (its row is in-app only)."""

    to: str
    subject: str
    url: str

    def line(self) -> str:
        subject = f"{self.subject} — " if self.subject else ""
        return f"[mail not sent: no MAIL_SERVER] to {self.to}: {subject}{self.url}"


UNSENT_KEY = "unsent_emails"


def collect_unsent(app) -> list[UnsentEmail]:
    """From now on, `app`'s unsent emails are kept in the returned list instead of printed
    one line each (the demo prints a count and writes them to a file)."""
    return app.extensions.setdefault(UNSENT_KEY, [])


def stop_collecting(app) -> None:
    """Back to one printed line per unsent email (the demo, once set up, while it serves)."""
    app.extensions.pop(UNSENT_KEY, None)


def _echo(unsent: UnsentEmail) -> None:
    kept = current_app.extensions.get(UNSENT_KEY)
    if kept is not None:
        kept.append(unsent)
    else:
        click.echo(unsent.line())


def retry_failed() -> int:
    """Put failed emails back in the outbox (the next delivery tries them again)."""
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.email_state == EmailState.FAILED,
            Notification.attempts < MAX_ATTEMPTS,
            Notification.kind.notin_(LINK_KINDS),  # its link is gone: only a new one helps
        )
        .values(email_state=EmailState.PENDING)
    )
    if _rowcount(result):
        db.session.info[_PENDING_FLAG] = True
    return _rowcount(result)


def _echo_links(pairs: list[tuple[int, str]]) -> None:
    """No MAIL_SERVER: the rows were written in-app only; the demo prints the links."""
    user_ids = [user_id for user_id, _ in pairs]
    if current_app.config.get("MAIL_ECHO"):
        emails: dict[int, str] = {
            user_id: address
            for user_id, address in db.session.execute(
                select(User.id, User.email).where(User.id.in_(user_ids[:20]))
            )
        }
        for user_id, url in pairs[:20]:
            _echo(UnsentEmail(emails.get(user_id, ""), "", url))
        if len(pairs) > 20:
            click.echo(f"[mail not sent: no MAIL_SERVER] and {len(pairs) - 20} more links")
        db.session.rollback()


# ---- account emails -----------------------------------------------------------------------


def send_password_links(
    tokens: dict[int, str],
    link_for: Callable[[str], str],
    kind: Kind = PASSWORD_LINK,
    subject: str = "link",
    **fields,
) -> None:
    """Email each new person their set-your-password link (or, with `kind`, another email
    that carries a one-time link: a panel invitation), from a job queued when the
    transaction commits. The link travels only in the job's arguments: the outbox keeps
    that an email is due and whether it was sent, never the link."""
    if not tokens:
        return
    assert kind.carries_link
    state = first_email_state(kind, next(iter(tokens)))  # account emails: never turned off
    now = utcnow()
    expires = today() + timedelta(days=int(current_app.config["PASSWORD_LINK_DAYS"]))
    insert_rows(
        db.session,
        Notification.__table__,
        [
            {
                "user_id": user_id,
                "kind": kind.key,
                "subject": f"{subject}:{now:%Y%m%d%H%M%S%f}"[:80],
                "due_on": expires,
                "link": "/set-password",
                "fields": {k: v for k, v in fields.items() if v is not None},
                "created_at": now,
                "email_state": state,
                "attempts": 0,
            }
            for user_id in tokens
        ],
    )
    pairs = [(user_id, link_for(token)) for user_id, token in tokens.items()]
    key = kind.key
    after_commit(lambda: password_links_task(pairs, key))


@huey.task(retries=2, retry_delay=60)
def password_links_task(pairs: list[tuple[int, str]], kind: str = PASSWORD_LINK.key) -> None:
    with job_app().app_context():
        token = _writing.set(False)
        try:
            send_links(pairs, kind)
        finally:
            _writing.reset(token)
            db.session.remove()


def send_links(pairs: list[tuple[int, str]], kind: str = PASSWORD_LINK.key) -> Delivery:
    """Email each (person, link): the person's pending notification of that kind is
    claimed first, so a repeated job sends nothing twice."""
    config = current_app.config
    outcome = Delivery()
    if not sends_email(config):
        _echo_links(pairs)
        return outcome
    for user_id, url in pairs:
        notification_id = db.session.scalar(
            select(Notification.id)
            .where(
                Notification.user_id == user_id,
                Notification.kind == kind,
                Notification.email_state == EmailState.PENDING,
            )
            .order_by(Notification.id.desc())
        )
        db.session.rollback()
        if notification_id is None or not _claim([notification_id]):
            continue
        notification = db.session.get_one(Notification, notification_id)
        person = db.session.get_one(User, user_id)
        db.session.expunge_all()
        db.session.rollback()
        letter = letter_for(notification, person, url)
        mailer = _Mailer(config)
        try:
            _send_one(mailer, notification_id, letter, outcome)
        finally:
            mailer.close()
    db.session.rollback()
    return outcome
