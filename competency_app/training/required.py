"""Required training and its refresh: who has done the core training, and until when it counts.

The framework file marks modules `required` (core training for everyone appointed to a
keyworking team) and, for some, `refresh_months` (how often it is repeated). For each
keyworker and required module this module reads the latest completion (recorded on the
development plan or imported) and gives one standing:

- *due*: never completed;
- *in date*: completed, and the refresh (if any) falls due after the expiring-soon window;
- *expiring*: completed, and the refresh falls due within the framework's expiring-soon
  window (the same window as validations: `rules.expiring_soon_days`);
- *overdue*: the refresh date has been reached.

A completion's expiry is computed here, in one place (`completion_expiry`), rather than
stored on the row: the refresh period belongs to the framework version, so a new version
that changes it applies to every completion at once, and a row imported years ago needs no
back-filling. Only *in date* and *expiring* count as compliant.

A required item can be made of parts (the file's `parts:`): the Oliver McGowan training is
its e-learning and then the Tier 2 face-to-face day, refreshed together. Each part is
judged as above and the item takes the most urgent standing of its parts, so it is
compliant only when every part is in date.

A completion dated after today (stored before such dates were refused) never counts: the
person's standing is judged from their completions up to today, and the future-dated row is
shown flagged for HR or the manager to correct.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from competency_app.accounts import scope
from competency_app.accounts.models import Role, RoleAssignment, Team, User
from competency_app.accounts.services import counted_on, team_members
from competency_app.clock import today as today_in_london
from competency_app.clock import utcnow
from competency_app.common.dates import add_months, london_day
from competency_app.database import chunks
from competency_app.extensions import db
from competency_app.framework.models import FrameworkVersion, Module
from competency_app.training.models import ModuleCompletion

DUE, IN_DATE, EXPIRING, OVERDUE = "due", "in_date", "expiring", "overdue"
STATUS_LABELS = {
    DUE: "Not done",
    IN_DATE: "In date",
    EXPIRING: "Expiring",
    OVERDUE: "Overdue",
}
# NHS.UK tag colours for each standing.
STATUS_TAGS = {
    DUE: "nhsuk-tag--orange",
    IN_DATE: "nhsuk-tag--green",
    EXPIRING: "nhsuk-tag--yellow",
    OVERDUE: "nhsuk-tag--red",
}
COMPLIANT = frozenset({IN_DATE, EXPIRING})
URGENCY = {OVERDUE: 0, DUE: 1, EXPIRING: 2, IN_DATE: 3}  # most urgent first in lists


def required_modules(version: FrameworkVersion) -> list[Module]:
    """The version's required modules, in catalogue order."""
    return [module for module in version.modules if module.required]


def parts_of(module: Module, version: FrameworkVersion) -> list[Module]:
    """The courses that make up the required item `module` leads: itself first, then each
    of its other parts in the file's order (just itself for a one-part item)."""
    keys = version.settings.required_parts.get(module.key, ())
    by_key = {m.key: m for m in version.modules}
    return [module, *(by_key[key] for key in keys if key in by_key)]


def required_keys(version: FrameworkVersion) -> list[str]:
    """Every module key whose completions the required items are judged from."""
    return [part.key for module in required_modules(version) for part in parts_of(module, version)]


def completion_expiry(completed_on: date, module: Module) -> date | None:
    """When a completion of `module` on `completed_on` must be repeated (None: never).

    The one rule for a completion's expiry: calendar months after the completion, the day
    clamped to the month's end (`common.dates.add_months`)."""
    if module.refresh_months is None:
        return None
    return add_months(completed_on, module.refresh_months)


def standing_status(expires_on: date | None, completed: bool, today: date, window_days: int) -> str:
    """The standing of one person's required module on `today`."""
    if not completed:
        return DUE
    if expires_on is None:
        return IN_DATE
    if expires_on <= today:
        return OVERDUE
    if (expires_on - today).days <= window_days:
        return EXPIRING
    return IN_DATE


