"""The notifications outbox (in-app list and email state) and each person's preferences."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from competency_app.clock import utcnow
from competency_app.database import UTCDateTime
from competency_app.extensions import Model


class EmailState:
    PENDING = "pending"  # to be emailed by the next delivery job
    SENDING = "sending"  # claimed by one delivery job (back to pending past the lease)
    SENT = "sent"
    IN_APP = "in_app"  # written where the deployment sends no email: shown in-app only
    OFF = "off"  # the person had turned this kind of email off when it was written
    SKIPPED = "skipped"  # account disabled, or nothing to send it with
    FAILED = "failed"


class Notification(Model):
    """One thing to tell one person. Unique per (person, kind, subject, due date): writing
    it twice, from two runs or two hosts at once, leaves one row and one email."""

    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("user_id", "kind", "subject", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(80))  # what it is about: "assessment:12:v4"
    due_on: Mapped[date] = mapped_column(Date)
    link: Mapped[str] = mapped_column(String(300))  # a path in the app
    fields: Mapped[dict] = mapped_column(JSON, default=dict)  # for the texts: no ratings
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    email_state: Mapped[str] = mapped_column(String(12), default=EmailState.PENDING, index=True)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When a delivery claimed it: a row still `sending` past MAIL_LEASE_SECONDS (its worker
    # died) goes back to pending.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NotificationPreference(Model):
    """A kind of email a person has turned off (or on again): no row means on."""

    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    email: Mapped[bool] = mapped_column(Boolean, default=True)
