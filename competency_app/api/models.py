"""Personal API tokens: the credential a BI tool sends as `Authorization: Bearer …`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from competency_app.accounts.models import User
from competency_app.clock import utcnow
from competency_app.database import UTCDateTime
from competency_app.extensions import Model


class ApiToken(Model):
    """A read-only token acting as its owner. Only the SHA-256 of the secret is kept: the
    secret is random (256 bits), so a slow password hash would add cost and no safety."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # the first characters of the secret, shown on the tokens page to tell tokens apart
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    owner: Mapped[User] = relationship()

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "active" if now < self.expires_at else "expired"