def judge_completion(
    completed_on: date | None, module: Module, today: date, window_days: int
) -> tuple[date | None, str]:
    """A person's latest completion of a required module (None: never) judged on `today`:
    (when it must be repeated, the standing)."""
    expires_on = completion_expiry(completed_on, module) if completed_on else None
    return expires_on, standing_status(expires_on, completed_on is not None, today, window_days)


def most_urgent(statuses: Iterable[str]) -> str:
    return min(statuses, key=lambda status: URGENCY[status])


@dataclass(frozen=True)
class PartStanding:
    """One part of a required item (the e-learning, the face-to-face day) for one person.
    `future_on`: a stored completion dated after today, which does not count (to correct)."""

    module: Module
    completed_on: date | None
    expires_on: date | None
    status: str
    future_on: date | None = None

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def tag_class(self) -> str:
        return STATUS_TAGS[self.status]


@dataclass(frozen=True)
class Standing:
    """One person's standing on one required item (led by `module`): with several parts,
    the earliest completion and repeat date of its parts and the most urgent standing."""

    person: User
    module: Module
    completed_on: date | None
    expires_on: date | None
    status: str
    parts: tuple[PartStanding, ...] = ()

    @property
    def has_parts(self) -> bool:
        return len(self.parts) > 1

    def part_name(self, part: PartStanding) -> str:
        """A part named within its item: the words after the title both share ("Tier 2
        one-day face-to-face training (part 2)"), else its whole title."""
        lead, _sep, _rest = self.module.title.partition(": ")
        head, sep, rest = part.module.title.partition(": ")
        return rest if sep and head == lead and rest else part.module.title

    @property
    def future_dated(self) -> list[PartStanding]:
        """Parts with a completion dated in the future: not counted, to be corrected."""
        return [part for part in self.parts if part.future_on is not None]

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def tag_class(self) -> str:
        return STATUS_TAGS[self.status]

    @property
    def compliant(self) -> bool:
        return self.status in COMPLIANT


def counted_until(today: date | None = None) -> date:
    """The last completion date that counts when judging on `today`: never after the real
    today (a row dated later was stored before such dates were refused)."""
    real = today_in_london()
    return real if today is None else min(today, real)


def latest_completions(
    person_ids: Sequence[int], module_keys: Iterable[str], up_to: date | None = None
) -> dict:
    """(person id, module key) -> the latest completion date on or before `up_to` (today
    when not given; never after today), one grouped query per chunk."""
    return _completions(person_ids, module_keys, func.max, counted_until(up_to), before=True)


def future_completions(person_ids: Sequence[int], module_keys: Iterable[str]) -> dict:
    """(person id, module key) -> the latest completion dated after today: stored before
    such dates were refused, counted nowhere, shown flagged for correction."""
    return _completions(person_ids, module_keys, func.max, today_in_london(), before=False)


def _completions(person_ids, module_keys, aggregate, day: date, before: bool) -> dict:
    keys = list(module_keys)
    found: dict[tuple[int, str], date] = {}
    if not keys:
        return found
    on_side = (
        ModuleCompletion.completed_on <= day if before else ModuleCompletion.completed_on > day
    )
    for part in chunks(list(person_ids)):
        rows = db.session.execute(
            select(
                ModuleCompletion.person_id,
                ModuleCompletion.module_key,
                aggregate(ModuleCompletion.completed_on),
            )
            .where(
                ModuleCompletion.person_id.in_(part),
                ModuleCompletion.module_key.in_(keys),
                on_side,
            )
            .group_by(ModuleCompletion.person_id, ModuleCompletion.module_key)
        )
        for person_id, key, completed_on in rows:
            found[(person_id, key)] = completed_on
    return found


def standings_for(
    people: Sequence[User], version: FrameworkVersion, today: date | None = None
) -> dict[tuple[int, str], Standing]:
    """(person id, module key) -> the standing of every person on every required item."""
    keys = required_keys(version)
    ids = [p.id for p in people]
    latest = latest_completions(ids, keys, today)
    future = future_completions(ids, keys)
    return standings_from(people, latest, version, today or today_in_london(), future)


