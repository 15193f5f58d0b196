"""When a submitted self-assessment will be looked at, in a sentence ("Sam Taylor will look
at it with you at your supervision on 28 December 2026 at 11:00am.").

The sessions belong to the supervision feature, which sits above this package: it supplies
the sentence through `provide`, and the pages here ask `when_looked_at` (None when no
feature has one to say).
"""

from __future__ import annotations

from collections.abc import Callable

from competency_app.assessments.models import Assessment

Source = Callable[[Assessment], str | None]
_SOURCES: list[Source] = []


def provide(source: Source) -> Source:
    """Register `source` (a decorator); registering the same function twice is harmless."""
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


def when_looked_at(assessment: Assessment) -> str | None:
    for source in _SOURCES:
        sentence = source(assessment)
        if sentence:
            return sentence
    return None
