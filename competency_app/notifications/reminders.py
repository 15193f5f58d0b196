"""Reminder sources: small functions that say what is due, and the run that records it.

A source is `source(today) -> Iterable[Due]`, registered for one kind of the catalogue with
`@reminder_source(catalogue.SOME_KIND)`. It returns every reminder that is due *on or
before* `today` and still relevant (a window, never "exactly today"), keyed by (person,
subject, due date): the outbox's unique key then makes a run idempotent, two runs at once
safe, and a run after missed days catches up with each reminder once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from competency_app.notifications.catalogue import Kind
from competency_app.notifications.services import notify


@dataclass(frozen=True)
class Due:
    user_id: int
    subject: str  # what it is about, e.g. "validations:60" or "vacancy:12"
    due_on: date  # the date the reminder is about (an expiry, a due date, a closing date)
    link: str  # a path in the app
    fields: dict = field(default_factory=dict)  # for the texts: no ratings, no candidates


Source = Callable[[date], Iterable[Due]]
SOURCES: list[tuple[Kind, Source]] = []


def reminder_source(kind: Kind) -> Callable[[Source], Source]:
    def register(source: Source) -> Source:
        SOURCES.append((kind, source))
        return source

    return register


@dataclass
class RunResult:
    new: dict[str, int]  # kind -> reminders recorded by this run

    @property
    def total(self) -> int:
        return sum(self.new.values())


def record_due_reminders(today: date) -> RunResult:
    """Record every reminder due by `today` that is not recorded yet (flushes; the caller
    commits, and the commit queues their delivery)."""
    new: dict[str, int] = {}
    for kind, source in SOURCES:
        count = 0
        for due in source(today):
            count += notify(due.user_id, kind, due.subject, due.due_on, due.link, **due.fields)
        new[kind.key] = new.get(kind.key, 0) + count
    return RunResult(new)
