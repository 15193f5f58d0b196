"""Each team's coverage figures as stored by the last sign-off in it (`coverage/stored.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from competency_app.database import UTCDateTime
from competency_app.extensions import Model


class StoredTeamFigures(Model):
    """The team's figures as of its `coverage_epoch` `epoch`, for `members` (the ids of its
    keyworkers, in the coverage page's order) and the version with `content_hash`, holding
    from `valid_from` until `valid_until` (the first expiry, or the first entry into the
    warning period, that would change a figure; none: no such moment).

    `figures` is what a page reads (`coverage/stored.py` turns it back into `TeamFigures`);
    `people` is what they were added up from, each member's part (`figures.Tally`) and
    values sign-offs, so that a sign-off works out only its own person's again; `counts`
    what the regional view reads.
    """

    __tablename__ = "stored_team_figures"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("team.id", ondelete="CASCADE"), primary_key=True
    )
    epoch: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    members: Mapped[list[int]] = mapped_column(JSON)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    people: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The team's coverage in counts, for the regional view (`services.team_counts`, with
    # the figures' "format"): small, read without the figures. None: stored before counts.
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