def person_standings(
    person: User, version: FrameworkVersion, today: date | None = None
) -> list[Standing]:
    """`person`'s standing on each required module, in catalogue order."""
    standings = standings_for([person], version, today)
    return [standings[(person.id, m.key)] for m in required_modules(version)]


def _percent(part: int, whole: int) -> int:
    """A whole-number percentage, rounded down (so 99.6% never reads as 100%)."""
    return part * 100 // whole if whole else 100


@dataclass
class ModuleCompliance:
    """Per required module: each person's standing and the counts."""

    module: Module
    standings: list[Standing] = field(default_factory=list)

    @property
    def parts(self) -> list[tuple[str, Module]]:
        """(name within the item, module) of each part, when the item has several."""
        first = self.standings[0] if self.standings else None
        if first is None or not first.has_parts:
            return []
        return [(first.part_name(part), part.module) for part in first.parts]

    def by_urgency(self) -> list[Standing]:
        """Overdue first, then never done, expiring, in date; by name within each."""
        return sorted(self.standings, key=lambda s: (URGENCY[s.status], s.person.name))

    def with_status(self, status: str) -> list[Standing]:
        return [s for s in self.standings if s.status == status]

    @property
    def compliant(self) -> int:
        return sum(1 for s in self.standings if s.compliant)

    @property
    def people(self) -> int:
        return len(self.standings)

    @property
    def percent(self) -> int:
        return _percent(self.compliant, self.people)

    @property
    def counts(self) -> dict[str, int]:
        return {status: len(self.with_status(status)) for status in STATUS_LABELS}


class _Totals:
    """Compliance figures summed over `modules` (each with `compliant` and `people`)."""

    modules: Sequence

    @property
    def compliant(self) -> int:
        """(person, module) pairs in date or expiring."""
        return sum(m.compliant for m in self.modules)

    @property
    def required(self) -> int:
        """(person, module) pairs required."""
        return sum(m.people for m in self.modules)

    @property
    def percent(self) -> int:
        return _percent(self.compliant, self.required)


@dataclass
class Compliance(_Totals):
    """Required-training compliance of a group of people (a team, or the organisation)."""

    people: list[User]
    modules: list[ModuleCompliance]
    today: date

    @property
    def standings(self) -> list[Standing]:
        return [s for m in self.modules for s in m.standings]

    @property
    def fully_compliant(self) -> int:
        """People in date (or expiring) on every required module."""
        failing = {s.person.id for s in self.standings if not s.compliant}
        return sum(1 for p in self.people if p.id not in failing)

    def count(self, status: str) -> int:
        return sum(1 for s in self.standings if s.status == status)

    def of_person(self, person: User) -> list[Standing]:
        return [s for s in self.standings if s.person.id == person.id]


def _compliance(
    people: list[User], standings: dict, version: FrameworkVersion, today: date
) -> Compliance:
    modules = [
        ModuleCompliance(m, [standings[(p.id, m.key)] for p in people])
        for m in required_modules(version)
    ]
    return Compliance(people, modules, today)


def compliance_for(
    people: Sequence[User], version: FrameworkVersion, today: date | None = None
) -> Compliance:
    """Compliance of `people` (each person once) on the version's required modules."""
    today = today or today_in_london()
    unique = list({p.id: p for p in people}.values())
    return _compliance(unique, standings_for(unique, version, today), version, today)


def team_keyworkers(team: Team, now: datetime | None = None) -> list[User]:
    """The team's keyworkers who have not left (the same people as the coverage page)."""
    return team_members(team, Role.PRACTITIONER, on=now or utcnow())


def team_compliance(team: Team, version: FrameworkVersion, now: datetime | None = None):
    now = now or utcnow()
    return compliance_for(team_keyworkers(team, now), version, london_day(now))


def keyworker_teams(organisation_id: int | None = None) -> list[Team]:
    """Teams with at least one keyworker, by name: those `organisation_id` hosts (None:
    every organisation's, for the command line)."""
    return list(
        db.session.scalars(
            select(Team)
            .where(
                scope.hosted_by(organisation_id),
                Team.id.in_(
                    select(RoleAssignment.team_id).where(RoleAssignment.role == Role.PRACTITIONER)
                ),
            )
            .order_by(Team.name)
        )
    )


