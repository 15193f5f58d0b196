"""Coverage forecast: what would become a gap or at risk, and when.

In the future nothing is validated yet, so coverage only changes when a validation expires
(or comes within the warning period), a values sign-off lapses, or someone leaves. The
forecast evaluates `coverage_for_team` — the one computation — at the end of each day on
which such an event falls, up to the chosen date, and reports the first day each element,
skill or the core values would be worse than today, and what makes it so: whose
validations lapse (or come within the warning period), whose values sign-off lapses, or
who leaves, on which day ("Farid Rahman's validations lapse on 6 January 2027").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from competency_app.assessments.models import CurrentRating
from competency_app.clock import utcnow
from competency_app.common.dates import uk_date
from competency_app.common.text import short_form
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
    cause: str = ""  # what happens that day to make it so, in words ("" when not known)
    days: int = 0  # days from now

    @property
    def sentence(self) -> str:
        """'In 30 days (6 January 2027): 1a Enabling/organising direct support becomes at
        risk — Farid Rahman's validations lapse on 6 January 2027'."""
        when = "Today" if self.days <= 0 else f"In {self.days} day{'s' if self.days != 1 else ''}"
        after = "a gap" if self.after == "gap" else "at risk"
        cause = f" — {self.cause}" if self.cause else ""
        title = f"“{short_form(self.title)}”" if self.kind == "skill" else self.title
        return f"{when} ({uk_date(self.when)}): {title} becomes {after}{cause}"


def at_day(day: date, now: datetime | None = None) -> datetime:
    """The moment that stands for `day`: now's time of day on that day (so "in 30 days" is
    exactly 30 days on)."""
    now = now or utcnow()
    return now + timedelta(days=(day - now.date()).days)


def _statuses(cov: TeamCoverage) -> dict[tuple[str, str], tuple[str, str, str]]:
    items = {
        ("element", e.element.key): (e.status, e.element.display_name, e.why) for e in cov.elements
    }
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
    found = sorted(changes.values(), key=lambda c: (c.when, order[(c.kind, c.key)]))
    _explain(found, today, without)
    return found


def _names(people: list[str]) -> str:
    return people[0] if len(people) == 1 else ", ".join(people[:-1]) + " and " + people[-1]


def _explain(changes: list[Change], today: TeamCoverage, without: tuple[int, ...]) -> None:
    """Each change's cause: the events of its day that touch its item — validations of its
    skills lapsing or coming within the warning period, a values sign-off lapsing, a member
    leaving — with the people named and the day in words."""
    if not changes:
        return
    warning = today.version.settings.expiring_soon
    members = {m.id: m for m in today.members}
    names = {m.id: m.name for m in today.members}
    ratings = db.session.execute(
        select(CurrentRating.person_id, CurrentRating.skill_key, CurrentRating.expires_at).where(
            CurrentRating.person_id.in_(list(members) or [-1]),
            CurrentRating.level >= today.competent_level,
            CurrentRating.expires_at > today.now,
        )
    ).all()
    skills_of = {e.element.key: {s.skill.key for s in e.skills} for e in today.elements}
    for change in changes:
        day = change.when.date()
        change.days = (day - today.now.date()).days
        keys = skills_of.get(change.key, set()) if change.kind == "element" else {change.key}
        lapse: dict[int, date] = {}
        warned: dict[int, date] = {}
        if change.kind == "values":
            for person, ends in today.values.met.items():
                if ends.date() == day:
                    lapse[person] = ends.date()
                elif (ends - warning).date() == day:
                    warned[person] = ends.date()
        else:
            for person, key, expires in ratings:
                ends = aware(expires)
                if key not in keys or person in without:
                    continue
                if ends.date() == day:
                    lapse[person] = ends.date()
                elif (ends - warning).date() == day:
                    warned.setdefault(person, ends.date())
        leaving = [
            m.name
            for m in members.values()
            if m.leaving_date == day and m.id not in without and change.days > 0
        ]
        what = "values sign-off" if change.kind == "values" else "validations"
        parts = []
        if lapse:
            people = sorted(names[p] for p in lapse)
            parts.append(f"{_whose(people, what)} on {uk_date(day)}")
        if leaving:
            verb = "leaves" if len(leaving) == 1 else "leave"
            parts.append(f"{_names(sorted(leaving))} {verb} on {uk_date(day)}")
        if warned and not lapse and not leaving:
            first = min(warned.values())
            people = sorted(names[p] for p in warned)
            parts.append(f"{_whose(people, what)} on {uk_date(first)}, within {warning.days} days")
        gone = [names[p] for p in without if p in names]
        if gone and not parts:
            parts.append(f"as if {_names(gone)} left")
        change.cause = "; ".join(parts)


def _whose(people: list[str], what: str) -> str:
    """ "Farid Rahman's validations lapse", "the validations of Farid Rahman and Aisha Khan
    lapse", "Farid Rahman's values sign-off lapses"."""
    if len(people) == 1:
        verb = "lapses" if what == "values sign-off" else "lapse"
        return f"{people[0]}'s {what} {verb}"
    plural = "values sign-offs" if what == "values sign-off" else what
    return f"the {plural} of {_names(people)} lapse"
