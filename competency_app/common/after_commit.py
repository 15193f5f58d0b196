"""Work to do once the current transaction has committed (queue a job, echo a message):
nothing of it happens when the transaction rolls back, and a failure in it is logged
without touching what was committed."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from competency_app.extensions import db

log = logging.getLogger(__name__)

_KEY = "after_commit_callbacks"


def after_commit(callback: Callable[[], object]) -> None:
    """Run `callback()` after the request's session commits (dropped if it rolls back)."""
    db.session().info.setdefault(_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_callbacks(session: Session) -> None:
    for callback in session.info.pop(_KEY, []):
        try:
            callback()
        except Exception:
            log.exception("could not run the work queued for after the commit")


@event.listens_for(Session, "after_rollback")
def _drop_callbacks(session: Session) -> None:
    session.info.pop(_KEY, None)