def _keyworkers(what, now: datetime | None, organisation_id: int | None = None):
    """Every active keyworker who counts on `now`'s day (started, not left), in any team,
    once each: those `organisation_id` employs (None: everyone)."""
    day = (now or utcnow()).date()  # as `team_members` reads start and leaving dates
    return select(what).where(
        User.active,
        counted_on(day),
        scope.employed_by(organisation_id),
        User.id.in_(select(RoleAssignment.user_id).where(RoleAssignment.role == Role.PRACTITIONER)),
    )


def organisation_keyworkers(
    now: datetime | None = None, organisation_id: int | None = None
) -> list[User]:
    """Every active keyworker who has not left, in any team, once each, by name: those
    `organisation_id` employs (None: everyone)."""
    return list(
        db.session.scalars(_keyworkers(User, now, organisation_id).order_by(User.name, User.id))
    )


def _hosted_keyworkers(now: datetime, organisation_id: int | None) -> list[User]:
    """The keyworkers of the teams `organisation_id` hosts, secondees included."""
    day = now.date()
    hosted = select(Team.id).where(scope.hosted_by(organisation_id))
    return list(
        db.session.scalars(
            select(User).where(
                User.active,
                counted_on(day),
                User.id.in_(
                    select(RoleAssignment.user_id).where(
                        RoleAssignment.role == Role.PRACTITIONER,
                        RoleAssignment.team_id.in_(hosted),
                    )
                ),
            )
        )
    )


@dataclass
class OrganisationCompliance:
    overall: Compliance
    teams: list[tuple[Team, Compliance]]


def organisation_compliance(
    version: FrameworkVersion, now: datetime | None = None, organisation_id: int | None = None
) -> OrganisationCompliance:
    """The organisation's figure (each keyworker it employs once) and each team's it hosts
    (secondees included, as on the team's page), from one reading of the completions.
    `organisation_id` None: the whole installation."""
    now = now or utcnow()
    today = london_day(now)
    people = organisation_keyworkers(now, organisation_id)
    by_id = {p.id: p for p in people}
    if organisation_id is not None:
        by_id.update({p.id: p for p in _hosted_keyworkers(now, organisation_id)})
    standings = standings_for(list(by_id.values()), version, today)
    members: dict[int, list[User]] = {}
    for team_id, user_id in db.session.execute(
        select(RoleAssignment.team_id, RoleAssignment.user_id).where(
            RoleAssignment.role == Role.PRACTITIONER
        )
    ):
        if user_id in by_id and team_id is not None:
            members.setdefault(team_id, []).append(by_id[user_id])
    teams = []
    for team in keyworker_teams(organisation_id):
        team_people = sorted(
            {p.id: p for p in members.get(team.id, [])}.values(), key=lambda p: (p.name, p.id)
        )
        teams.append((team, _compliance(team_people, standings, version, today)))
    return OrganisationCompliance(_compliance(people, standings, version, today), teams)


# ---- figures read in bulk (the organisation workbook) -------------------------------------


def judge_item(
    person_id: int,
    module: Module,
    parts: Sequence[Module],
    latest: dict,
    today: date,
    window_days: int,
    future: dict | None = None,
    real_today: date | None = None,
) -> tuple[date | None, date | None, str, tuple[PartStanding, ...]]:
    """A person's required item (led by `module`, made of `parts`) judged on `today`:
    (earliest completion of its parts or None if a part was never done, the earliest
    repeat date, the most urgent standing, each part's standing). Each part is repeated
    every `module.refresh_months`. A completion in `latest` dated after the real today is
    treated as never done and flagged. (`real_today`: `counted_until(today)`, when the
    caller judging many items has it.)"""
    real_today = real_today or counted_until(today)
    judged = []
    for part in parts:
        completed_on = latest.get((person_id, part.key))
        future_on = (future or {}).get((person_id, part.key))
        if completed_on is not None and completed_on > real_today:
            future_on, completed_on = completed_on, None
        expires_on, status = judge_completion(completed_on, module, today, window_days)
        judged.append(PartStanding(part, completed_on, expires_on, status, future_on))
    done = [p.completed_on for p in judged if p.completed_on is not None]
    expiries = [p.expires_on for p in judged if p.expires_on is not None]
    status = most_urgent(p.status for p in judged)
    return (
        min(done) if len(done) == len(judged) else None,
        # the earliest repeat date; none while a part was never done (unless another part
        # is overdue: then its date has passed)
        min(expiries) if expiries and status != DUE else None,
        status,
        tuple(judged),
    )


