"""Records of completed e-learning (evidence for reassessment, never competence itself)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from competency_app.accounts.models import User
from competency_app.database import UTCDateTime
from competency_app.extensions import Model


class ModuleCompletion(Model):
    __tablename__ = "module_completion"
    __table_args__ = (UniqueConstraint("person_id", "module_key", "completed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    module_key: Mapped[str] = mapped_column(String(80))  # stable id from the catalogue
    completed_on: Mapped[date] = mapped_column(Date)
    certificate_ref: Mapped[str | None] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))

    person: Mapped[User] = relationship(foreign_keys=[person_id])
