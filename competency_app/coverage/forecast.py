"""Coverage forecast: what would become a gap or at risk, and when.

In the future nothing is validated yet, so coverage only changes when a validation expires
(or comes within the warning period), a values sign-off lapses, or someone leaves. The
forecast evaluates `coverage_for_team` — the one computation — at the end of each day on
which such an event falls, up to the chosen date, and reports the first day each element,
skill or the core values would be worse than today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from competency_app.assessments.models import CurrentRating
from competency_app.clock import utcnow
from competency_app.coverage.figures import aware
from competency_app.coverage.services import AT_RISK, GAP, MET, TeamCoverage, coverage_for_team
from competency_app.extensions import db

RANK = {MET: 0, AT_RISK: 1, GAP: 2}


@dataclass
class Change:
    when: datetime
    kind: str  # "element", "skill" or "values"
    key: str
    title: str
    before: str
    after: str
    why: str


def at_day(day: date, now: datetime | None = None) -> datetime:
    """The moment that stands for `day`: now's time of day on that day (so "in 30 days" is
    exactly 30 days on)."""
    now = now or utcnow()
    return now + timedelta(days=(day - now.date()).days)


def _statuses(cov: TeamCoverage) -> dict[tuple[str, str], tuple[str, str, str]]:
    items = {("element", e.element.key): (e.status, e.element.title, e.why) for e in cov.elements}
    items.update({("skill", s.skill.key): (s.status, s.skill.text, s.why) for s in cov.skills})
    items[("values", "values")] = (cov.values.status, "Core values", cov.values.why)
    return items


def _event_moments(today: TeamCoverage, until: datetime) -> list[datetime]:
    """The end of each day between now and `until` on which a figure could change."""
    now = today.now
    warning = today.version.settings.expiring_soon
    ids = [m.id for m in today.members]
    events: set[datetime] = set()
    if ids:
        for (expiry,) in db.session.execute(
            select(CurrentRating.expires_at)
            .distinct()
            .where(
                CurrentRating.person_id.in_(ids),
                CurrentRating.level >= today.competent_level,
                CurrentRating.expires_at > now,
                CurrentRating.expires_at <= until + warning,
            )
        ):
            events.update({aware(expiry), aware(expiry) - warning})
    for lapse in today.values.met.values():
        events.update({lapse, lapse - warning})
    for member in today.members:
        if member.leaving_date is not None:
            events.add(datetime.combine(member.leaving_date, time.min, tzinfo=UTC))
    days = sorted({moment.date() for moment in events if now < moment <= until})
    # the end of the day (or `until` on its own day): every event of that day has happened
    moments = [min(datetime.combine(d, time.max, tzinfo=UTC), until) for d in days]
    return sorted(set(moments) | {until})


def forecast(team, version, until: datetime, without: tuple[int, ...] = ()) -> list[Change]:
    """Elements, skills and values that would be worse than today by `until`, each with
    the first day it happens (`without`: as if those members left today)."""
    now = utcnow()
    today = coverage_for_team(team, version, now)
    before = _statuses(today)
    moments = _event_moments(today, until)
    if without:
        moments = sorted({now, *moments})
    changes: dict[tuple[str, str], Change] = {}
    for moment in moments:
        cov = coverage_for_team(team, version, moment, cached=False, without=without)
        for item, (status, title, why) in _statuses(cov).items():
            was = before[item][0]
            if item not in changes and RANK[status] > RANK[was]:
                changes[item] = Change(moment, item[0], item[1], title, was, status, why)
    order = {item: n for n, item in enumerate(before)}
    return sorted(changes.values(), key=lambda c: (c.when, order[(c.kind, c.key)]))