def standings_from(
    people: Sequence[User],
    latest: dict,
    version: FrameworkVersion,
    today: date,
    future: dict | None = None,
) -> dict[tuple[int, str], Standing]:
    """`standings_for(people, version, today)` from latest completions already read
    (`latest`: (person id, module key) -> the latest completion date, as
    `latest_completions` gives; `future`: completions dated after today, flagged)."""
    items = [(module, parts_of(module, version)) for module in required_modules(version)]
    window = version.settings.expiring_soon_days
    real_today = counted_until(today)
    result = {}
    for person in people:
        for module, parts in items:
            completed_on, expires_on, status, judged = judge_item(
                person.id, module, parts, latest, today, window, future, real_today
            )
            result[(person.id, module.key)] = Standing(
                person, module, completed_on, expires_on, status, judged
            )
    return result


def compliance_from(
    people: Sequence[User], latest: dict, version: FrameworkVersion, today: date
) -> Compliance:
    """`compliance_for(people, version, today)` from latest completions already read."""
    unique = list({p.id: p for p in people}.values())
    return _compliance(unique, standings_from(unique, latest, version, today), version, today)


@dataclass
class ModuleCounts:
    """A required module's standings counted, without the standings themselves."""

    module: Module
    counts: dict[str, int]  # status -> people

    @property
    def compliant(self) -> int:
        return sum(n for status, n in self.counts.items() if status in COMPLIANT)

    @property
    def people(self) -> int:
        return sum(self.counts.values())

    @property
    def percent(self) -> int:
        return _percent(self.compliant, self.people)


@dataclass
class ComplianceCounts(_Totals):
    """A `Compliance`'s figures (per module and overall) without its people and standings:
    what a compliance row of a workbook says."""

    modules: list[ModuleCounts]
    people: int
    fully_compliant: int

    @classmethod
    def of(cls, compliance: Compliance) -> ComplianceCounts:
        return cls(
            [ModuleCounts(m.module, m.counts) for m in compliance.modules],
            len(compliance.people),
            compliance.fully_compliant,
        )


def organisation_compliance_counts(
    version: FrameworkVersion,
    now: datetime | None = None,
    chunk: int = 900,
    organisation_id: int | None = None,
) -> ComplianceCounts:
    """The figures of `compliance_for(organisation_keyworkers(now), version, london_day(now))`
    counted from the keyworkers' ids, streamed and read a chunk at a time: memory stays
    flat however many keyworkers the organisation has."""
    now = now or utcnow()
    today = london_day(now)
    modules = required_modules(version)
    items = [(module, parts_of(module, version)) for module in modules]
    window = version.settings.expiring_soon_days
    counts = {m.key: dict.fromkeys(STATUS_LABELS, 0) for m in modules}
    people = fully = 0
    real_today = counted_until(today)
    ids = db.session.execute(
        _keyworkers(User.id, now, organisation_id).execution_options(yield_per=chunk)
    )
    for part in ids.scalars().partitions(chunk):
        latest = latest_completions(list(part), required_keys(version), today)
        for person in part:
            people += 1
            compliant = True
            for module, parts in items:
                _done, _expires_on, status, _parts = judge_item(
                    person, module, parts, latest, today, window, real_today=real_today
                )
                counts[module.key][status] += 1
                compliant = compliant and status in COMPLIANT
            fully += compliant
    return ComplianceCounts([ModuleCounts(m, counts[m.key]) for m in modules], people, fully)
